"""`observability-fn verify CONFIG`: the seed plan's validation steps, run against the live cluster.

Reads the stack the config describes (the same components `render` uses), asks the cluster through
the user's `kubectl` (their kubeconfig, their permissions; nothing is installed in the cluster), and
prints one line per check: ✓ or ✗, and on ✗ the command that shows more.
"""

from __future__ import annotations

from collections.abc import Callable

from krm_fn import config as config_model
from krm_fn.files import read_items
from krm_fn.protocol import Outcome, stderr_lines
from krm_fn.verify import logs, metrics, objects, report
from krm_fn.verify.kube import Kube
from krm_fn.verify.report import Check
from krm_fn.verify.stack import Expected

# The checks run once the cluster is reachable, in the report's order; `run` adds the routes and the test alert.
ALL: tuple[Callable[[Kube, Expected], list[Check]], ...] = (
    objects.flux_kustomizations,
    objects.sources,
    objects.helm_releases,
    metrics.prometheus_targets,
    metrics.prometheus_rules,
    metrics.alertmanager_config,
    metrics.heartbeat,
    logs.grafana,
    logs.loki_logs,
    logs.alloy_components,
    objects.replicas,
    metrics.thanos_stores,
)


def run(
    config_path: str,
    context: str | None = None,
    kubectl: str = "kubectl",
    dns: bool = False,
    send_test_alert: bool = False,
    output_format: str = "text",
) -> Outcome:
    """Every check; exit 1 when any fails (or the config does not load)."""
    config, problems = _load(config_path)
    if config is None:
        return Outcome("", problems, 1)
    expected = Expected(config)
    kube = Kube(kubectl, context)
    found = objects.reachable(kube)
    if all(c.ok for c in found):
        for check in ALL:
            found.extend(check(kube, expected))
        found.extend(objects.routes(kube, expected, dns=dns))
        if send_test_alert:
            found.append(metrics.send_test_alert(kube, expected))
    failed = sum(not c.ok for c in found)
    if output_format == "json":
        return Outcome(report.to_json(found), "", 1 if failed else 0)
    lines = []
    for c in found:
        lines.append(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}")
        if not c.ok and c.advice:
            lines.append(f"    → {c.advice}")
    summary = f"verify: {len(found)} checks, {len(found) - failed} passed, {failed} failed"
    return Outcome("\n".join([*lines, summary]) + "\n", "", 1 if failed else 0)


def _load(path: str) -> tuple[config_model.Config | None, str]:
    items, results = read_items([path])
    if results:
        return None, stderr_lines(results)
    configs = [i for i in items if config_model.is_config(i.obj)]
    if len(configs) != 1:
        return None, f"{path}: expected one {config_model.KIND}, found {len(configs)}\n"
    item = configs[0]
    config, errors = config_model.load(item.obj, item.location(), item.location)
    if config is None:
        return None, stderr_lines(errors)
    return config, ""
