"""kubectl's embedded kustomize runs the function as a legacy exec plugin (kubectl has no --enable-exec).

`observability-fn install-plugin --dir HOME` puts the plugin where kustomize looks for an
`observability.catinthehack.ca/v1alpha1` `ObservabilityConfig`; then
`KUSTOMIZE_PLUGIN_HOME=HOME kubectl kustomize --enable-alpha-plugins DIR` runs it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, REPO, UPSTREAM, canonical, default_config, objects, run_cli
from tests.tools import tool

pytestmark = pytest.mark.e2e

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"
PLAIN_SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.plain.yaml"
PLUGIN = "observability.catinthehack.ca/v1alpha1/observabilityconfig/ObservabilityConfig"


def kubectl_kustomize(directory: Path, home: Path | None, *flags: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KUSTOMIZE_PLUGIN_HOME", "XDG_CONFIG_HOME")}
    env["OBSERVABILITY_FN_CACHE"] = "off"
    if home is not None:
        env["KUSTOMIZE_PLUGIN_HOME"] = str(home)
    argv = [tool("kubectl"), "kustomize", *flags, str(directory)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)


def render(*paths: Path) -> list[dict]:
    proc = run_cli("render", *map(str, paths))
    assert proc.returncode == 0, proc.stderr.decode()
    return objects(proc.stdout.decode())


def write_kustomization(root: Path, field: str, resources: dict[str, str], config: dict | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "observability.yaml").write_text(yaml.safe_dump(config or default_config(), sort_keys=False))
    for name, text in resources.items():
        (root / name).write_text(text)
    kustomization = {"resources": sorted(resources), field: ["observability.yaml"]}
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return root


def test_install_plugin_links_the_console_script(plugin_home: Path) -> None:
    plugin = plugin_home / PLUGIN
    assert plugin.is_symlink() and os.access(plugin, os.X_OK)
    assert plugin.resolve() == Path(FUNCTION).resolve()


def test_install_plugin_again_replaces_the_link(plugin_home: Path) -> None:
    proc = run_cli("install-plugin", "--dir", str(plugin_home))
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode() == f"{plugin_home / PLUGIN}\n"
    assert (plugin_home / PLUGIN).resolve() == Path(FUNCTION).resolve()
    assert "KUSTOMIZE_PLUGIN_HOME=" in proc.stderr.decode()


def test_install_plugin_defaults_to_kustomizes_own_plugin_home(tmp_path: Path) -> None:
    """With no --dir and no KUSTOMIZE_PLUGIN_HOME, kubectl finds the plugin with no extra setting."""
    env = {"HOME": str(tmp_path), "KUSTOMIZE_PLUGIN_HOME": "", "XDG_CONFIG_HOME": ""}
    proc = run_cli("install-plugin", env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert Path(proc.stdout.decode().strip()) == tmp_path / ".config" / "kustomize" / "plugin" / PLUGIN
    assert "KUSTOMIZE_PLUGIN_HOME" not in proc.stderr.decode()
    run_env = {k: v for k, v in os.environ.items() if k not in ("KUSTOMIZE_PLUGIN_HOME", "XDG_CONFIG_HOME")}
    run_env.update(HOME=str(tmp_path), OBSERVABILITY_FN_CACHE="off")
    built = subprocess.run(
        [tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(REPO)],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert canonical(objects(built.stdout)) == canonical(render(DEFAULT_CONFIG_FILE))


def test_repository_root_renders_the_default_stack(plugin_home: Path) -> None:
    proc = kubectl_kustomize(REPO, plugin_home, "--enable-alpha-plugins")
    assert proc.returncode == 0, proc.stderr
    built = objects(proc.stdout)
    assert canonical(built) == canonical(render(DEFAULT_CONFIG_FILE))
    assert {"Namespace", "HelmRelease", "HTTPRoute", "PodMonitor"} <= {o["kind"] for o in built}


def test_repository_root_needs_alpha_plugins(plugin_home: Path) -> None:
    proc = kubectl_kustomize(REPO, plugin_home)
    assert proc.returncode != 0
    assert "external plugins disabled" in proc.stderr


def test_legacy_transformer_renders_and_passes_the_secret_through(plugin_home: Path, tmp_path: Path) -> None:
    root = write_kustomization(tmp_path / "k", "transformers", {"secret.yaml": SECRET_FILE.read_text()})
    proc = kubectl_kustomize(root, plugin_home, "--enable-alpha-plugins")
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical(render(DEFAULT_CONFIG_FILE, SECRET_FILE))


def test_legacy_transformer_fails_on_a_plaintext_secret(plugin_home: Path, tmp_path: Path) -> None:
    root = write_kustomization(tmp_path / "k", "transformers", {"secret.yaml": PLAIN_SECRET_FILE.read_text()})
    proc = kubectl_kustomize(root, plugin_home, "--enable-alpha-plugins")
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "error [" in proc.stderr and "Secret monitoring/monitoring-secrets" in proc.stderr
    for value in yaml.safe_load(PLAIN_SECRET_FILE.read_text())["stringData"].values():
        assert str(value) not in proc.stderr


def test_legacy_validator_leaves_the_resources_alone(plugin_home: Path, tmp_path: Path) -> None:
    config = default_config()
    config["metadata"]["annotations"]["observability.catinthehack.ca/mode"] = "validate"
    root = write_kustomization(tmp_path / "k", "validators", {"secret.yaml": SECRET_FILE.read_text()}, config)
    proc = kubectl_kustomize(root, plugin_home, "--enable-alpha-plugins")
    assert proc.returncode == 0, proc.stderr
    kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
    del kustomization["validators"]
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    plain = kubectl_kustomize(root, None)
    assert plain.returncode == 0, plain.stderr
    assert proc.stdout == plain.stdout


def test_exec_function_annotation_is_skipped_silently_by_kubectl(plugin_home: Path, tmp_path: Path) -> None:
    """Why the legacy form exists: kubectl ignores a `config.kubernetes.io/function: exec:` config
    without a word, so a config meant for kubectl must not carry that annotation."""
    config = default_config()
    config["metadata"]["annotations"]["config.kubernetes.io/function"] = yaml.safe_dump({"exec": {"path": FUNCTION}})
    root = write_kustomization(tmp_path / "k", "generators", {}, config)
    proc = kubectl_kustomize(root, plugin_home, "--enable-alpha-plugins")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() in ("", "{}")
