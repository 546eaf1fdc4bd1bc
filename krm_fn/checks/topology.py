"""Rule `ha-topology`: replicas, Loki's mode and replication factor, and the declared nodes fit together.

What breaks HA in practice, and that the schema alone cannot see because the profile picks the
defaults: a Loki single binary with more than one replica (its filesystem store is not shared),
a replication factor the replicas cannot satisfy, more replicas than nodes to put them on, a
second Grafana without a shared database, a Grafana volume where Grafana runs stateless, and Loki's
SimpleScalable mode, which Loki 4 removes.
Loki's pods carry the chart's hard anti-affinity on the node (loki-6.55.0 values.yaml:1147, 1521,
1668, 1809, 1938): one pod too many stays Pending. The other components keep their replicas on
separate nodes only while spec.nodes allows it (profile.py): beyond that they share a node.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, rule
from krm_fn.components import loki_scalable, profile, thanos
from krm_fn.results import Result, Severity

RULE = "ha-topology"


@rule(RULE, Severity.ERROR, "Replicas, Loki's mode and replication factor and spec.nodes are consistent")
def check_topology(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    topology = config.topology

    def finding(severity: Severity, field: str, message: str) -> Result:
        return on_config(RULE, severity, message, config, field)

    rf = topology.loki_replication_factor
    if topology.loki_mode == "SingleBinary":
        if topology.loki_replicas > 1:
            yield finding(
                Severity.ERROR,
                "spec.loki.replicas",
                f"Loki SingleBinary runs one replica (its filesystem store cannot be shared), not "
                f"{topology.loki_replicas}: set spec.loki.mode: Monolithic (with spec.objectStorage) "
                "or drop replicas",
            )
        if rf != 1:
            yield finding(
                Severity.ERROR,
                "spec.loki.replicationFactor",
                f"replicationFactor {rf} needs as many replicas, and SingleBinary has one: "
                "set replicationFactor: 1, or spec.loki.mode: Monolithic",
            )
    else:
        writers = "replicas" if topology.loki_mode == "Monolithic" else "write replicas"
        if rf > topology.loki_replicas:
            yield finding(
                Severity.ERROR,
                "spec.loki.replicationFactor",
                f"replicationFactor {rf} is more than the {topology.loki_replicas} {writers}: every push "
                f"fails; set spec.loki.replicationFactor to at most {topology.loki_replicas}",
            )
        elif rf == 2:
            yield finding(
                Severity.WARNING,
                "spec.loki.replicationFactor",
                f"replicationFactor 2 needs both copies written (quorum 2 of 2): one of the {writers} down "
                "stops ingestion; use 3 (quorum 2) or 1",
            )
    if topology.loki_mode == "SimpleScalable":
        yield finding(
            Severity.WARNING,
            "spec.loki.mode",
            f"Loki SimpleScalable is {loki_scalable.REMOVAL}: move to spec.loki.mode: Monolithic, which keeps "
            "the same bucket (docs/ha.md, From SimpleScalable to Monolithic)",
        )
    # In grafana-operator mode the chart's Grafana is off: spec.grafana.replicas, .database and
    # .persistence do not apply.
    chart_grafana = config.grafana_operator is None
    if chart_grafana and topology.grafana_replicas > 1 and config.grafana_database is None:
        yield finding(
            Severity.WARNING,
            "spec.grafana.replicas",
            f"{topology.grafana_replicas} Grafana replicas without spec.grafana.database: each keeps its own "
            "users and sessions in its own SQLite file, so a login made on one replica is unknown to the "
            "next and users are logged out as requests move between them; set spec.grafana.database.urlKey "
            "(a MySQL or PostgreSQL database) or spec.grafana.replicas: 1",
        )
    if chart_grafana and config.grafana.persistence and profile.grafana_stateless(config):
        yield finding(
            Severity.ERROR,
            "spec.grafana.persistence",
            "Grafana gets no volume in the ha profile, with more than one replica or with spec.grafana.database "
            "(a ReadWriteOnce volume would tie it to one node, and replicas cannot share one): delete "
            "persistence: true, and keep what users make in the UI in spec.grafana.database (docs/ha.md)",
        )
    if topology.nodes is None:
        return
    nodes = topology.nodes
    hard: tuple[tuple[str, int, str], ...] = ()
    if topology.loki_mode == "Monolithic":
        hard = (("spec.loki.replicas", topology.loki_replicas, "Loki replicas"),)
    elif topology.loki_mode == "SimpleScalable":
        hard = (("spec.loki.replicas", topology.loki_replicas, "Loki read, write and backend replicas"),)
        hard += (("spec.nodes", loki_scalable.GATEWAY_REPLICAS, "Loki gateway replicas"),)
    for field, replicas, what in hard:
        if replicas > nodes:
            yield finding(
                Severity.ERROR,
                field,
                f"{replicas} {what} on {nodes} node(s): the chart keeps them on separate nodes, so "
                f"{replicas - nodes} stay Pending; lower the replicas to {nodes} or add nodes",
            )
    spread = [
        ("spec.prometheus.replicas", topology.prometheus_replicas, "Prometheus"),
        ("spec.alertmanager.replicas", topology.alertmanager_replicas, "Alertmanager"),
    ]
    if chart_grafana:
        spread.append(("spec.grafana.replicas", topology.grafana_replicas, "Grafana"))
    if topology.thanos:
        spread += [
            ("spec.nodes", thanos.QUERY_REPLICAS, "Thanos Query"),
            ("spec.nodes", thanos.STORE_GATEWAY_REPLICAS, "Thanos Store Gateway"),
        ]
    for field, replicas, what in spread:
        if replicas > nodes:
            fix = f"set {field} to at most {nodes}" if field != "spec.nodes" else "add nodes"
            yield finding(
                Severity.WARNING,
                field,
                f"{replicas} {what} replicas on {nodes} node(s): some share a node, and losing that node loses "
                f"them together; {fix}",
            )


VOLUMES_RULE = "stateful-volumes"

# spec.values paths that put a component's state on an emptyDir: (chart, path, applies, what is lost).
_NO_VOLUME = (
    (
        "loki",
        ("singleBinary", "persistence", "enabled"),
        "SingleBinary",
        "Loki's single binary then keeps every log on an emptyDir: a restart loses them all",
    ),
    (
        "loki",
        ("singleBinary", "persistence", "enabled"),
        "Monolithic",
        "Loki's single binaries then keep their write-ahead log on an emptyDir: a restart loses what they had "
        "not flushed to the bucket",
    ),
    (
        "loki",
        ("write", "persistence", "volumeClaimsEnabled"),
        "SimpleScalable",
        "Loki's write replicas then keep their WAL on an emptyDir: a restart loses what was not yet flushed",
    ),
    (
        "loki",
        ("backend", "persistence", "volumeClaimsEnabled"),
        "SimpleScalable",
        "Loki's backend then keeps the compactor's working files and the ruler's WAL on an emptyDir",
    ),
)


def _at(values: dict, path: tuple[str, ...]) -> object:
    node: object = values
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


@rule(
    VOLUMES_RULE, Severity.WARNING, "Stateful components keep a PersistentVolumeClaim (no emptyDir through spec.values)"
)
def check_volumes(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    for chart, path, mode, lost in _NO_VOLUME:
        if config.topology.loki_mode == mode and _at(config.values[chart], path) is False:
            yield on_config(
                VOLUMES_RULE,
                Severity.WARNING,
                f"{'.'.join(path)}: false: {lost}; drop the override",
                config,
                f"spec.values.{chart}.{'.'.join(path)}",
            )
    storage = _at(config.values["kube-prometheus-stack"], ("prometheus", "prometheusSpec", "storageSpec"))
    if isinstance(storage, dict) and "emptyDir" in storage:
        yield on_config(
            VOLUMES_RULE,
            Severity.WARNING,
            "Prometheus on an emptyDir loses its samples on every restart"
            + (" (up to the 2h the sidecar has not uploaded yet)" if config.topology.thanos else "")
            + "; drop storageSpec.emptyDir to keep the generated volumeClaimTemplate",
            config,
            "spec.values.kube-prometheus-stack.prometheus.prometheusSpec.storageSpec",
        )
