"""Shared test helpers: the repository, the default config, and running the function."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from krm_fn import protocol
from krm_fn import yaml as yamlio
from krm_fn.items import Item

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO / "function-config" / "observability.yaml"
UPSTREAM = REPO / "third_party" / "upstream"
# The console script of the venv that runs the tests: a real interpreter, never a pyenv shim.
FUNCTION = str(Path(sys.executable).parent / "observability-fn")


def default_config() -> dict:
    """A fresh copy of function-config/observability.yaml as data."""
    return copy.deepcopy(yaml.safe_load(DEFAULT_CONFIG_FILE.read_text()))


def config_with(**spec_overrides) -> dict:
    """The default config with some spec fields replaced (keys in the schema's camelCase)."""
    config = default_config()
    config["spec"].update(copy.deepcopy(spec_overrides))
    return config


def resource_list(items: list[dict], function_config: dict | None = None) -> bytes:
    """A ResourceList as kpt would send it (block YAML)."""
    doc: dict = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        doc["functionConfig"] = function_config
    return yaml.safe_dump(doc, sort_keys=False).encode()


def run_krm(items: list[dict], function_config: dict | None = None) -> tuple[dict, protocol.Outcome]:
    """Run the function in-process on a ResourceList; (parsed output, outcome)."""
    outcome = protocol.run_krm(resource_list(items, function_config))
    return yamlio.load_one(outcome.stdout), outcome


def run_cli(*args: str, stdin: bytes = b"", env: dict | None = None, cwd: Path | None = None):
    """Run the installed console script as a subprocess (what kpt and kustomize do)."""
    full_env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off", **(env or {})}
    return subprocess.run(
        [FUNCTION, *args], input=stdin, capture_output=True, env=full_env, cwd=cwd, timeout=120, check=False
    )


def generated_of_kind(output: dict, kind: str) -> list[dict]:
    return [i for i in output.get("items", []) if i.get("kind") == kind]


def items_from(files: dict[str, str]) -> list[Item]:
    """The objects of YAML files as `observability-fn check` reads them (file and line known)."""
    items = []
    for name, text in files.items():
        for raw in yamlio.split_documents(textwrap.dedent(text).lstrip("\n")):
            items.append(Item(raw=raw, file=name))
    return items


def kptfile(function: str, config_path: str = "observability.yaml") -> str:
    """A Kptfile whose pipeline runs one mutator (`exec: observability-fn` or `image: ...`) on the config."""
    return f"""\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: monitoring
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - {function}
      configPath: {config_path}
"""
