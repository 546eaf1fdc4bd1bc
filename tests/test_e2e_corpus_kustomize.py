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


# --- the fleet: what Flux builds, through the real kustomize ------------------------------------------

MEALIE = "kubernetes/main/apps/media/mealie/app"
FLUX_COMPONENTS = ["../../../../../components/postgres", "../../../../../components/volsync"]


def flux_built(tmp_path: Path, problem: str | None = None, components: bool = True) -> Path:
    """A copy of the fleet with mealie's kustomization as kustomize-controller writes it before
    building: its own, with `namespace:` from targetNamespace and spec.components appended to its
    components (fluxcd/pkg kustomize generator)."""
    repo = tmp_path / "fleet"
    shutil.copytree(CORPUS / "fleet", repo)
    if problem:
        shutil.copytree(CORPUS / "planted-fleet" / problem, repo, dirs_exist_ok=True)
    kfile = repo / MEALIE / "kustomization.yaml"
    kustomization = yaml.safe_load(kfile.read_text())
    kustomization["namespace"] = "media"
    if components:
        kustomization["components"] = [*kustomization.get("components", []), *FLUX_COMPONENTS]
    kfile.write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return repo / MEALIE


def test_kustomize_applies_flux_components_before_the_apps_patches(tmp_path: Path) -> None:
    """The facts `check` follows: with spec.components appended, the app's patch of the component's
    Cluster applies (and the inline transformer is taken); without them kustomize fails on it."""
    proc = kustomize_build(flux_built(tmp_path))
    assert proc.returncode == 0, proc.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(proc.stdout) if d}
    assert docs[("Cluster", "${APP}-postgres")]["spec"]["instances"] == 2
    assert docs[("Cluster", "${APP}-postgres")]["metadata"]["namespace"] == "media"
    assert docs[("HelmRelease", "mealie")]["metadata"]["labels"] == {"team": "media"}
    alone = kustomize_build(flux_built(tmp_path / "alone", components=False))
    assert alone.returncode != 0 and "no resource matches strategic merge patch" in alone.stderr


def test_kustomize_leaves_a_patch_whose_target_names_a_substituted_name(tmp_path: Path) -> None:
    """A target `name: mealie` does not match a component object named `${APP}`: kustomize patches
    before Flux substitutes, so it silently changes nothing (what `check`'s warning says)."""
    app = flux_built(tmp_path)
    kfile = app / "kustomization.yaml"
    kustomization = yaml.safe_load(kfile.read_text())
    kustomization["patches"].append(
        {
            "target": {"kind": "Cluster", "name": "mealie-postgres"},
            "patch": "- {op: replace, path: /spec/instances, value: 3}",
        }
    )
    kfile.write_text(yaml.safe_dump(kustomization, sort_keys=False))
    proc = kustomize_build(app)
    assert proc.returncode == 0, proc.stderr
    cluster = next(d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "Cluster")
    assert cluster["spec"]["instances"] == 2


def validated(tmp_path: Path, app: Path) -> Path:
    """A kustomization building `app` with the function as validator (the stack config and Secret beside)."""
    root = tmp_path / "wrap"
    root.mkdir()
    config = protected_config()
    annotations = config["metadata"].setdefault("annotations", {})
    annotations["config.kubernetes.io/function"] = yaml.safe_dump({"exec": {"path": FUNCTION}})
    annotations["observability.catinthehack.ca/mode"] = "validate"
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml", root / "secret.yaml")
    resources = [str(Path("..") / app.relative_to(tmp_path)), "secret.yaml"]
    (root / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": resources, "validators": ["observability.yaml"]})
    )
    return root


def test_what_flux_builds_of_mealie_passes_the_validator(tmp_path: Path) -> None:
    proc = kustomize_build(validated(tmp_path, flux_built(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert findings(proc.stderr) == [], proc.stderr


@pytest.mark.parametrize(
    ("problem", "rule"), [("plaintext-password", "secret-plaintext"), ("bad-hostname-values", "hostname")]
)
def test_a_problem_planted_in_the_fleet_fails_the_validator(tmp_path: Path, problem: str, rule: str) -> None:
    proc = kustomize_build(validated(tmp_path, flux_built(tmp_path, problem)))
    assert proc.returncode != 0
    assert [line for line in findings(proc.stderr) if f"[{rule}]" in line], proc.stderr
    assert "hunter2" not in proc.stderr
