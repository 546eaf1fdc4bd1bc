"""The homelab corpus through a real `kustomize build --enable-alpha-plugins --enable-exec`, the
function as transformer and as validator: kustomize hands it what Flux resolves later, and it
gives the same judgement as `check` (no finding; a planted problem fails the build; a suppression
holds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import FUNCTION, UPSTREAM, findings, kustomize_build, protected_config

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).parent / "corpus"
BUILDS = ["apps/home", "infrastructure/controllers", "infrastructure/configs"]


def wrapped(tmp_path: Path, field: str, problem: str | None = None) -> Path:
    """A copy of the homelab, and a kustomization building its three kustomize builds with the function."""
    repo = tmp_path / "homelab"
    shutil.copytree(CORPUS / "homelab", repo)
    if problem:
        shutil.copytree(CORPUS / "planted" / problem, repo, dirs_exist_ok=True)
    root = tmp_path / "wrap"
    root.mkdir()
    config = protected_config()
    annotations = config["metadata"].setdefault("annotations", {})
    annotations["config.kubernetes.io/function"] = yaml.safe_dump({"exec": {"path": FUNCTION}})
    if field == "validators":
        annotations["observability.catinthehack.ca/mode"] = "validate"
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml", root / "secret.yaml")
    kustomization = {"resources": [f"../homelab/{b}" for b in BUILDS] + ["secret.yaml"], field: ["observability.yaml"]}
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return root


@pytest.mark.parametrize("field", ["transformers", "validators"])
def test_the_homelab_builds_with_no_finding(tmp_path: Path, field: str) -> None:
    proc = kustomize_build(wrapped(tmp_path, field))
    assert proc.returncode == 0, proc.stderr
    assert findings(proc.stderr) == [], proc.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(proc.stdout) if doc}
    assert {"Namespace", "Gateway", "HTTPRoute", "Deployment", "Secret"} <= kinds


@pytest.mark.parametrize(
    ("problem", "rule"),
    [("plaintext-secret", "secret-plaintext"), ("bad-hostname", "hostname"), ("sops-cleartext", "sops-encrypted")],
)
def test_a_planted_problem_fails_the_build(tmp_path: Path, problem: str, rule: str) -> None:
    proc = kustomize_build(wrapped(tmp_path, "validators", problem))
    assert proc.returncode != 0
    assert [line for line in findings(proc.stderr) if f"[{rule}]" in line], proc.stderr


def test_a_suppressed_finding_passes_the_build_and_is_counted(tmp_path: Path) -> None:
    root = wrapped(tmp_path, "validators", "bad-hostname")
    route = tmp_path / "homelab/apps/base/whoami/route.yaml"
    route.write_text(
        route.read_text().replace(
            "  name: whoami\n",
            '  name: whoami\n  annotations:\n    observability.catinthehack.ca/ignore: "hostname: renamed in #42"\n',
            1,
        )
    )
    proc = kustomize_build(root)
    assert proc.returncode == 0, proc.stderr
    assert findings(proc.stderr) == [] and "1 finding suppressed: hostname 1 (annotation)" in proc.stderr
