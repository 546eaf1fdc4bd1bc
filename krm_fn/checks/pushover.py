"""Rule `pushover-emergency`: emergency (priority 2) retry and expire within what Pushover's API allows.

Pushover's API (pushover.net/api#priority, "Emergency Priority"): `retry` "must have a value of at
least 30 seconds", `expire` "must have a maximum value of at most 10800 seconds (3 hours)".
Outside those bounds the API refuses the message and the page never arrives. (retry/expire below
priority 2 are refused by the config schema: Pushover ignores them there.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, rule
from krm_fn.results import Result, Severity

RULE = "pushover-emergency"
MIN_RETRY_SECONDS = 30
MAX_EXPIRE_SECONDS = 10800

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


def seconds(duration: str) -> float:
    """A Prometheus-style duration (the schema's promDuration) in seconds."""
    return sum(int(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(duration))


@rule(RULE, Severity.WARNING, "Pushover emergency retry is at least 30s and expire at most 3h, as the API requires")
def check_pushover(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None or not config.alerting.pushover.enabled:
        return
    pushover = config.alerting.pushover
    for name, level in (("critical", pushover.critical), ("warning", pushover.warning), ("flux", pushover.flux)):
        field = f"spec.alerting.pushover.{name}"
        if level.retry and seconds(level.retry) < MIN_RETRY_SECONDS:
            yield on_config(
                RULE,
                Severity.WARNING,
                f"retry {level.retry} is below Pushover's minimum of 30s: the API refuses the emergency message; "
                "set retry: 30s or more",
                config,
                f"{field}.retry",
            )
        if level.expire and seconds(level.expire) > MAX_EXPIRE_SECONDS:
            yield on_config(
                RULE,
                Severity.WARNING,
                f"expire {level.expire} is above Pushover's maximum of 3h: the API refuses the emergency message; "
                "set expire: 3h or less",
                config,
                f"{field}.expire",
            )
