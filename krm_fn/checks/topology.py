"""Rule `ha-topology`: replicas, Loki's mode and replication factor, and the declared nodes fit together.

What breaks HA in practice, and that the schema alone cannot see because the profile picks the
defaults: a Loki single binary with more than one replica (its filesystem store is not shared),
a replication factor the write replicas cannot satisfy, and more replicas than nodes to put them on.
Loki's read, write, backend and gateway pods carry a hard anti-affinity on the node (loki-6.55.0
values.yaml:1145, 1666, 1807, 1936): one pod too many stays Pending. Prometheus and Alertmanager
replicas only prefer separate nodes (soft): two on one node run, and a single node failure takes both.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, rule
from krm_fn.components import loki_scalable
from krm_fn.results import Result, Severity

RULE = "ha-topology"


@rule(RULE, Severity.ERROR, "Replicas, Loki's mode and replication factor and spec.nodes are consistent")
def check_topology(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    topology = config.topology

    def finding(severity: Severity, field: str, message: str) -> Result:
        return Result(RULE, severity, message, config.ref, field, config.location)

    rf = topology.loki_replication_factor
    if topology.loki_mode == "SingleBinary":
        if topology.loki_replicas > 1:
            yield finding(
                Severity.ERROR,
                "spec.loki.replicas",
                f"Loki SingleBinary runs one replica (its filesystem store cannot be shared), not "
                f"{topology.loki_replicas}: set spec.loki.mode: SimpleScalable (with spec.objectStorage) "
                "or drop replicas",
            )
        if rf != 1:
            yield finding(
                Severity.ERROR,
                "spec.loki.replicationFactor",
                f"replicationFactor {rf} needs as many write replicas, and SingleBinary has one: "
                "set replicationFactor: 1, or spec.loki.mode: SimpleScalable",
            )
    else:
        if rf > topology.loki_replicas:
            yield finding(
                Severity.ERROR,
                "spec.loki.replicationFactor",
                f"replicationFactor {rf} is more than the {topology.loki_replicas} write replicas: every push "
                f"fails; set spec.loki.replicationFactor to at most {topology.loki_replicas}",
            )
        elif rf == 2:
            yield finding(
                Severity.WARNING,
                "spec.loki.replicationFactor",
                "replicationFactor 2 needs both copies written (quorum 2 of 2): one write replica down stops "
                "ingestion; use 3 (quorum 2) or 1",
            )
    if topology.nodes is None:
        return
    nodes = topology.nodes
    if topology.loki_mode == "SimpleScalable":
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
    for field, replicas, what in (
        ("spec.prometheus.replicas", topology.prometheus_replicas, "Prometheus"),
        ("spec.alertmanager.replicas", topology.alertmanager_replicas, "Alertmanager"),
    ):
        if replicas > nodes:
            yield finding(
                Severity.WARNING,
                field,
                f"{replicas} {what} replicas on {nodes} node(s): some share a node, and losing that node loses "
                f"them together; set spec.{field.split('.')[1]}.replicas to at most {nodes}",
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
            yield Result(
                VOLUMES_RULE,
                Severity.WARNING,
                f"{'.'.join(path)}: false: {lost}; drop the override",
                config.ref,
                f"spec.values.{chart}.{'.'.join(path)}",
                config.location,
            )
    storage = _at(config.values["kube-prometheus-stack"], ("prometheus", "prometheusSpec", "storageSpec"))
    if isinstance(storage, dict) and "emptyDir" in storage:
        yield Result(
            VOLUMES_RULE,
            Severity.WARNING,
            "Prometheus on an emptyDir loses its samples on every restart"
            + (" (up to the 2h the sidecar has not uploaded yet)" if config.topology.thanos else "")
            + "; drop storageSpec.emptyDir to keep the generated volumeClaimTemplate",
            config.ref,
            "spec.values.kube-prometheus-stack.prometheus.prometheusSpec.storageSpec",
            config.location,
        )
