"""Values paths the chart templates read with no default (scripts/template_reads.py) and what the
`helm-values` rule makes of them (scripts/gen_chart_paths.py, krm_fn/charts/data/)."""

from __future__ import annotations

import importlib.util
import subprocess

import pytest
import yaml

from krm_fn.charts import paths
from tests.helpers import REPO

KPS = ("kube-prometheus-stack", "87.9.0")


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reads = _script("template_reads")
gen = _script("gen_chart_paths")


def _unknown(chart: tuple[str, str], values: dict) -> list[tuple[str, str | None]]:
    return [(u.dotted, u.suggestion) for u in paths.unknown_paths(*chart, values)]


def test_references_are_the_paths_a_template_names_directly():
    text = """
{{- if .Values.alertmanager.alertmanagerSpec.configSecret }}
  configSecret: {{ $.Values.alertmanager.alertmanagerSpec.configSecret | quote }}
{{- end }}
{{- with .Values.prometheus.ingress }}{{ .pathType }}{{ end }}
{{ (index .Values "kube-state-metrics" "selfMonitor" "enabled") }}
{{ toYaml .Values }}  {{ .Values.global.imageRegistry | default "" }}
"""
    assert reads.references(text) == {
        ("alertmanager", "alertmanagerSpec", "configSecret"),
        ("prometheus", "ingress"),  # `.pathType` under `with` is relative: not seen
        ("kube-state-metrics", "selfMonitor", "enabled"),
        ("global", "imageRegistry"),
    }


def test_a_path_is_missing_only_when_no_key_free_map_or_scalar_decides_it():
    tree = {"a": {"b": gen.VALUE, "free": gen.FREE}, "flag": gen.VALUE}
    assert reads.missing(tree, ("a", "c"))
    assert reads.missing(tree, ("x", "y"))
    assert not reads.missing(tree, ("a", "b"))
    assert not reads.missing(tree, ("a", "free", "anything"))
    assert not reads.missing(tree, ("flag", "below"))  # a scalar default: not a map the chart reads


def test_add_free_keeps_what_the_values_yaml_decides():
    root = {"a": {"b": gen.VALUE, "free": gen.FREE}, "flag": gen.VALUE}
    for path in (["a", "b"], ["a", "free", "x"], ["flag", "x"], ["a", "c"], ["n", "m", "o"], ["a", "c", "deeper"]):
        gen.add_free(root, path)
    assert root == {
        "a": {"b": gen.VALUE, "free": gen.FREE, "c": gen.FREE},
        "flag": gen.VALUE,
        "n": {"m": {"o": gen.FREE}},
    }
    assert gen.split_dotted("a.[b.c].d") == ["a", "b.c", "d"]


def test_template_texts_reads_the_chart_templates_at_the_commit(tmp_path):
    repo = tmp_path / "owner+charts" / "repo"
    chart = repo / "charts" / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "values.yaml").write_text("shown: 1\n")
    (chart / "templates" / "a.yaml").write_text("x: {{ .Values.hidden.key }}\n")
    (chart / "templates" / "NOTES.txt").write_text("{{ .Values.notes }}\n")
    (chart / "templates" / "skip.md").write_text("{{ .Values.not.a.template }}\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "demo"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    mirror, chart_path = reads.mirror_of(
        {"source": "https://github.com/owner/charts charts/demo", "commit": commit}, tmp_path
    )
    assert (mirror, chart_path) == (repo, "charts/demo")
    found = set().union(*(reads.references(t) for t in reads.template_texts(mirror, commit, chart_path)))
    assert found == {("hidden", "key"), ("notes",)}


def test_the_committed_file_names_known_releases_only():
    data = yaml.safe_load((REPO / "third_party" / "upstream" / "charts" / "template-reads.yaml").read_text())
    assert {"kube-prometheus-stack", "loki", "alloy", "grafana"} <= set(data)
    for chart, found in data.items():
        versions = [r["version"] for r in gen.releases(chart)]
        for path, spans in found.items():
            for first, last in spans:
                assert versions.index(first) <= versions.index(last), (chart, path)


# --- what the rule accepts: a passing and a failing case --------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"alertmanager": {"alertmanagerSpec": {"configSecret": "alertmanager-config", "useExistingSecret": True}}},
        {"prometheus": {"ingress": {"enabled": True, "pathType": "Prefix"}}},
        {"prometheusOperator": {"logLevel": "debug", "logFormat": "json"}},
        {"prometheus": {"networkPolicy": {"enabled": True, "cilium": {"endpointSelector": {}}}}},
        {"grafana": {"adminPassword": "from-a-secret-elsewhere"}},  # read by the grafana subchart's templates
    ],
)
def test_keys_the_templates_read_with_no_default_are_accepted(values):
    assert _unknown(KPS, values) == []


@pytest.mark.parametrize(
    ("values", "path", "suggestion"),
    [
        (
            {"alertmanager": {"alertmanagerSpec": {"configSecrett": "x"}}},
            "alertmanager.alertmanagerSpec.configSecrett",
            "alertmanager.alertmanagerSpec.configSecret",
        ),
        ({"prometheusOperator": {"logLevell": "debug"}}, "prometheusOperator.logLevell", "prometheusOperator.logLevel"),
        (
            {"prometheus": {"ingress": {"pathTyp": "Prefix"}}},
            "prometheus.ingress.pathTyp",
            "prometheus.ingress.pathType",
        ),
    ],
)
def test_a_misspelt_key_next_to_them_is_still_reported(values, path, suggestion):
    assert _unknown(KPS, values) == [(path, suggestion)]


def test_the_seed_pin_accepts_the_keys_its_own_templates_read():
    # 82.18.0 (the original plan's pin) reads alertmanagerSpec.configSecret too, shown only in a comment.
    values = {"alertmanager": {"alertmanagerSpec": {"configSecret": "alertmanager-config"}}}
    assert _unknown(("kube-prometheus-stack", "82.18.0"), values) == []
