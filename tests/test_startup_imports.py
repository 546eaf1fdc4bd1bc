"""What a warm KRM run imports: nothing that only a cold run, an error or another command needs.

Every run is a new process, so each module imported on the way is paid by every `kpt fn eval`
(bench/README.md has the costs). This checks the modules, not the time: timings belong to
`bench/`, not to unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import yaml

from tests.helpers import REPO, UPSTREAM, default_config, resource_list

# Modules a warm run of the 20-resource kind must not load, with what each is for.
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
    stdin = resource_list(items, config)
    cold, cold_out = _run(stdin, tmp_path)
    warm, warm_out = _run(stdin, tmp_path)

    assert cold["code"] == warm["code"] == 0
    assert warm_out == cold_out
    assert list((tmp_path / "cache").iterdir())  # the cold run validated for real and remembered it
    # Valid input passes krm_fn.schemacheck's fast check: not even a cold run imports jsonschema.
    assert "jsonschema" not in cold["modules"] and "referencing" not in cold["modules"]
    loaded = {name: why for name, why in NOT_ON_THE_WARM_PATH.items() if name in warm["modules"]}
    assert not loaded, f"a warm run imports modules it does not need: {loaded}"
