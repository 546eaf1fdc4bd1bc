"""Rule `heartbeat-missing`: Pushover is on and no dead-man's switch watches the alert path itself.

Every push comes from Prometheus through Alertmanager. When either dies (OOM loop, its node down),
or Pushover refuses the key, nothing is sent and nothing says so: the phone stays quiet, as it
does when all is well. The always-firing Watchdog alert, sent to an outside check
(spec.alerting.heartbeat), turns that silence into a push from the outside service.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, rule
from krm_fn.results import Result, Severity

RULE = "heartbeat-missing"
DOCS = "docs/operations/heartbeat.md"


@rule(RULE, Severity.WARNING, "Pushover on without a heartbeat: a dead Prometheus or Alertmanager would go unnoticed")
def check_heartbeat(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None or not config.alerting.pushover.enabled or config.alerting.heartbeat is not None:
        return
    yield on_config(
        RULE,
        Severity.WARNING,
        "no heartbeat: if Prometheus or Alertmanager stops (an OOM loop, a dead node) or Pushover refuses the "
        "key, no push says so and the phone stays as quiet as when all is well; set spec.alerting.heartbeat: {} "
        "and put a healthchecks.io ping URL or a Gatus external endpoint URL in the Secret key heartbeat-url "
        f"(two minutes: {DOCS})",
        config,
        "spec.alerting.heartbeat",
    )
