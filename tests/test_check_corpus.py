"""`check` over tests/corpus: a Flux + kustomize homelab written for these tests.

Each false-alarm class of issue 8 is a part of tests/corpus/homelab that must give no finding;
each real problem, planted in a copy (tests/corpus/planted/<problem>/ overlays the homelab), is
still reported with its file and line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from krm_fn import lint
from krm_fn.repo import walk

CORPUS = Path(__file__).parent / "corpus"
HOMELAB = CORPUS / "homelab"


def check_json(path: Path) -> tuple[dict, int]:
    outcome = lint.run([str(path)], "json")
    return json.loads(outcome.stdout), outcome.exit_code


def findings_in(doc: dict, *parts: str) -> list[dict]:
    """Errors and warnings located in files below the homelab parts given (info lines are notes, not alarms)."""
    prefixes = tuple(str(HOMELAB / p) for p in parts)
    return [
        r for r in doc["results"] if (r["file"] or "").startswith(prefixes) and r["severity"] in ("error", "warning")
    ]


@pytest.fixture(scope="module")
def homelab() -> dict:
    doc, _ = check_json(HOMELAB)
    return doc


# --- the false-alarm classes of issue 8, each with zero findings -----------------------------------


def test_flux_substitution_components_and_namespaces_give_no_finding(homelab):
    """Classes 1 and 2: ${APP}-proxy, ${NAMESPACE:-default}, ${TIMEZONE} from substituteFrom, a
    component Namespace named `_`, objects namespaced by `namespace:` only."""
    assert findings_in(homelab, "apps", "clusters") == []


def test_gateway_and_route_namespaced_by_kustomize_attach_without_a_finding(homelab):
    assert findings_in(homelab, "infrastructure/controllers/gateway", "apps/base/whoami/route.yaml") == []


def test_patches_are_checked_as_patches_not_objects(homelab):
    """Class 3: a strategic-merge patch of a Deployment (no selector) is no object."""
    assert findings_in(homelab, "infrastructure/controllers/cert-manager") == []


def test_a_redefined_anchor_gives_no_finding(homelab):
    """Class 4."""
    assert findings_in(homelab, "infrastructure/configs/anchors.yaml") == []


def test_files_that_are_not_kubernetes_objects_are_counted_not_reported(homelab):
    """Class 5: app configs with custom tags (generator inputs), a Helm chart folder, a helmfile."""
    parts = ("apps/base/whoami/config", "apps/charts", "helmfile.yaml", ".sops.yaml", "docs")
    assert findings_in(homelab, *parts) == []
    assert homelab["summary"]["skipped"] == {
        "generator inputs (data, not manifests)": 2,  # app.yaml, blueprint.yaml (custom tags)
        "files in Helm chart folders (Chart.yaml)": 3,
        # helmfile.yaml, and .sops.yaml: a .sourceignore replaces source-controller's defaults
        "files that are not Kubernetes objects (app configs, templates, helmfiles)": 2,
        "files Flux leaves out (.sourceignore and its defaults)": 2,  # docs/mkdocs.yml, bootstrap/secrets.yaml
    }


def test_bootstrap_secrets_flux_leaves_out_give_no_finding(homelab):
    """Class 6: bootstrap Secrets holding op:// references, applied before Flux runs: `.sourceignore`
    leaves them out, so nothing is said of them (tests/test_rule_secrets.py judges such values)."""
    assert [r for r in homelab["results"] if "bootstrap" in (r["file"] or "")] == []


def test_the_whole_homelab_gives_no_finding_and_exit_0():
    doc, code = check_json(HOMELAB)
    assert ([r for r in doc["results"] if r["severity"] != "info"], code) == ([], 0)
    assert lint.run([str(HOMELAB)], "json", strict=True).exit_code == 0


def test_the_walk_builds_what_flux_builds():
    repo = walk([str(HOMELAB)])
    seen = {(i.kind, i.namespace, i.name) for g in repo.groups for i in g.items}
    assert ("Deployment", "apps", "whoami-proxy") in seen  # ${APP} substituted, namespace: apps applied
    assert ("Namespace", None, "apps") in seen  # the component's `_`, renamed
    assert ("Gateway", "network", "gw-external") in seen
    assert ("Deployment", "cert-manager", "cert-manager-webhook") in seen
    assert not any(n == "_" or (n or "").startswith("${") for _, _, n in seen)
    files = {Path(i.file).name for g in repo.groups for i in g.items}
    assert not files & {
        "webhook-args.yaml",
        "webhook-replicas.yaml",
        "app.yaml",
        "blueprint.yaml",
        "deployment.yaml",
    } - {"deployment.yaml"}
    route = next(i for g in repo.groups for i in g.items if i.kind == "HTTPRoute")
    assert route.obj["spec"]["hostnames"] == ["whoami.catinthehack.ca"]
    proxy = next(i for g in repo.groups for i in g.items if i.name == "whoami-proxy")
    env = {e["name"]: e["value"] for e in proxy.obj["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"TZ": "${TIMEZONE}", "LOG_LEVEL": "${LOG_LEVEL:=info}"}  # substituteFrom: unknown, kept


# --- real problems planted in a copy: still reported with file and line -------------------------------


def planted(tmp_path: Path, problem: str) -> Path:
    target = tmp_path / "homelab"
    shutil.copytree(HOMELAB, target)
    shutil.copytree(CORPUS / "planted" / problem, target, dirs_exist_ok=True)
    return target


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize(
    ("problem", "rule", "file", "needle"),
    [
        ("plaintext-secret", "secret-plaintext", "apps/base/whoami/db-secret.yaml", "password:"),
        ("bad-hostname", "hostname", "apps/base/whoami/route.yaml", "Whoami..${DOMAIN}"),
        ("duplicate-key", "yaml-parse", "apps/base/whoami/service.yaml", "name: whoami-svc"),
        ("sops-cleartext", "sops-encrypted", "infrastructure/configs/cloudflare.sops.yaml", "zone-id"),
    ],
)
def test_a_planted_problem_is_reported_with_file_and_line(tmp_path, problem, rule, file, needle):
    repo = planted(tmp_path, problem)
    doc, code = check_json(repo)
    path = repo / file
    baseline, _ = check_json(HOMELAB)
    before = {(r["rule"], r["file"].replace(str(HOMELAB), str(repo)), r["line"]) for r in baseline["results"]}
    new = [(r["rule"], r["severity"], r["file"], r["line"]) for r in doc["results"]]
    new = [n for n in new if (n[0], n[2], n[3]) not in before]
    assert code == 1
    assert new == [(rule, "error", str(path), line_of(path, needle))], doc["results"]


def test_a_planted_problem_keeps_its_secret_out_of_the_report(tmp_path):
    doc, _ = check_json(planted(tmp_path, "plaintext-secret"))
    assert "hunter2" not in json.dumps(doc)
