"""Container mode: kustomize and kpt run the image `example.com/observability-fn:dev` themselves.

kustomize runs `docker run --rm -i --network none --user nobody --security-opt=no-new-privileges`
(no --enable-exec needed, so kubectl's embedded kustomize can use it); kpt does the same with
`--pull missing`, and rewrites a bare image name to gcr.io/kpt-fn/..., hence the registry-like
name. The image is built from the working tree by `scripts/docker.sh image`; when a comparison
with the venv's own output fails locally, rebuild it first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import DEFAULT_CONFIG_FILE, UPSTREAM, default_config, kptfile, run_cli
from tools import IMAGE, docker_ready, tool

from krm_fn import engine
from krm_fn import yaml as yamlio

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"
PLAIN_SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.plain.yaml"
STALE = "the container's output differs from the venv's: rebuild the image with `scripts/docker.sh image`"
KPTFILE = kptfile(f"image: {IMAGE}")


@pytest.fixture(autouse=True)
def _docker() -> None:
    docker_ready()


def canonical(objects: list[dict]) -> list[str]:
    return sorted(json.dumps(obj, sort_keys=True) for obj in objects)


def objects(text: str) -> list[dict]:
    return [doc.data for doc in yamlio.load_documents(text)]


def render(*paths: Path) -> list[dict]:
    proc = run_cli("render", *map(str, paths))
    assert proc.returncode == 0, proc.stderr.decode()
    return objects(proc.stdout.decode())


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=300, check=False)


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def container_kustomization(root: Path, field: str, resources: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    config = default_config()
    config["metadata"]["annotations"]["config.kubernetes.io/function"] = yaml.safe_dump({"container": {"image": IMAGE}})
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name, text in resources.items():
        (root / name).write_text(text)
    kustomization = {"resources": sorted(resources), field: ["observability.yaml"]}
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return root


def test_kubectl_kustomize_runs_the_container_as_a_transformer(tmp_path: Path) -> None:
    root = container_kustomization(tmp_path / "k", "transformers", {"secret.yaml": SECRET_FILE.read_text()})
    proc = run([tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(root)])
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical(render(DEFAULT_CONFIG_FILE, SECRET_FILE)), STALE


def test_kubectl_kustomize_container_fails_on_a_plaintext_secret(tmp_path: Path) -> None:
    root = container_kustomization(tmp_path / "k", "transformers", {"secret.yaml": PLAIN_SECRET_FILE.read_text()})
    proc = run([tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(root)])
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "error [" in proc.stderr and "Secret monitoring/monitoring-secrets" in proc.stderr


def test_standalone_kustomize_runs_the_container_as_a_generator(tmp_path: Path) -> None:
    root = container_kustomization(tmp_path / "k", "generators", {})
    proc = run([tool("kustomize"), "build", "--enable-alpha-plugins", str(root)])
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical(render(DEFAULT_CONFIG_FILE)), STALE


def make_package(root: Path, kptfile: bool) -> Path:
    root.mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG_FILE, root / "observability.yaml")
    shutil.copy(SECRET_FILE, root / "monitoring-secrets.enc.yaml")
    if kptfile:
        (root / "Kptfile").write_text(KPTFILE)
    return root


def expected_generated_files() -> set[str]:
    return {f"generated/{engine.file_name(obj)}" for obj in render(DEFAULT_CONFIG_FILE)}


def test_kpt_fn_eval_with_the_image(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=False)
    before = set(tree(pkg))
    proc = run([tool("kpt"), "fn", "eval", str(pkg), "--image", IMAGE, "--fn-config", str(pkg / "observability.yaml")])
    assert proc.returncode == 0, proc.stderr
    assert set(tree(pkg)) - before == expected_generated_files(), STALE


def test_kpt_fn_render_with_a_kptfile_image_twice(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=True)
    proc = run([tool("kpt"), "fn", "render", str(pkg)])
    assert proc.returncode == 0, proc.stderr
    first = tree(pkg)
    assert set(first) - {"Kptfile", "observability.yaml", "monitoring-secrets.enc.yaml"} == (
        expected_generated_files()
    ), STALE
    proc = run([tool("kpt"), "fn", "render", str(pkg)])
    assert proc.returncode == 0, proc.stderr
    assert tree(pkg) == first
