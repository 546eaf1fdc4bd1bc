"""Identical input gives byte-identical output: across runs, Python hash seeds and cache states.

Through the console script, as kpt and kustomize run it: set and dict iteration orders vary
with PYTHONHASHSEED, so any ordering by hash shows up here as a difference.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, UPSTREAM, default_config

SEEDS = ("0", "1", "4242", "random")
USER_OBJECTS = """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: tricky # a comment
    namespace: apps
  data:
    version: "1.10"
    mode: "0777"
    switch: "on"
- apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata:
    name: Bad.Route
    namespace: apps
  spec:
    parentRefs: [{name: traefik-gateway, namespace: traefik}]
    hostnames: ["Grafana.catinthehack.ca", "grafana.catinthehack.ca", "*.x..org"]
- apiVersion: v1
  kind: Secret
  metadata:
    name: plain
    namespace: apps
  stringData:
    b: two
    a: one
"""


def resource_list() -> bytes:
    secret = (UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text().splitlines(keepends=True)
    entry = "".join(("- " if i == 0 else "  ") + line for i, line in enumerate(secret))
    config = yaml.safe_dump(default_config(), sort_keys=False).splitlines(keepends=True)
    return (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        + entry
        + USER_OBJECTS
        + "functionConfig:\n"
        + "".join("  " + line for line in config)
    ).encode()


def run(*args: str, stdin: bytes = b"", seed: str = "0", cache: Path | None = None) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    if cache is None:
        env["OBSERVABILITY_FN_CACHE"] = "off"
    else:
        env.pop("OBSERVABILITY_FN_CACHE", None)
        env["OBSERVABILITY_FN_CACHE_DIR"] = str(cache)
    proc = subprocess.run([FUNCTION, *args], input=stdin, capture_output=True, env=env, timeout=120, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="krm"),
        pytest.param(("render", str(DEFAULT_CONFIG_FILE)), id="render"),
    ],
)
def test_same_output_for_every_hash_seed(args: tuple[str, ...]):
    stdin = resource_list() if not args else b""
    outputs = {seed: run(*args, stdin=stdin, seed=seed) for seed in SEEDS}
    first = outputs[SEEDS[0]]
    assert first[1]  # something was printed
    for seed, output in outputs.items():
        assert output == first, f"PYTHONHASHSEED={seed} differs"


def test_findings_are_reported_in_the_same_order_every_time():
    _, _, stderr = run(stdin=resource_list())
    lines = stderr.decode().splitlines()
    assert len(lines) >= 3  # the route and the plaintext Secret give several findings
    for seed in SEEDS[1:]:
        assert run(stdin=resource_list(), seed=seed)[2].decode().splitlines() == lines


def test_check_output_is_deterministic(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "observability.yaml").write_text(DEFAULT_CONFIG_FILE.read_text())
    (repo / "apps" / "objects.yaml").write_text(
        "---\n".join(yaml.safe_dump(obj, sort_keys=False) for obj in yaml.safe_load(USER_OBJECTS))
    )
    outputs = {seed: run("check", str(repo), seed=seed) for seed in SEEDS}
    assert len(set(outputs.values())) == 1


def test_the_validation_cache_never_changes_the_output(tmp_path: Path):
    stdin = resource_list()
    uncached = run(stdin=stdin)
    cold = run(stdin=stdin, cache=tmp_path / "cache")
    warm = run(stdin=stdin, cache=tmp_path / "cache")
    assert any((tmp_path / "cache").iterdir())  # the first run remembered something
    assert cold == uncached
    assert warm == uncached
