"""The start-up budget (docs/startup.md), enforced: what a warm KRM run imports, and the pointers.

Every run is a new process, so each module imported on the way is paid by every `kpt fn eval`.
docs/startup.md says what must not load on a normal run and why, with the numbers; this checks the
modules, not the time (timings belong to `bench/`, not to unit tests), and that every deferred
import in krm_fn/ points to that page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

from tests.helpers import REPO, UPSTREAM, default_config, resource_list
from tests.tools import tool

# Modules a warm run of the 20-resource kind must not load, with what each is for (docs/startup.md).
NOT_ON_THE_WARM_PATH = {
    "jsonschema": "validation on a cache miss",
    "referencing": "validation on a cache miss",
    "kubernetes_validate": "its schemas are read as files, never imported",
    "difflib": "suggestions for a wrong name",
    "argparse": "the subcommands",
    "pathlib": "os.path does (pathlib pulls urllib.parse and ipaddress)",
    "ipaddress": "hostname checks of invalid names",
    "hashlib": "_sha256 gives the cache keys without OpenSSL",
    "importlib.resources": "the schema is read next to the module",
    "typing": "annotations are strings; Record replaces NamedTuple",
    "dataclasses": "krm_fn.record.Record costs nothing to define",
    "inspect": "pulled by dataclasses",
    "tempfile": "pulled by importlib.resources",
    "zipfile": "pulled by importlib.resources",
    "importlib.machinery": "kubernetes-validate is found on sys.path with os.path",
    "warnings": "pulled by importlib",
    "copy": "krm_fn.plain.plain_copy copies plain data",
    "weakref": "pulled by copy",
    "yaml": "krm_fn/yaml/read.py reads and direct.py writes what a normal run meets",
    "yaml.loader": "PyYAML's loader classes come with `import yaml`",
    "yaml.composer": "PyYAML's loader classes come with `import yaml`",
}

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from krm_fn.cli import main
    code = main([])
    with open(os.environ["MODULES_FILE"], "w") as handle:
        json.dump({"code": code, "modules": sorted(sys.modules)}, handle)
    """
)


def _run(stdin: bytes, tmp_path) -> tuple[dict, bytes]:
    modules_file = tmp_path / "modules.json"
    env = {
        **os.environ,
        "OBSERVABILITY_FN_CACHE": "on",
        "OBSERVABILITY_FN_CACHE_DIR": str(tmp_path / "cache"),
        "MODULES_FILE": str(modules_file),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], input=stdin, capture_output=True, env=env, cwd=REPO, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(modules_file.read_text()), proc.stdout


def _at(obj: dict, path: str) -> dict:
    return {**obj, "metadata": {**obj["metadata"], "annotations": {"config.kubernetes.io/path": path}}}


def test_a_warm_krm_run_imports_nothing_it_does_not_need(tmp_path):
    config = default_config()
    secret = yaml.safe_load((UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text())
    items = [
        _at(config, "obs.yaml"),
        _at(secret, "secrets.enc.yaml"),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "app", "namespace": "apps", "annotations": {"config.kubernetes.io/path": "app.yaml"}},
            "data": {"VERSION": "1.10"},
        },
    ]
    stdin = resource_list(items, json.loads(json.dumps(config)))  # no YAML anchor tying the two together
    cold, cold_out = _run(stdin, tmp_path)
    warm, warm_out = _run(stdin, tmp_path)

    assert cold["code"] == warm["code"] == 0
    assert warm_out == cold_out
    assert list((tmp_path / "cache").iterdir())  # the cold run validated for real and remembered it
    # Valid input passes krm_fn.schemacheck's fast check: not even a cold run imports jsonschema.
    assert "jsonschema" not in cold["modules"] and "referencing" not in cold["modules"]
    loaded = {name: why for name, why in NOT_ON_THE_WARM_PATH.items() if name in warm["modules"]}
    assert not loaded, f"a warm run imports modules it does not need: {loaded}"


@pytest.mark.e2e
def test_a_warm_run_of_configmaps_holding_files_imports_no_yaml_loader(tmp_path):
    """Issue 25: kpt sends files in ConfigMaps as single-quoted scalars over several lines and as
    double-quoted ones with escapes; with SOPS Secrets, the config and the stack Secret, a warm
    20-resource run reads them all without PyYAML (bench/packages.py, the `files` style)."""
    sys.path.insert(0, str(REPO / "bench"))
    import packages

    pkg = packages.build(tmp_path / "pkg", 20, 4, style="files")
    capture = tmp_path / "resource-list.yaml"
    tee = tmp_path / "tee.sh"
    tee.write_text(f"#!/bin/sh\nexec tee {capture}\n")
    tee.chmod(0o755)
    proc = subprocess.run(
        [tool("kpt"), "fn", "eval", str(pkg), "--exec", str(tee), "--fn-config", str(pkg / "obs.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    stdin = capture.read_bytes()
    assert b"\n'\n" in stdin and b'\\"' in stdin  # kpt's closing quote at column 0, kyaml's escapes
    _run(stdin, tmp_path)  # cold: fills the validation cache
    warm, _ = _run(stdin, tmp_path)
    loaded = {name: why for name, why in NOT_ON_THE_WARM_PATH.items() if name in warm["modules"]}
    assert not loaded, f"a warm run of ConfigMaps holding files imports modules it does not need: {loaded}"


POINTER = "start-up budget: docs/startup.md"
CONTINUED = ("except", "else", "elif", "finally")  # top-level lines that continue a statement
DEFERRED = re.compile(r"^\s+(?:import \w|from [\w.]+ import )")


def deferred_imports_without_pointer(text: str) -> list[int]:
    """Lines of indented imports whose block has no POINTER: the import's own line, or any line back to
    the enclosing top-level statement (def, class, if, try) and the comments right above it."""
    lines = text.splitlines()
    missing = []
    for number, line in enumerate(lines):
        if not DEFERRED.match(line):
            continue
        start = number
        while start > 0 and (not lines[start].strip() or lines[start].startswith((" ", ")", *CONTINUED))):
            start -= 1
        while start > 0 and lines[start - 1].startswith("#"):
            start -= 1
        if not any(POINTER in above for above in lines[start : number + 1]):
            missing.append(number + 1)
    return missing


def test_every_deferred_import_points_to_the_budget():
    missing = [
        f"{path.relative_to(REPO)}:{line}"
        for path in sorted((REPO / "krm_fn").rglob("*.py"))
        for line in deferred_imports_without_pointer(path.read_text())
    ]
    assert not missing, f"deferred imports without a `# {POINTER}` comment: {missing}"
    assert (REPO / "docs" / "startup.md").is_file()


def test_the_pointer_check_sees_a_bare_deferred_import():
    """Control: a deferred import with no pointer is found; one under a pointed block is not."""
    text = (
        "def a():\n    import difflib\n\n\n# start-up budget: docs/startup.md\n"
        "try:\n    from _sha256 import x\nexcept ImportError:\n    import x\n"
    )
    assert deferred_imports_without_pointer(text) == [2]
