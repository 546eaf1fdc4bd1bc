"""kpt runs the function: `kpt fn eval --exec` and a Kptfile pipeline under `kpt fn render --allow-exec`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from krm_fn import engine
from krm_fn import yaml as yamlio
from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, UPSTREAM, config_with, kptfile, run_cli, tree
from tests.tools import tool

pytestmark = pytest.mark.e2e

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"
KPTFILE = kptfile("exec: observability-fn")
USER_CONFIGMAP = """\
# a user's object, with comments and quoting kpt must keep
apiVersion: v1
kind: ConfigMap
metadata:
  name: dashboards # inline comment
  namespace: monitoring
data:
  enabled: "true"
  count: '010'
"""


def env() -> dict[str, str]:
    """The venv's console script first on PATH, so `exec: observability-fn` finds it."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def kpt(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("kpt"), *args], capture_output=True, text=True, env=env(), cwd=cwd, timeout=300, check=False
    )


def make_package(root: Path, config: dict | None = None, kptfile: bool = True, secret: Path = SECRET_FILE) -> Path:
    root.mkdir(parents=True)
    if config is None:
        shutil.copy(DEFAULT_CONFIG_FILE, root / "observability.yaml")
    else:
        (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(secret, root / "monitoring-secrets.enc.yaml")
    (root / "dashboards.yaml").write_text(USER_CONFIGMAP)
    if kptfile:
        (root / "Kptfile").write_text(KPTFILE)
    return root


def kpt_normalised(pkg: Path, tmp_path: Path) -> dict[str, bytes]:
    """The package's files as kpt itself rewrites them (`--exec cat`): kpt re-indents 4-space YAML
    such as sops output, so pass-through is judged against kpt's own round trip, not the input."""
    twin = tmp_path / "twin"
    shutil.copytree(pkg, twin)
    (twin / "Kptfile").unlink(missing_ok=True)
    proc = kpt("fn", "eval", str(twin), "--exec", "cat")
    assert proc.returncode == 0, proc.stderr
    return tree(twin)


def expected_generated_files(config_file: Path, prefix: str = "generated") -> set[str]:
    """Where the function says the stack goes: <config dir>/generated/<config name>.yaml."""
    name = yaml.safe_load(config_file.read_text())["metadata"]["name"]
    return {f"{prefix}/{engine.stack_file_name(name)}"}


def rendered_stack(config_file: Path) -> list[dict]:
    proc = run_cli("render", str(config_file))
    assert proc.returncode == 0, proc.stderr.decode()
    return [doc.data for doc in yamlio.load_documents(proc.stdout.decode())]


def identities(text: bytes) -> list[tuple[str, str]]:
    return [(doc.data["kind"], doc.data["metadata"]["name"]) for doc in yamlio.load_documents(text.decode())]


def test_eval_generates_into_predictable_paths_and_passes_the_rest_through(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=False)
    before = kpt_normalised(pkg, tmp_path)
    proc = kpt("fn", "eval", str(pkg), "--exec", FUNCTION, "--fn-config", str(pkg / "observability.yaml"))
    assert proc.returncode == 0, proc.stderr
    after = tree(pkg)
    for name, content in before.items():
        assert after[name] == content, f"{name} changed"
    assert after["dashboards.yaml"] == USER_CONFIGMAP.encode()
    new = set(after) - set(before)
    assert new == expected_generated_files(DEFAULT_CONFIG_FILE) == {"generated/observability.yaml"}
    docs = yamlio.load_documents(after["generated/observability.yaml"].decode())
    # the whole stack, in the order render prints it, with no annotation kpt uses on the way
    assert [d.data for d in docs] == rendered_stack(DEFAULT_CONFIG_FILE)
    for doc in docs:
        annotations = doc.data["metadata"].get("annotations", {})
        assert not [a for a in annotations if "config.kubernetes.io" in a or a == "config.k8s.io/id"]


def test_eval_puts_generated_files_next_to_a_config_in_a_subdirectory(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=False)
    (pkg / "observability").mkdir()
    (pkg / "observability.yaml").rename(pkg / "observability" / "config.yaml")
    proc = kpt("fn", "eval", str(pkg), "--exec", FUNCTION, "--fn-config", str(pkg / "observability" / "config.yaml"))
    assert proc.returncode == 0, proc.stderr
    new = {name for name in tree(pkg) if name.startswith("observability/generated/")}
    assert new == expected_generated_files(DEFAULT_CONFIG_FILE, "observability/generated")


def test_eval_twice_changes_nothing(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=False)
    args = ("fn", "eval", str(pkg), "--exec", FUNCTION, "--fn-config", str(pkg / "observability.yaml"))
    assert kpt(*args).returncode == 0
    first = tree(pkg)
    proc = kpt(*args)
    assert proc.returncode == 0, proc.stderr
    assert tree(pkg) == first


def test_eval_fails_on_a_plaintext_secret_and_writes_nothing(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", kptfile=False, secret=UPSTREAM / "sops" / "monitoring-secrets.plain.yaml")
    before = tree(pkg)
    proc = kpt("fn", "eval", str(pkg), "--exec", FUNCTION, "--fn-config", str(pkg / "observability.yaml"))
    assert proc.returncode == 1
    assert "[error]" in proc.stderr and "monitoring-secrets" in proc.stderr
    assert tree(pkg) == before


def test_render_twice_changes_nothing(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    baseline = kpt_normalised(pkg, tmp_path)
    proc = kpt("fn", "render", str(pkg), "--allow-exec")
    assert proc.returncode == 0, proc.stderr
    first = tree(pkg)
    assert set(first) - {"Kptfile", *baseline} == expected_generated_files(DEFAULT_CONFIG_FILE)
    for name in ("dashboards.yaml", "monitoring-secrets.enc.yaml", "observability.yaml"):
        assert first[name] == baseline[name], f"{name} changed"

    proc = kpt("fn", "render", str(pkg), "--allow-exec")
    assert proc.returncode == 0, proc.stderr
    assert tree(pkg) == first


def test_render_removes_what_a_config_change_no_longer_asks_for(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    assert kpt("fn", "render", str(pkg), "--allow-exec").returncode == 0
    first = tree(pkg)
    stack = "generated/observability.yaml"
    assert ("HTTPRoute", "alloy") in identities(first[stack])

    config = config_with(ui={"alloy": {"enabled": False}})
    (pkg / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    proc = kpt("fn", "render", str(pkg), "--allow-exec")
    assert proc.returncode == 0, proc.stderr
    second = tree(pkg)
    assert set(second) == set(first)
    assert identities(second[stack]) == [i for i in identities(first[stack]) if i != ("HTTPRoute", "alloy")]
    assert second[stack].split(b"\n---\n")[0] == first[stack].split(b"\n---\n")[0]  # the Namespace: unchanged

    proc = kpt("fn", "render", str(pkg), "--allow-exec")
    assert proc.returncode == 0, proc.stderr
    assert tree(pkg) == second


def test_render_needs_allow_exec(tmp_path: Path) -> None:
    """kpt itself refuses to run an exec function without --allow-exec; nothing is written."""
    pkg = make_package(tmp_path / "pkg")
    before = tree(pkg)
    proc = kpt("fn", "render", str(pkg))
    assert proc.returncode != 0 and "allow-exec" in proc.stderr
    assert tree(pkg) == before


def test_render_from_inside_the_package(tmp_path: Path) -> None:
    """As the README tells users: cd into the package and render it."""
    pkg = make_package(tmp_path / "pkg")
    proc = kpt("fn", "render", ".", "--allow-exec", cwd=pkg)
    assert proc.returncode == 0, proc.stderr
    assert (pkg / "generated" / "observability.yaml").is_file()
