"""Standalone `kustomize build --enable-alpha-plugins --enable-exec` runs the function as an exec KRM function.

Listed under `generators:` it sees only its config (so it cannot check the Secret, and says so in
an info result); under `transformers:` it sees every resource, renders and checks; under
`validators:` (config annotated `observability.catinthehack.ca/mode: validate`) it checks and
must leave the resource map exactly as it was. kustomize ignores KRM results, so these tests
assert on kustomize's output, its exit code, and the function's stderr, which kustomize shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import FUNCTION, UPSTREAM, canonical, default_config, kustomize_build, objects, run_cli

pytestmark = pytest.mark.e2e

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"
PLAIN_SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.plain.yaml"
FUNCTION_ANNOTATION = "config.kubernetes.io/function"
MODE_ANNOTATION = "observability.catinthehack.ca/mode"


def route(name: str, hostname: str) -> dict:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": {
            "parentRefs": [{"name": "traefik-gateway", "namespace": "traefik"}],
            "hostnames": [hostname],
            "rules": [{"backendRefs": [{"name": name, "port": 80}]}],
        },
    }


def write_kustomization(
    root: Path,
    field: str,
    resources: dict[str, str] | None = None,
    mode: str | None = None,
    config: dict | None = None,
) -> Path:
    """A kustomization running the function (exec) under `field`, with `resources` as files."""
    root.mkdir(parents=True, exist_ok=True)
    config = config or default_config()
    annotations = config["metadata"].setdefault("annotations", {})
    annotations[FUNCTION_ANNOTATION] = yaml.safe_dump({"exec": {"path": FUNCTION}})
    if mode:
        annotations[MODE_ANNOTATION] = mode
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name, text in (resources or {}).items():
        (root / name).write_text(text)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(resources or {}),
        field: ["observability.yaml"],
    }
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return root


def stack(*extra: Path) -> list[dict]:
    """The function's own rendering of the default config (plus files passed through)."""
    config = Path(__file__).resolve().parent.parent / "function-config" / "observability.yaml"
    proc = run_cli("render", str(config), *map(str, extra))
    assert proc.returncode == 0, proc.stderr.decode()
    return objects(proc.stdout.decode())


def test_generator_renders_the_stack_and_says_the_secret_was_not_checked(tmp_path: Path) -> None:
    root = write_kustomization(tmp_path / "k", "generators")
    proc = kustomize_build(root)
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical(stack())
    notes = [line for line in proc.stderr.splitlines() if " info [" in line]
    assert any("monitoring-secrets" in line and "checked" in line for line in notes), proc.stderr


def test_generator_output_is_a_plain_build_with_no_function_annotations(tmp_path: Path) -> None:
    proc = kustomize_build(write_kustomization(tmp_path / "k", "generators"))
    assert proc.returncode == 0, proc.stderr
    for obj in objects(proc.stdout):
        annotations = obj["metadata"].get("annotations", {})
        assert not [a for a in annotations if a.startswith(("config.kubernetes.io/", "internal.config"))], obj
        assert obj["kind"] != "ObservabilityConfig"


def test_transformer_renders_the_stack_with_the_resources_passed_through(tmp_path: Path) -> None:
    resources = {"secret.yaml": SECRET_FILE.read_text(), "route.yaml": yaml.safe_dump(route("web", "web.example.org"))}
    proc = kustomize_build(write_kustomization(tmp_path / "k", "transformers", resources))
    assert proc.returncode == 0, proc.stderr
    assert canonical(objects(proc.stdout)) == canonical([*stack(SECRET_FILE), route("web", "web.example.org")])
    assert " error [" not in proc.stderr


def test_transformer_fails_the_build_on_a_plaintext_secret(tmp_path: Path) -> None:
    resources = {"secret.yaml": PLAIN_SECRET_FILE.read_text()}
    proc = kustomize_build(write_kustomization(tmp_path / "k", "transformers", resources))
    assert proc.returncode != 0
    assert proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if " error [" in line]
    assert any("Secret monitoring/monitoring-secrets" in line for line in errors), proc.stderr
    for value in yaml.safe_load(PLAIN_SECRET_FILE.read_text())["stringData"].values():
        assert str(value) not in proc.stderr


def without_function(root: Path) -> str:
    """The same kustomization with the function removed: the resource map a validator must keep."""
    kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
    kustomization.pop("validators", None)
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    proc = kustomize_build(root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_validator_leaves_the_resource_map_unchanged(tmp_path: Path) -> None:
    resources = {
        "secret.yaml": SECRET_FILE.read_text(),
        "route.yaml": yaml.safe_dump(route("grafana-extra", "dashboards.catinthehack.ca")),
    }
    root = write_kustomization(tmp_path / "k", "validators", resources, mode="validate")
    proc = kustomize_build(root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == without_function(root)


def test_validator_fails_the_build_on_a_bad_hostname(tmp_path: Path) -> None:
    resources = {
        "secret.yaml": SECRET_FILE.read_text(),
        "route.yaml": yaml.safe_dump(route("bad", "Grafana..catinthehack.ca")),
    }
    proc = kustomize_build(write_kustomization(tmp_path / "k", "validators", resources, mode="validate"))
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if " error [" in line]
    assert any("HTTPRoute apps/bad" in line and "hostname" in line.lower() for line in errors), proc.stderr


def test_validator_without_validate_mode_is_refused_by_kustomize(tmp_path: Path) -> None:
    """Without the annotation the function generates, and kustomize rejects a validator that changes
    the resource map: the reason the config must say `mode: validate` under `validators:`."""
    proc = kustomize_build(write_kustomization(tmp_path / "k", "validators", {"secret.yaml": SECRET_FILE.read_text()}))
    assert proc.returncode != 0
    assert "shouldn't modify the resource map" in proc.stderr
