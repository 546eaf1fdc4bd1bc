"""Suppressions: the ignore annotation (with a required reason) and spec.checks.rules, in every mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import krm_fn.checks  # noqa: F401 - registers the rules
from krm_fn import config as config_model
from krm_fn import lint, rules, suppress
from tests.helpers import UPSTREAM, protected_config, run_cli, run_krm, write

ANNOTATION = suppress.ANNOTATION


def route(annotation: str | None = None, name: str = "web") -> dict:
    meta: dict = {"name": name, "namespace": "apps"}
    if annotation is not None:
        meta["annotations"] = {ANNOTATION: annotation}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": meta,
        "spec": {"hostnames": ["Bad..example.org"]},
    }


def with_path(obj: dict, path: str) -> dict:
    meta = obj["metadata"]
    return {
        **obj,
        "metadata": {**meta, "annotations": {**meta.get("annotations", {}), "config.kubernetes.io/path": path}},
    }


def rules_of(output: dict) -> list[tuple[str, str]]:
    """The results' (rule, severity), without the note that no Gateway is in the pipeline."""
    found = [(r["tags"]["rule"], r["severity"]) for r in output.get("results", [])]
    return sorted(f for f in found if f != ("route-attachment", "info"))


STACK_SECRET = with_path(yaml.safe_load((UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text()), "s.yaml")


def krm(objects: list[dict], config: dict):
    """The function over the stack's Secret and `objects` (each given a file path)."""
    return run_krm([STACK_SECRET, *(with_path(o, f"{i}.yaml") for i, o in enumerate(objects))], config)


# --- the annotation ---------------------------------------------------------------------------------


def test_parse_the_annotation():
    assert suppress.parse("hostname, route-overlap: old UI, moves next week") == ({"hostname", "route-overlap"}, None)
    assert "needs a reason" in suppress.parse("hostname")[1]
    assert "needs a reason" in suppress.parse("hostname:   ")[1]
    assert "did you mean 'hostname'" in suppress.parse("hostnames: typo")[1]
    assert "not a rule that can be suppressed" in suppress.parse("yaml-parse: no")[1]
    assert "names no rule" in suppress.parse(": why")[1]


def test_check_an_annotated_object_is_suppressed_and_counted(tmp_path: Path):
    write(tmp_path, {"route.yaml": yaml.safe_dump(route("hostname: legacy name, the app is retired in May"))})
    outcome = lint.run([str(tmp_path)], "json")
    doc = json.loads(outcome.stdout)
    assert (doc["results"], outcome.exit_code) == ([], 0)
    assert doc["summary"]["suppressed"] == 1
    assert doc["summary"]["suppressedBy"] == {"hostname": {"annotation": 1}}
    text = lint.run([str(tmp_path)])
    assert "1 finding suppressed: hostname 1 (annotation)" in text.stderr


def test_check_a_suppression_of_another_rule_leaves_the_finding(tmp_path: Path):
    write(tmp_path, {"route.yaml": yaml.safe_dump(route("route-overlap: not this one"))})
    doc = json.loads(lint.run([str(tmp_path)], "json").stdout)
    assert [r["rule"] for r in doc["results"]] == ["hostname"]


def test_check_an_annotation_without_a_reason_is_an_error_and_suppresses_nothing(tmp_path: Path):
    write(tmp_path, {"route.yaml": yaml.safe_dump(route("hostname"))})
    outcome = lint.run([str(tmp_path)], "json")
    doc = json.loads(outcome.stdout)
    assert sorted(r["rule"] for r in doc["results"]) == ["hostname", "suppression"]
    problem = next(r for r in doc["results"] if r["rule"] == "suppression")
    lines = (tmp_path / "route.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if ANNOTATION in text)
    assert problem["field"] == f"metadata.annotations.[{ANNOTATION}]" and problem["line"] == line
    assert outcome.exit_code == 1


def test_kpt_annotation_suppresses_and_the_count_is_an_info_result():
    config = protected_config()
    output, outcome = krm([route("hostname: accepted until the migration")], config)
    assert rules_of(output) == [("suppression", "info")]
    assert outcome.exit_code == 0
    assert "1 finding suppressed: hostname 1 (annotation)" in outcome.stderr


def test_kpt_without_suppression_the_finding_fails_the_run():
    output, outcome = krm([route()], protected_config())
    assert rules_of(output) == [("hostname", "error")] and outcome.exit_code == 1


# --- spec.checks.rules ---------------------------------------------------------------------------------


def checks(rule_map: dict, plaintext: str = "error") -> dict:
    config = protected_config()
    config["spec"]["checks"] = {"plaintextSecrets": plaintext, "rules": rule_map}
    return config


def test_a_rule_turned_off_drops_its_findings_and_counts_them():
    output, outcome = krm([route()], checks({"hostname": "off"}))
    assert rules_of(output) == [("suppression", "info")] and outcome.exit_code == 0
    assert "hostname 1 (spec.checks.rules)" in outcome.stderr


def test_a_rule_set_to_warning_no_longer_fails_the_build():
    output, outcome = krm([route()], checks({"hostname": "warning"}))
    assert rules_of(output) == [("hostname", "warning")] and outcome.exit_code == 0


def test_a_warning_rule_set_to_error_fails_the_build():
    plain = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "app", "namespace": "apps"},
        "stringData": {"password": "not-a-real-one"},
    }
    items = [plain]
    relaxed, ok = krm(items, checks({}, plaintext="warning"))
    assert ("secret-plaintext", "warning") in rules_of(relaxed) and ok.exit_code == 0  # plaintextSecrets still works
    strict, failed = krm(items, checks({"secret-plaintext": "error"}, plaintext="warning"))
    assert ("secret-plaintext", "error") in rules_of(strict) and failed.exit_code == 1


def test_an_unknown_rule_in_spec_checks_rules_is_a_config_error_with_a_suggestion():
    _, errors = config_model.load(checks({"hostnmae": "off"}))
    assert errors and "did you mean 'hostname'" in errors[0].message


@pytest.mark.parametrize("level", ["error", "warning", "info", "off"])
def test_every_level_is_accepted(level):
    loaded, errors = config_model.load(checks({"route-overlap": level}))
    assert not errors and loaded.rule_severities == (("route-overlap", level),)


def test_the_schema_lists_exactly_the_configurable_rules():
    listed = config_model.schema()["properties"]["spec"]["properties"]["checks"]["properties"]["rules"]["properties"]
    assert sorted(listed) == sorted(rules.configurable_ids()), "run scripts/rules_table.py --write"


def test_check_applies_the_config_rules_too(tmp_path: Path):
    config = checks({"hostname": "off"})
    write(tmp_path, {"obs.yaml": yaml.safe_dump(config), "route.yaml": yaml.safe_dump(route())})
    proc = run_cli("check", "--format", "json", str(tmp_path))
    doc = json.loads(proc.stdout)
    assert "hostname" not in [r["rule"] for r in doc["results"]]
    assert doc["summary"]["suppressed"] >= 1
