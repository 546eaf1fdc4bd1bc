"""Properties over generated topologies: every combination renders, stays inside the charts' values, and is judged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.charts import paths
from krm_fn.checks.topology import check_topology
from tests.helpers import config_with, context

STORE = {"endpoint": "minio.storage.svc:9000", "buckets": {"lokiChunks": "chunks", "lokiRuler": "ruler"}}
replicas = st.integers(min_value=1, max_value=7)
OLDEST = {"kube-prometheus-stack": {"version": "82.18.0"}, "loki": {"version": "6.55.0"}}


@st.composite
def topologies(draw) -> dict:
    spec: dict = {"profile": draw(st.sampled_from(["single-node", "ha"])), "objectStorage": STORE}
    if draw(st.booleans()):
        spec["nodes"] = draw(replicas)
    spec["prometheus"] = {"replicas": draw(replicas)} if draw(st.booleans()) else {}
    spec["alertmanager"] = {"replicas": draw(replicas)} if draw(st.booleans()) else {}
    loki: dict = {}
    if draw(st.booleans()):
        loki["mode"] = draw(st.sampled_from(["SingleBinary", "Monolithic", "SimpleScalable"]))
    if draw(st.booleans()):
        loki["replicas"] = draw(replicas)
    if draw(st.booleans()):
        loki["replicationFactor"] = draw(replicas)
    spec["loki"] = loki
    spec["thanos"] = {"enabled": draw(st.booleans())} if draw(st.booleans()) else {}
    grafana: dict = {}
    if draw(st.booleans()):
        grafana["replicas"] = draw(replicas)
    if draw(st.booleans()):
        grafana["database"] = {"urlKey": "grafana-database-url"}
    spec["grafana"] = grafana
    # The newest releases (the defaults) or the oldest supported ones: the values must be known to either.
    spec["charts"] = draw(st.sampled_from([{}, OLDEST]))
    return spec


@settings(max_examples=60, deadline=None)
@given(topologies())
def test_every_topology_renders_known_values_and_is_judged(spec: dict):
    config = config_with(**spec)
    loaded, errors = config_model.load(config)
    assert loaded is not None, [e.message for e in errors]
    for obj in components.generate(loaded):
        if obj["kind"] != "HelmRelease":
            continue
        chart = obj["spec"]["chart"]["spec"]
        assert paths.unknown_paths(chart["chart"], chart["version"], obj["spec"]["values"]) == []
    findings = list(check_topology(context(config=config)))
    topology = loaded.topology
    inconsistent = (
        topology.loki_mode == "SingleBinary" and (topology.loki_replicas > 1 or topology.loki_replication_factor != 1)
    ) or (topology.loki_replication_factor > topology.loki_replicas)
    errors_found = [r for r in findings if r.severity.value == "error"]
    if inconsistent:
        assert errors_found
    if topology.nodes is None and not inconsistent:
        assert not errors_found
