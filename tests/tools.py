"""Locate the real tools the tests drive, and the Docker engine with the function's image.

A missing tool fails the test under CI (``CI=true``), where scripts/install-tools.sh must have
installed it, and skips it elsewhere.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOLS_BIN = REPO / ".tools" / "bin"
IMAGE = "example.com/observability-fn:dev"
INSTALL = "scripts/install-tools.sh"
DOCKER_SETUP = "scripts/install-tools.sh --docker && scripts/docker.sh up base image"


def in_ci() -> bool:
    """True when running under CI, where every tool must be present."""
    return os.environ.get("CI") == "true"


def missing(reason: str) -> NoReturn:
    """Fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def tool(name: str) -> str:
    """Absolute path of the real tool ``name``: ``.tools/bin`` first, then PATH."""
    local = TOOLS_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return os.path.abspath(found)
    missing(f"{name} not found in {TOOLS_BIN} or on PATH; run {INSTALL}")


@functools.cache
def _docker_problem(docker: str) -> str | None:
    """Why Docker cannot run the image, or None if it can (checked once per session)."""
    checks = (
        ([docker, "info", "--format", "{{.ServerVersion}}"], "no running Docker engine"),
        ([docker, "image", "inspect", IMAGE], f"image {IMAGE} not built"),
    )
    for argv, problem in checks:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except subprocess.TimeoutExpired:
            return f"{problem} ({argv[1]} timed out)"
        if proc.returncode != 0:
            return f"{problem}: {proc.stderr.strip()[:200]}"
    return None


def docker_ready() -> None:
    """Require a running Docker engine and the image ``example.com/observability-fn:dev``."""
    problem = _docker_problem(tool("docker"))
    if problem is not None:
        missing(f"{problem}; run {DOCKER_SETUP}")
