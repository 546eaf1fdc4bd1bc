"""One registry of rule ids (krm_fn/rules.py): every id any module reports is declared there once."""

from __future__ import annotations

import re
from pathlib import Path

import krm_fn.checks  # noqa: F401 - registers the check rules
from krm_fn import rules

PACKAGE = Path(__file__).resolve().parent.parent / "krm_fn"
# `RULE = "x"`, `OVERLAP_RULE = "x"`, or a literal id handed to Result(...) / result(...)
LITERAL_IDS = re.compile(r'^[A-Z_]*RULE[A-Z_]* = "([a-z-]+)"|\b[Rr]esult\(\s*"([a-z-]+)"', re.M)


def test_ids_are_unique_and_declared_once():
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids))
    assert {"yaml-parse", "config", "config-schema", "input", "resource-conflict", "internal-error"} <= set(ids)


def test_every_literal_rule_id_in_the_package_is_registered():
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for match in LITERAL_IDS.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    assert found, "the scan found nothing: the pattern is stale"
    assert found <= {r.id for r in rules.RULES}, found - {r.id for r in rules.RULES}


def test_pipeline_rules_have_no_check_and_checks_have_one():
    pipeline = {rules.PARSE, rules.CONFIG, rules.CONFIG_SCHEMA, rules.INPUT, rules.CONFLICT, rules.INTERNAL}
    pipeline |= {rules.KUSTOMIZATION, rules.PATCH, rules.NOT_BUILT, rules.SUPPRESSION}  # the walk, suppressions
    pipeline |= {rules.CHART_VERSION}  # reported while the config loads
    for rule in rules.RULES:
        assert (rule.check is None) == (rule.id in pipeline), rule.id


def test_a_duplicate_id_is_refused():
    try:
        rules.declare("hostname", rules.Severity.ERROR, "again")
    except ValueError as err:
        assert "duplicate rule id hostname" in str(err)
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("a second 'hostname' was accepted")
