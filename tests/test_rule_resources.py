"""The `resources` rule: requests above limits (Kubernetes refuses them) and limits below documented minimums."""

from __future__ import annotations

import pytest

from krm_fn.checks.resources import check_resources, quantity
from tests.helpers import config_with, context


def findings(**spec) -> list[tuple[str, str | None, str]]:
    return [(r.severity.value, r.field, r.message) for r in check_resources(context(config=config_with(**spec)))]


def test_the_default_config_has_no_finding():
    assert list(check_resources(context())) == []


def test_grafana_limit_below_its_documented_minimum_warns():
    ((severity, field, message),) = findings(grafana={"resources": {"limits": {"memory": "256Mi"}}})
    assert (severity, field) == ("warning", "spec.grafana.resources.limits.memory")
    assert "below 512Mi" in message and "grafana.com/docs/grafana/v12.4" in message


def test_grafana_limit_at_the_minimum_passes():
    assert findings(grafana={"resources": {"limits": {"memory": "0.5Gi"}}}) == []


def test_request_above_limit_is_an_error():
    ((severity, field, message),) = findings(
        loki={"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}}}
    )
    assert (severity, field) == ("error", "spec.loki.resources.requests.memory")
    assert "Kubernetes refuses the pod" in message


def test_cpu_request_equal_to_limit_passes_and_above_fails():
    assert findings(alloy={"resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "0.1"}}}) == []
    ((severity, field, _),) = findings(alloy={"resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "0.1"}}})
    assert (severity, field) == ("error", "spec.alloy.resources.requests.cpu")


def test_rule_is_quiet_without_a_config():
    assert list(check_resources(context(config=False))) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("100m", 0.1), ("1", 1), ("512Mi", 512 * 2**20), ("0.5Gi", 2**29), ("1G", 1e9), ("2k", 2000)],
)
def test_quantities(text: str, value: float):
    assert quantity(text) == value
