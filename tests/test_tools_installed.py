"""The real tools and the container image that the other tests rely on are installed and run.

Under CI (``CI=true``) a missing tool fails here, which points at a broken install step.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.tools import IMAGE, docker_ready, tool

VERSION_ARGS: dict[str, list[str]] = {
    "kpt": ["version"],
    "kubectl": ["version", "--client"],
    "kustomize": ["version"],
    "sops": ["--disable-version-check", "--version"],
    "age": ["--version"],
    "age-keygen": ["--version"],
    "amtool": ["--version"],
    "alertmanager": ["--version"],
    "promtool": ["--version"],
    "prometheus": ["--version"],
    "docker": ["--version"],
    "envsubst": ["--version"],
    "helm": ["version", "--short"],
}

# How kustomize runs a container KRM function (kpt adds only --pull).
DOCKER_RUN = ["run", "--rm", "-i", "--network", "none", "--user", "nobody", "--security-opt=no-new-privileges"]


def run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion, capturing text output."""
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", sorted(VERSION_ARGS))
def test_tool_runs_and_prints_version(name: str) -> None:
    """Each tool resolves to an executable that answers its version query."""
    proc = run([tool(name), *VERSION_ARGS[name]])
    out = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, f"{name}: rc {proc.returncode}: {out}"
    # Debian's kustomize build reports "(devel)" rather than a number.
    assert out and (any(c.isdigit() for c in out) or name == "kustomize"), out


def test_helm_is_version_4() -> None:
    """The rendered fixtures and `render --through-helm` tests were made with helm v4 (install-tools pins it)."""
    proc = run([tool("helm"), "version", "--template", "{{.Version}}"])
    assert proc.stdout.startswith("v4."), proc.stdout + proc.stderr


def test_kustomize_has_enable_exec() -> None:
    """The standalone kustomize can run exec KRM functions (kubectl kustomize cannot)."""
    proc = run([tool("kustomize"), "build", "--help"])
    assert "--enable-exec" in proc.stdout + proc.stderr


@pytest.mark.docker
def test_image_runs_as_kustomize_runs_it() -> None:
    """An empty ResourceList through the image, exactly as kustomize runs it, comes back a ResourceList."""
    docker_ready()
    empty = json.dumps({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": []})
    proc = run([tool("docker"), *DOCKER_RUN, IMAGE], stdin=empty)
    # No functionConfig: the function may report that as an error result (exit 1), but must not crash.
    assert proc.returncode in (0, 1), f"rc {proc.returncode}: {proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    answer = yaml.safe_load(proc.stdout)
    assert isinstance(answer, dict), proc.stdout
    assert answer.get("kind") == "ResourceList", proc.stdout


@pytest.mark.docker
def test_image_user_is_not_root() -> None:
    """The image runs as a non-root user even without ``--user``."""
    docker_ready()
    docker = tool("docker")
    user = run([docker, "image", "inspect", "--format", "{{.Config.User}}", IMAGE]).stdout.strip()
    assert user.split(":")[0] not in ("", "0", "root"), f"Config.User is {user!r}"
    proc = run([docker, "run", "--rm", "--network", "none", "--entrypoint", "id", IMAGE, "-u"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() != "0"
