"""docs/ha.md stays true: its configs are valid and pass the rules, every field it names exists, its
tables name what the function generates, and every message that points into it points at a heading."""

from __future__ import annotations

import re

import pytest
import yaml

from krm_fn import components, config
from krm_fn.charts import paths
from krm_fn.checks import CheckContext, run_rules
from krm_fn.components import profile, thanos_rules
from krm_fn.config_schema import resolve, schema
from krm_fn.items import Item
from tests.helpers import REPO, default_config, load

PAGE = (REPO / "docs" / "ha.md").read_text()
HEADINGS = {line.lstrip("#").strip() for line in PAGE.splitlines() if line.startswith("#")}


def _configs() -> list[str]:
    return [b for b in re.findall(r"```yaml\n(.*?)```", PAGE, re.S) if b.startswith("spec:")]


@pytest.mark.parametrize("block", _configs(), ids=lambda b: str(len(b)))
def test_every_example_config_is_valid_and_clean(block: str):
    cfg = default_config()
    cfg["spec"].update(yaml.safe_load(block)["spec"])
    loaded, errors = config.load(cfg)
    assert loaded is not None and errors == [], [e.message for e in errors]
    assert loaded.topology.ha
    generated = [Item.from_data(obj) for obj in components.generate(loaded)]
    results = [r for r in run_rules(CheckContext(loaded, generated, [], sees_pipeline=False)) if r.is_error]
    assert results == []
    findings = run_rules(CheckContext(loaded, generated, [], sees_pipeline=False))
    assert [r for r in findings if r.rule == "ha-topology"] == []


def _loaded(block: str) -> config.Config:
    cfg = default_config()
    cfg["spec"].update(yaml.safe_load(block)["spec"])
    return load(cfg)


def test_both_variants_are_shown():
    assert {_loaded(b).topology.thanos for b in _configs()} == {True, False}


def _schema_has(path: list[str]) -> bool:
    node = schema()["properties"]["spec"]
    for key in path:
        node = resolve(node)
        if key not in node.get("properties", {}):
            return False
        node = node["properties"][key]
    return True


def test_every_spec_field_it_names_exists():
    named = set(re.findall(r"`(spec\.[A-Za-z0-9.]+)", PAGE))
    assert len(named) > 10
    for dotted in sorted(named):
        parts = dotted.split(".")[1:]
        if parts[0] == "values":
            parts = parts[:2]  # spec.values.<chart>: the chart's own paths below
        if dotted == "spec.alloy.clustering":
            assert not _schema_has(parts)  # named as gone
            continue
        assert _schema_has(parts), f"docs/ha.md names {dotted}, which the schema does not have"


def test_the_alert_table_is_the_rules():
    loaded = _loaded(_configs()[0])
    alerts = {r["alert"] for r in thanos_rules.rules(loaded)["groups"][0]["rules"]}
    rows = [line for line in PAGE.split("**Alerts**", 1)[1].split("\n## ", 1)[0].splitlines() if line.startswith("| ")]
    documented = {name.strip() for row in rows[2:] for name in row.split("|")[1].split(",")}
    assert documented == alerts


def test_the_versions_it_states_are_the_pins():
    default = schema()["properties"]["spec"]["properties"]["charts"]["properties"]["thanos"]["properties"]
    version = default["version"]["default"]
    assert f"thanos {version}" in PAGE or f"thanos chart {version}" in PAGE or f"{version} (" in PAGE
    assert f"Thanos v{paths.app_version('thanos', version)}" in PAGE
    assert profile.THANOS_QUERY_SERVICE.name in PAGE


def test_messages_point_at_its_headings():
    sources = "\n".join(p.read_text() for p in (REPO / "krm_fn").rglob("*.py"))
    pointed = set(re.findall(r"docs/ha\.md, ([A-Z][^)\"]*?)\)", sources.replace('"\n        "', "")))
    wanted = {"From SimpleScalable to Monolithic", "From Bitnami's thanos chart", "What the loss of a node costs"}
    assert pointed >= wanted
    for heading in pointed:
        assert heading in HEADINGS, f"a message points at docs/ha.md, {heading}: no such heading"
