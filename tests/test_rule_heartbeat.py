"""The `heartbeat-missing` rule: Pushover on without a dead-man's switch."""

from __future__ import annotations

from krm_fn.checks.heartbeat import check_heartbeat
from tests.helpers import config_with, context


def findings(alerting: dict) -> list[tuple[str, str | None]]:
    return [(r.severity.value, r.field) for r in check_heartbeat(context(config=config_with(alerting=alerting)))]


def test_the_default_config_warns():
    (result,) = check_heartbeat(context())
    assert (result.severity.value, result.field) == ("warning", "spec.alerting.heartbeat")
    assert "healthchecks.io" in result.message and "Gatus" in result.message
    assert "docs/operations/heartbeat.md" in result.message


def test_a_heartbeat_silences_it():
    assert findings({"heartbeat": {}}) == []


def test_without_pushover_there_is_no_phone_to_keep_quiet():
    assert findings({"pushover": {"enabled": False}}) == []
