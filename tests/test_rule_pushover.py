"""The `pushover-emergency` rule: emergency retry/expire within the bounds of Pushover's API."""

from __future__ import annotations

import pytest

from krm_fn.checks.pushover import check_pushover, seconds
from tests.helpers import config_with, context


def findings(critical: dict, enabled: bool = True) -> list[tuple[str, str | None]]:
    config = config_with(alerting={"pushover": {"enabled": enabled, "critical": critical}})
    return [(r.severity.value, r.field) for r in check_pushover(context(config=config))]


def test_the_default_config_has_no_finding():
    assert list(check_pushover(context())) == []


def test_emergency_within_bounds_passes():
    assert findings({"priority": 2, "retry": "30s", "expire": "3h"}) == []


def test_retry_below_30s_and_expire_above_3h_warn():
    assert findings({"priority": 2, "retry": "29s", "expire": "3h1s"}) == [
        ("warning", "spec.alerting.pushover.critical.retry"),
        ("warning", "spec.alerting.pushover.critical.expire"),
    ]


def test_pushover_off_is_not_checked():
    assert findings({"priority": 2, "retry": "1s", "expire": "1d"}, enabled=False) == []


@pytest.mark.parametrize(("text", "value"), [("30s", 30), ("1m30s", 90), ("3h", 10800), ("500ms", 0.5), ("1d", 86400)])
def test_durations(text: str, value: float):
    assert seconds(text) == value
