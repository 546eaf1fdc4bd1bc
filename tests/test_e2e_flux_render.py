"""The Flux build: `observability-fn render CONFIG SECRET --output DIR`, read back by plain kustomize.

Flux's kustomize-controller runs no plugins, so the committed directory must build with a plain
`kubectl kustomize DIR` (no --enable-alpha-plugins) into exactly the objects the function emits.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from krm_fn import yaml as yamlio
from tests.helpers import DEFAULT_CONFIG_FILE, UPSTREAM, canonical, config_with, run_cli, tree
from tests.tools import tool

pytestmark = pytest.mark.e2e

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"


def kustomize(directory: Path) -> list[dict]:
    """`kubectl kustomize DIR` with no plugins, as Flux's kustomize-controller builds."""
    proc = subprocess.run(
        [tool("kubectl"), "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return [doc.data for doc in yamlio.load_documents(proc.stdout)]


def render_stdout(*paths: Path) -> list[dict]:
    proc = run_cli("render", *map(str, paths))
    assert proc.returncode == 0, proc.stderr.decode()
    return [doc.data for doc in yamlio.load_documents(proc.stdout.decode())]


def render_dir(output: Path, *paths: Path, check: bool = False) -> subprocess.CompletedProcess:
    return run_cli("render", *map(str, paths), "--output", str(output), *(["--check"] if check else []))


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    out = tmp_path / "rendered"
    proc = render_dir(out, DEFAULT_CONFIG_FILE, SECRET_FILE)
    assert proc.returncode == 0, proc.stderr.decode()
    return out


def test_plain_kustomize_build_equals_the_function_output(rendered: Path) -> None:
    built = kustomize(rendered)
    expected = render_stdout(DEFAULT_CONFIG_FILE, SECRET_FILE)
    assert canonical(built) == canonical(expected)
    assert {o["kind"] for o in built} >= {"Secret", "HelmRelease", "PodMonitor", "Namespace", "HTTPRoute"}


def test_crs_of_the_charts_crds_build_apart_from_the_stack(rendered: Path) -> None:
    """Flux dry-runs a whole Kustomization first: the PodMonitor must not share one with its CRD's HelmRelease."""
    stack, monitors = kustomize(rendered / "stack"), kustomize(rendered / "monitors")
    assert canonical(stack + monitors) == canonical(kustomize(rendered))
    assert [o["kind"] for o in monitors] == ["PodMonitor"]
    assert not [o for o in stack if o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert any(o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack" for o in stack)


def test_one_file_per_object_and_the_secret_byte_for_byte(rendered: Path) -> None:
    files = tree(rendered)
    assert files["stack/monitoring/secret-monitoring-secrets.yaml"] == SECRET_FILE.read_bytes()
    objects = [name for name in files if not name.endswith("kustomization.yaml")]
    assert len(objects) == len(render_stdout(DEFAULT_CONFIG_FILE, SECRET_FILE))
    for name in objects:
        assert len(yamlio.load_documents(files[name].decode())) == 1, name


def test_rendered_secret_still_decrypts(tmp_path: Path) -> None:
    """What Flux's SOPS decryption needs: the file on disk is the user's encrypted file, intact."""
    from tests.sops_fixtures import make_sops, secret_text, upstream_values

    sops = make_sops(tmp_path / "key")
    secret = sops.encrypt_text(secret_text(upstream_values()), tmp_path / "secret.enc.yaml")
    out = tmp_path / "rendered"
    proc = render_dir(out, DEFAULT_CONFIG_FILE, secret)
    assert proc.returncode == 0, proc.stderr.decode()
    written = out / "stack" / "monitoring" / "secret-monitoring-secrets.yaml"
    assert written.read_bytes() == secret.read_bytes()
    assert sops.decrypt(written).returncode == 0


def test_render_is_deterministic(tmp_path: Path, rendered: Path) -> None:
    again = tmp_path / "again"
    assert render_dir(again, DEFAULT_CONFIG_FILE, SECRET_FILE).returncode == 0
    assert tree(again) == tree(rendered)


def test_check_passes_right_after_render(rendered: Path) -> None:
    proc = render_dir(rendered, DEFAULT_CONFIG_FILE, SECRET_FILE, check=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b""


def test_check_fails_with_a_diff_after_a_config_change(tmp_path: Path, rendered: Path) -> None:
    config = write_config(tmp_path / "obs.yaml", config_with(cluster="homelab"))
    before = tree(rendered)
    proc = render_dir(rendered, config, SECRET_FILE, check=True)
    assert proc.returncode == 1
    diff = proc.stdout.decode()
    assert "+++ b/stack/monitoring/helmrelease-kube-prometheus-stack.yaml" in diff
    assert any(line.startswith("+") and "homelab" in line for line in diff.splitlines())
    stderr = proc.stderr.decode()
    assert f"{rendered} is stale" in stderr and "Traceback" not in stderr
    assert tree(rendered) == before, "--check must not write"


def test_check_fails_on_a_stray_file(rendered: Path) -> None:
    (rendered / "stack" / "monitoring" / "leftover.yaml").write_text("kind: ConfigMap\n")
    proc = render_dir(rendered, DEFAULT_CONFIG_FILE, SECRET_FILE, check=True)
    assert proc.returncode == 1
    assert "--- a/stack/monitoring/leftover.yaml\n+++ /dev/null\n" in proc.stdout.decode()


def test_check_fails_on_a_missing_directory(tmp_path: Path) -> None:
    proc = render_dir(tmp_path / "never-rendered", DEFAULT_CONFIG_FILE, check=True)
    assert proc.returncode == 1
    assert "+++ b/kustomization.yaml" in proc.stdout.decode()


def test_check_never_shows_secret_contents(rendered: Path) -> None:
    path = rendered / "stack" / "monitoring" / "secret-monitoring-secrets.yaml"
    text = path.read_text()
    path.write_text(text.replace("pushover-user-key: ENC[", "pushover-user-key: ENC[x", 1))
    proc = render_dir(rendered, DEFAULT_CONFIG_FILE, SECRET_FILE, check=True)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert "a Secret differs; its contents are not shown" in out
    assert "ENC[" not in out and "pushover-user-key" not in out


def test_render_again_removes_what_the_config_no_longer_asks_for(tmp_path: Path, rendered: Path) -> None:
    config = default_without_alloy_ui(tmp_path)
    proc = render_dir(rendered, config, SECRET_FILE)
    assert proc.returncode == 0, proc.stderr.decode()
    assert not (rendered / "stack" / "monitoring" / "httproute-alloy.yaml").exists()
    assert "httproute-alloy.yaml" not in (rendered / "stack" / "kustomization.yaml").read_text()
    assert render_dir(rendered, config, SECRET_FILE, check=True).returncode == 0
    assert canonical(kustomize(rendered)) == canonical(render_stdout(config, SECRET_FILE))


def default_without_alloy_ui(tmp_path: Path) -> Path:
    return write_config(tmp_path / "obs.yaml", config_with(ui={"alloy": {"enabled": False}}))


def test_render_keeps_dotfiles_and_removes_emptied_directories(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: other\ndata: {}\n")
    out = tmp_path / "rendered"
    assert render_dir(out, DEFAULT_CONFIG_FILE, SECRET_FILE, extra).returncode == 0
    assert (out / "stack" / "other" / "configmap-extra.yaml").read_bytes() == extra.read_bytes()
    (out / ".gitkeep").write_text("")
    proc = render_dir(out, DEFAULT_CONFIG_FILE, SECRET_FILE)
    assert proc.returncode == 0, proc.stderr.decode()
    assert (out / ".gitkeep").exists()
    assert not (out / "stack" / "other").exists()


def test_render_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.md").write_text("mine\n")
    proc = render_dir(target, DEFAULT_CONFIG_FILE)
    assert proc.returncode == 1
    stderr = proc.stderr.decode()
    assert "did not write" in stderr and stderr.count("\n") == 1
    assert sorted(p.name for p in target.iterdir()) == ["notes.md"]


def test_render_skips_its_own_output_and_kustomize_files_when_given_a_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(DEFAULT_CONFIG_FILE, repo / "observability.yaml")
    shutil.copy(SECRET_FILE, repo / "monitoring-secrets.enc.yaml")
    (repo / "kustomization.yaml").write_text("resources:\n- monitoring-secrets.enc.yaml\n")
    out = repo / "rendered"
    assert render_dir(out, repo).returncode == 0
    proc = render_dir(out, repo)  # the second time, rendered/ is inside the input directory
    assert proc.returncode == 0, proc.stderr.decode()
    assert canonical(kustomize(out)) == canonical(render_stdout(DEFAULT_CONFIG_FILE, SECRET_FILE))


def test_render_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        (["render", str(SECRET_FILE)], "no ObservabilityConfig"),
        (["render", str(DEFAULT_CONFIG_FILE), "--check"], "--output"),
        (["render", str(tmp_path / "missing.yaml")], "missing.yaml"),
    ]
    for args, expected in cases:
        proc = run_cli(*args)
        stderr = proc.stderr.decode()
        assert proc.returncode == 1, args
        assert expected in stderr and "Traceback" not in stderr, (args, stderr)


def test_diff_hides_a_secret_in_any_yaml_layout(tmp_path: Path) -> None:
    from krm_fn import render

    (tmp_path / "old.yaml").write_text("{apiVersion: v1, kind: Secret, stringData: {token: s3cr3t-old}}\n")
    diff = render.diff_files(tmp_path, {"new.yaml": '{"kind": "Secret", "stringData": {"token": "s3cr3t-new"}}\n'})
    assert "s3cr3t" not in diff
    assert diff.count("its contents are not shown") == 2


def test_rendered_build_has_nothing_for_flux_post_build_substitution(rendered: Path) -> None:
    """Flux's postBuild substitution (if a user turns it on) rewrites every `${var}` in the build, in strict
    mode failing on unset ones (fluxcd/flux2-monitoring-example#44); Prometheus' `{{ $labels.x }}` is safe."""
    for name, content in tree(rendered).items():
        assert b"${" not in content, name
