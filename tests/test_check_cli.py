"""`check` options: --format text|github|json, --strict, --allow-empty, --include/--exclude, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from krm_fn import lint, protocol
from tests.helpers import run_cli, write


def put(directory: Path, files: dict[str, str]) -> Path:
    for name in files:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
    return write(directory, files)


BAD_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: apps
spec:
  hostnames:
    - Bad..example.org
"""

UNMATCHED_PATCH = {
    "kustomization.yaml": """
    resources:
      - cm.yaml
    patches:
      - target:
          kind: ConfigMap
          name: nothing-like-this
        patch: |-
          - op: add
            path: /data/x
            value: "1"
    """,
    "cm.yaml": """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: apps
    data:
      a: "1"
    """,
}


def test_text_format_one_line_per_finding_and_a_summary(tmp_path: Path):
    write(tmp_path, {"route.yaml": BAD_ROUTE, "notes.yaml": "just: a config\n"})
    outcome = lint.run([str(tmp_path)])
    assert outcome.exit_code == 1
    assert outcome.stdout.startswith(f"{tmp_path}/route.yaml:8: error [hostname] HTTPRoute apps/web spec.hostnames[0]:")
    assert "1 object checked in 1 file (0 kustomize builds, 0 Flux Kustomizations followed)" in outcome.stderr
    assert "  1 error: hostname 1\n  0 warnings\n  0 info\n" in outcome.stderr
    assert (
        "not checked: 1: files that are not Kubernetes objects (app configs, templates, helmfiles) 1" in outcome.stderr
    )


def test_github_format_is_workflow_annotations(tmp_path: Path):
    write(tmp_path, {"route.yaml": BAD_ROUTE})
    proc = run_cli("check", "--format", "github", str(tmp_path))
    assert proc.returncode == 1
    (line,) = proc.stdout.decode().splitlines()
    assert line.startswith(
        f"::error file={tmp_path}/route.yaml,line=8,title=[hostname] HTTPRoute apps/web spec.hostnames[0]::hostname "
    )
    assert "1 error: hostname 1" in proc.stderr.decode()


def test_github_format_escapes_what_would_end_a_property(tmp_path: Path):
    from krm_fn import report
    from krm_fn.results import Location, Result, Severity

    line = report.github(Result("schema", Severity.WARNING, "50% off\nnext", None, "a:b,c", Location("x,y.yaml", 3)))
    assert line == "::warning file=x%2Cy.yaml,line=3,title=[schema] a%3Ab%2Cc::50%25 off next"


def test_json_format_is_one_document(tmp_path: Path):
    write(tmp_path, {"route.yaml": BAD_ROUTE})
    outcome = lint.run([str(tmp_path)], "json")
    doc = json.loads(outcome.stdout)
    assert outcome.stderr == "" and outcome.exit_code == 1
    (finding,) = doc["results"]
    assert finding["rule"] == "hostname" and finding["file"] == f"{tmp_path}/route.yaml" and finding["line"] == 8
    assert finding["resource"] == {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "name": "web",
        "namespace": "apps",
    }
    assert doc["summary"]["objects"] == 1
    assert doc["summary"]["counts"]["error"] == {"hostname": 1}


def test_warnings_pass_unless_strict(tmp_path: Path):
    write(tmp_path, UNMATCHED_PATCH)
    relaxed = lint.run([str(tmp_path)])
    assert relaxed.exit_code == 0, relaxed.stdout
    assert "warning [patch-target]" in relaxed.stdout and "nothing-like-this" in relaxed.stdout
    assert lint.run([str(tmp_path)], strict=True).exit_code == 1


def test_nothing_checked_fails_unless_allowed(tmp_path: Path):
    put(tmp_path, {"values.yaml": "replicas: 1\n", "templates/x.yaml": "kind: {{ .Values.kind }}\n"})
    empty = lint.run([str(tmp_path)])
    assert empty.exit_code == 1
    assert "error: nothing was checked" in empty.stderr and "--allow-empty" in empty.stderr
    allowed = lint.run([str(tmp_path)], allow_empty=True)
    assert allowed.exit_code == 0 and "warning: nothing was checked" in allowed.stderr


def test_include_and_exclude_globs(tmp_path: Path):
    put(tmp_path, {"apps/route.yaml": BAD_ROUTE, "infra/route.yaml": BAD_ROUTE.replace("web", "other")})
    both = lint.run([str(tmp_path)], "json")
    assert len(json.loads(both.stdout)["results"]) == 2
    only_infra = json.loads(lint.run([str(tmp_path)], "json", include=["infra/*"]).stdout)
    assert [r["file"] for r in only_infra["results"]] == [f"{tmp_path}/infra/route.yaml"]
    not_infra = json.loads(lint.run([str(tmp_path)], "json", exclude=["infra/*"]).stdout)
    assert [r["file"] for r in not_infra["results"]] == [f"{tmp_path}/apps/route.yaml"]
    assert not_infra["summary"]["skipped"] == {"files excluded by --include/--exclude": 1}


def test_cli_accepts_the_options(tmp_path: Path):
    write(tmp_path, {"values.yaml": "replicas: 1\n"})
    proc = run_cli("check", "--allow-empty", "--strict", "--exclude", "x/*", "--include", "*", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    bad = run_cli("check", "--format", "xml", str(tmp_path))
    assert bad.returncode == 2 and b"invalid choice" in bad.stderr


def test_github_annotations_name_files_relative_to_the_checkout(tmp_path: Path, monkeypatch):
    write(tmp_path, {"route.yaml": BAD_ROUTE})
    monkeypatch.chdir(tmp_path)
    outcome = lint.run([str(tmp_path)], "github")
    assert outcome.stdout.startswith("::error file=route.yaml,line=8,")


def test_a_duplicate_key_names_both_lines_of_the_file_in_a_later_document(tmp_path):
    """Lines count from the file, not from the document: a leading `---`, a comment and a document before."""
    (tmp_path / "cm.yaml").write_text(
        "---\n# c\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\n"
        'metadata:\n  name: b\ndata:\n  x: "1"\n  y: "2"\n  x: "3"\n'
    )
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    doc = json.loads(lint.run([str(tmp_path)], "json").stdout)
    assert [(r["rule"], r["line"]) for r in doc["results"]] == [("yaml-parse", 15)]
    assert "first defined at line 13" in doc["results"][0]["message"]


def test_a_duplicate_key_in_a_resource_list_names_lines_of_the_object():
    """kpt hands objects over in one stream: both lines are counted within the object (a Secret: the
    function parses the kinds its rules read)."""
    stream = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n"
        "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n  stringData:\n    x: '1'\n    x: '2'\n"
    )
    config = (
        "functionConfig:\n  apiVersion: observability.catinthehack.ca/v1alpha1\n  kind: ObservabilityConfig\n"
        "  metadata: {name: o}\n  spec: {cluster: c, domain: example.org, gateway: {name: gw, namespace: net}}\n"
    )
    out = protocol.run_krm((stream + config).encode())
    messages = [r["message"] for r in yaml.safe_load(out.stdout)["results"] if "duplicate key" in r["message"]]
    assert messages == [
        "duplicate key 'x' (first defined at line 6 of the object); YAML readers disagree on which one wins, "
        "so merge the two blocks (line 7 of the object)"
    ]
