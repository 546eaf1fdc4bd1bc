"""A SOPS Secret through the function under the real kpt and kustomize, then `sops decrypt` of what comes out.

The MAC covers every value and the key order, so a consumer or a function that re-sorts or
re-serializes the Secret breaks it. The function passes input items through as their original
text; these tests hold it to that with the real consumers, a Secret encrypted at test time with a
fresh age key, and the real sops.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from krm_fn import yaml as yamlio
from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, run_cli
from tests.sops_fixtures import Sops, make_sops, secret_text, upstream_values
from tests.tools import tool

pytestmark = pytest.mark.e2e

SECRET = "secret.enc.yaml"
KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pkg
  annotations:
    config.kubernetes.io/local-config: "true"
"""


@pytest.fixture(scope="module")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
    return make_sops(tmp_path_factory.mktemp("age"))


@pytest.fixture(scope="module")
def files(sops: Sops, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return sops.variants(tmp_path_factory.mktemp("variants"))


def run(argv: list[str], cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off", **(env or {})}
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=180, check=False)


def package(directory: Path, secret: Path, pipeline: str = "") -> Path:
    """A kpt package: Kptfile (with an optional pipeline), the default config as obs.yaml, the Secret."""
    directory.mkdir(parents=True)
    (directory / "Kptfile").write_text(KPTFILE + pipeline)
    shutil.copy(DEFAULT_CONFIG_FILE, directory / "obs.yaml")
    shutil.copy(secret, directory / SECRET)
    return directory


def decrypted_values(sops: Sops, path: Path) -> dict:
    proc = sops.decrypt(path)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)["stringData"]


def secret_document(stream: str) -> str:
    """The text of the one Secret document of a multi-document stream."""
    docs = [raw.text for raw in yamlio.split_documents(stream) if "\nkind: Secret\n" in "\n" + raw.text]
    assert len(docs) == 1, f"{len(docs)} Secret documents"
    return docs[0]


def kpt_eval(pkg: Path, exec_path: str, fn_config: bool = True) -> subprocess.CompletedProcess:
    argv = [tool("kpt"), "fn", "eval", str(pkg), "--exec", exec_path]
    return run([*argv, "--fn-config", str(pkg / "obs.yaml")] if fn_config else argv)


# --- kpt -----------------------------------------------------------------------------------------


def test_kpt_fn_eval_keeps_the_secret_decryptable(sops: Sops, files: dict[str, Path], tmp_path: Path) -> None:
    """kpt re-indents files itself (sops writes 4 spaces, kpt 2), so the floor is `kpt fn eval --exec cat`."""
    floor = package(tmp_path / "floor", files["good"])
    proc = kpt_eval(floor, shutil.which("cat") or "/bin/cat", fn_config=False)
    assert proc.returncode == 0, proc.stderr

    pkg = package(tmp_path / "pkg", files["good"])
    proc = kpt_eval(pkg, FUNCTION)
    assert proc.returncode == 0, proc.stderr
    assert "name: kube-prometheus-stack\n" in (pkg / "generated" / "observability.yaml").read_text()
    assert (pkg / SECRET).read_bytes() == (floor / SECRET).read_bytes()
    assert decrypted_values(sops, pkg / SECRET) == upstream_values()

    # Once in kpt's layout, the Secret does not change by a single byte.
    before = (pkg / SECRET).read_bytes()
    proc = kpt_eval(pkg, FUNCTION)
    assert proc.returncode == 0, proc.stderr
    assert (pkg / SECRET).read_bytes() == before


def test_kpt_fn_eval_fails_on_a_partial_secret_and_writes_nothing(files: dict[str, Path], tmp_path: Path) -> None:
    pkg = package(tmp_path / "pkg", files["partial"])
    proc = kpt_eval(pkg, FUNCTION)
    assert proc.returncode != 0
    assert "[sops-encrypted]" in proc.stderr and "stringData.pushover-user-key" in proc.stderr
    assert (pkg / SECRET).read_bytes() == files["partial"].read_bytes()
    assert not (pkg / "generated").exists()


def test_kpt_fn_render_twice_keeps_the_secret_decryptable(sops: Sops, files: dict[str, Path], tmp_path: Path) -> None:
    pipeline = f"pipeline:\n  mutators:\n    - exec: {FUNCTION}\n      configPath: obs.yaml\n"
    floor_pipeline = f"pipeline:\n  mutators:\n    - exec: {shutil.which('cat') or '/bin/cat'}\n"
    floor = package(tmp_path / "floor", files["good"], floor_pipeline)
    proc = run([tool("kpt"), "fn", "render", str(floor), "--allow-exec"])
    assert proc.returncode == 0, proc.stderr

    pkg = package(tmp_path / "pkg", files["good"], pipeline)
    proc = run([tool("kpt"), "fn", "render", str(pkg), "--allow-exec"])
    assert proc.returncode == 0, proc.stderr
    assert "kind: HelmRelease\nmetadata:\n  name: loki\n" in (pkg / "generated" / "observability.yaml").read_text()
    assert (pkg / SECRET).read_bytes() == (floor / SECRET).read_bytes()
    assert decrypted_values(sops, pkg / SECRET) == upstream_values()

    before = (pkg / SECRET).read_bytes()
    proc = run([tool("kpt"), "fn", "render", str(pkg), "--allow-exec"])
    assert proc.returncode == 0, proc.stderr
    assert (pkg / SECRET).read_bytes() == before
    assert decrypted_values(sops, pkg / SECRET) == upstream_values()


# --- kustomize -----------------------------------------------------------------------------------


def test_legacy_plugin_output_carries_the_secret_byte_for_byte(
    sops: Sops, files: dict[str, Path], tmp_path: Path
) -> None:
    """As kustomize calls a legacy transformer: the config file as argv[1], the resources on stdin."""
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n  namespace: monitoring\ndata:\n  a: b\n"
    secret = files["good"].read_text()
    proc = run_cli(str(DEFAULT_CONFIG_FILE), stdin=(config_map + "---\n" + secret).encode())
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "kind: HelmRelease" in out  # the stack was generated
    assert secret_document(out) == secret
    decrypted = sops.decrypt_text(secret_document(out), tmp_path)
    assert decrypted.returncode == 0, decrypted.stderr
    assert yaml.safe_load(decrypted.stdout)["stringData"] == upstream_values()


def kustomization(directory: Path, secret: Path, *, with_function: bool, extra: str = "") -> Path:
    directory.mkdir(parents=True)
    shutil.copy(secret, directory / SECRET)
    text = f"resources:\n  - {SECRET}\n" + extra
    if with_function:
        shutil.copy(DEFAULT_CONFIG_FILE, directory / "obs.yaml")
        text += "transformers:\n  - obs.yaml\n"
    (directory / "kustomization.yaml").write_text(text)
    return directory


def kubectl_kustomize(directory: Path, plugin_home: Path | None = None) -> subprocess.CompletedProcess:
    argv = [tool("kubectl"), "kustomize", str(directory)]
    if plugin_home is None:
        return run(argv)
    return run([*argv[:2], "--enable-alpha-plugins", *argv[2:]], env={"KUSTOMIZE_PLUGIN_HOME": str(plugin_home)})


def test_kubectl_kustomize_with_the_function_emits_the_secret_as_without_it(
    files: dict[str, Path], plugin_home: Path, tmp_path: Path
) -> None:
    """kustomize re-sorts every object's keys itself (docs/reference/consumers.md#5-sops-and-age),
    which breaks the MAC with
    or without a function; so the comparison is kustomize-with-the-function against kustomize-without:
    the function must add nothing to that damage."""
    with_fn = kubectl_kustomize(kustomization(tmp_path / "with", files["good"], with_function=True), plugin_home)
    assert with_fn.returncode == 0, with_fn.stderr
    assert "kind: HelmRelease" in with_fn.stdout
    without = kubectl_kustomize(kustomization(tmp_path / "without", files["good"], with_function=False))
    assert without.returncode == 0, without.stderr
    assert secret_document(with_fn.stdout) == secret_document(without.stdout)


def test_kubectl_kustomize_fails_on_a_partial_secret(files: dict[str, Path], plugin_home: Path, tmp_path: Path) -> None:
    proc = kubectl_kustomize(kustomization(tmp_path / "k", files["partial"], with_function=True), plugin_home)
    assert proc.returncode != 0
    assert "[sops-encrypted]" in proc.stderr and "stringData.pushover-user-key" in proc.stderr
    assert upstream_values()["pushover-user-key"] not in proc.stderr + proc.stdout


def test_kubectl_kustomize_secret_generator_is_out_of_scope(
    files: dict[str, Path], plugin_home: Path, tmp_path: Path
) -> None:
    """A secretGenerator's Secret reaches the transformer in clear; it is not the function's to judge."""
    generator = "secretGenerator:\n  - name: app\n    namespace: apps\n    literals:\n      - password=generated-1\n"
    directory = kustomization(tmp_path / "k", files["good"], with_function=True, extra=generator)
    proc = kubectl_kustomize(directory, plugin_home)
    assert proc.returncode == 0, proc.stderr
    assert "secret-plaintext" not in proc.stderr
    # The same Secret written into a file is checked.
    (directory / "app.yaml").write_text(secret_text({"password": "in-a-file"}, name="app-file", namespace="apps"))
    (directory / "kustomization.yaml").write_text(
        (directory / "kustomization.yaml").read_text().replace(f"  - {SECRET}\n", f"  - {SECRET}\n  - app.yaml\n")
    )
    proc = kubectl_kustomize(directory, plugin_home)
    assert proc.returncode != 0 and "[secret-plaintext] Secret apps/app-file" in proc.stderr


def names_of_secrets(stream: str) -> list[str]:
    return [doc.data["metadata"]["name"] for doc in yamlio.load_documents(stream) if doc.data["kind"] == "Secret"]


def test_kubectl_kustomize_renames_a_generated_stack_secret(plugin_home: Path, tmp_path: Path) -> None:
    """The evidence behind the sops-secret-present warning on a generated stack Secret (kubectl shows a
    plugin's stderr only when it fails, so the warning itself is tested in test_rule_secrets.py)."""
    literals = "".join(f"      - {key}=x\n" for key in upstream_values())
    generator = f"secretGenerator:\n  - name: monitoring-secrets\n    namespace: monitoring\n    literals:\n{literals}"
    directory = tmp_path / "k"
    directory.mkdir()
    shutil.copy(DEFAULT_CONFIG_FILE, directory / "obs.yaml")
    (directory / "kustomization.yaml").write_text(generator + "transformers:\n  - obs.yaml\n")
    proc = kubectl_kustomize(directory, plugin_home)
    assert proc.returncode == 0, proc.stderr
    secret_names = names_of_secrets(proc.stdout)
    assert len(secret_names) == 1 and secret_names[0].startswith("monitoring-secrets-")
    assert "existingSecret: monitoring-secrets\n" in proc.stdout  # Grafana reads the name without the suffix

    options = "    options:\n      disableNameSuffixHash: true\n"
    (directory / "kustomization.yaml").write_text(generator + options + "transformers:\n  - obs.yaml\n")
    proc = kubectl_kustomize(directory, plugin_home)
    assert proc.returncode == 0, proc.stderr
    assert names_of_secrets(proc.stdout) == ["monitoring-secrets"]
