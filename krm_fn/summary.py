"""`observability-fn render --summary`: what the profile runs and what it asks of the nodes.

Computed from the same Config the components read: per component the pod count and its
container requests and limits (as the function sets them), and totals. A DaemonSet (node-exporter)
counts once per node: spec.nodes when declared, else 1 (said so). Containers the function does not size
(the Thanos sidecar, Loki's gateway, the operator, Grafana's sidecars) are listed as unsized.
The same rows draw the README's Mermaid picture (`diagram`, scripts/scaling_diagram.py).
"""

from __future__ import annotations

from krm_fn.config import Config, Workload
from krm_fn.quantity import quantity
from krm_fn.record import Record


class Row(Record):
    name: str
    pods: int
    per_node: bool
    workload: Workload | None  # None: not sized by the function
    group: str  # metrics | logs | alerting | ui


def rows(config: Config) -> list[Row]:
    """Every pod the stack runs, with its sizing."""
    topology = config.topology
    nodes = topology.nodes or 1
    out = [
        Row("prometheus", topology.prometheus_replicas, False, config.prometheus, "metrics"),
        Row("alertmanager", topology.alertmanager_replicas, False, config.alertmanager, "alerting"),
        Row("kube-state-metrics", 1, False, config.kube_state_metrics, "metrics"),
        Row("node-exporter", nodes, True, config.node_exporter, "metrics"),
    ]
    if config.grafana_operator is None:  # in operator mode your grafana-operator instance runs Grafana
        out.insert(2, Row("grafana", topology.grafana_replicas, False, config.grafana, "ui"))
    if topology.loki_mode == "SimpleScalable":
        from krm_fn.components import loki_scalable  # start-up budget: docs/startup.md (only this branch needs it)

        out += [
            Row(f"loki-{t}", topology.loki_replicas, False, config.loki, "logs") for t in ("write", "read", "backend")
        ]
        out.append(Row("loki-gateway", loki_scalable.GATEWAY_REPLICAS, False, None, "logs"))
    else:
        out.append(Row("loki", topology.loki_replicas, False, config.loki, "logs"))
    from krm_fn.components import alloy  # start-up budget: docs/startup.md (render --summary only)

    out.append(Row("alloy", alloy.REPLICAS, False, config.alloy, "logs"))
    if topology.thanos:
        from krm_fn.components import thanos  # start-up budget: docs/startup.md (the ha profile only)

        out += [
            Row("thanos-query", thanos.QUERY_REPLICAS, False, config.thanos, "metrics"),
            Row("thanos-store-gateway", thanos.STORE_GATEWAY_REPLICAS, False, config.thanos, "metrics"),
            Row("thanos-compact", 1, False, config.thanos, "metrics"),
        ]
    return out


def _fmt_cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m" if cores else "-"


def _fmt_mem(size: float) -> str:
    return f"{round(size / 1024**2)}Mi" if size else "-"


def _amounts(workload: Workload | None) -> tuple[float, float, float, float]:
    if workload is None:
        return 0.0, 0.0, 0.0, 0.0
    req, lim = workload.resources.requests, workload.resources.limits
    return tuple(
        quantity(d[k]) if k in d else 0.0 for d, k in ((req, "cpu"), (req, "memory"), (lim, "cpu"), (lim, "memory"))
    )  # type: ignore[return-value]


def text(config: Config) -> str:
    """The table: per component, then the total."""
    topology = config.topology
    nodes = f"{topology.nodes} node(s), spec.nodes" if topology.nodes else "1 node assumed (set spec.nodes)"
    lines = [
        f"profile {topology.profile}; DaemonSets counted on {nodes}",
        f"{'component':<26}{'pods':>5}  {'cpu req':>8}  {'mem req':>8}  {'cpu lim':>8}  {'mem lim':>8}",
    ]
    totals = [0.0, 0.0, 0.0, 0.0]
    unsized = []
    for row in rows(config):
        if row.workload is None:
            unsized.append(row.name)
        amounts = [a * row.pods for a in _amounts(row.workload)]
        totals = [t + a for t, a in zip(totals, amounts, strict=True)]
        name = row.name + (" (per node)" if row.per_node else "")
        lines.append(
            f"{name:<26}{row.pods:>5}  {_fmt_cpu(amounts[0]):>8}  {_fmt_mem(amounts[1]):>8}  "
            f"{_fmt_cpu(amounts[2]):>8}  {_fmt_mem(amounts[3]):>8}"
        )
    pods = sum(r.pods for r in rows(config))
    lines.append(
        f"{'total':<26}{pods:>5}  {_fmt_cpu(totals[0]):>8}  {_fmt_mem(totals[1]):>8}  "
        f"{_fmt_cpu(totals[2]):>8}  {_fmt_mem(totals[3]):>8}"
    )
    lines.append("'-': not set by the function")
    if unsized:
        lines.append(f"not sized by the function (chart defaults): {', '.join(unsized)}")
    if topology.thanos:
        lines.append("not counted: the Thanos sidecar in each Prometheus pod (the operator's defaults)")
    return "\n".join(lines) + "\n"


def diagram(config: Config) -> str:
    """A Mermaid flowchart of the profile: the components, their pod counts and who talks to whom."""
    present = {row.name: row for row in rows(config)}
    topology = config.topology

    def node(name: str) -> str:
        row = present[name]
        count = "per node" if row.per_node else f"x{row.pods}"
        return f'  {name.replace("-", "_")}["{name} {count}"]'

    lines = ["flowchart LR"]
    lines += [node(name) for name in present]
    loki_in = "loki_gateway" if topology.loki_mode == "SimpleScalable" else "loki"
    edges = ["alloy --> " + loki_in, "prometheus --> alertmanager", "grafana --> " + loki_in]
    edges += ["prometheus --> node_exporter", "prometheus --> kube_state_metrics"]
    if topology.loki_mode == "SimpleScalable":
        edges += [
            "loki_gateway --> loki_write",
            "loki_gateway --> loki_read",
            "loki_write --> bucket",
            "loki_read --> bucket",
        ]
        edges += ["loki_backend --> bucket"]
    elif topology.loki_mode == "Monolithic":
        edges.append("loki --> bucket")
    if topology.thanos:
        edges += ["grafana --> thanos_query", "thanos_query --> prometheus", "thanos_query --> thanos_store_gateway"]
        edges += ["prometheus --> bucket", "thanos_store_gateway --> bucket", "thanos_compact --> bucket"]
    else:
        edges.append("grafana --> prometheus")
    if any("bucket" in e for e in edges):
        lines.append('  bucket[("object storage")]')
    lines += [f"  {edge}" for edge in edges]
    return "\n".join(lines) + "\n"


def run(paths: list[str]) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of `render --summary PATHS`: the table for the config among them."""
    # start-up budget: docs/startup.md (render --summary only; the render path never loads these)
    from krm_fn import config as config_model
    from krm_fn.files import read_items
    from krm_fn.protocol import stderr_lines

    items, results = read_items(paths)
    if results:
        return "", stderr_lines(results), 1
    configs = [i for i in items if i.kind == config_model.KIND]
    if len(configs) != 1:
        return "", f"observability-fn render --summary: expected one {config_model.KIND} in {' '.join(paths)}\n", 1
    item = configs[0]
    loaded, errors = config_model.load(item.obj, item.location(), item.location)
    if loaded is None:
        return "", stderr_lines(errors), 1
    return text(loaded), "", 0
