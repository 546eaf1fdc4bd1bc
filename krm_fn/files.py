"""Reading manifests from files and directories (for `render` and `check`, which run without kustomize)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from krm_fn import yaml as yamlio
from krm_fn.items import Item
from krm_fn.protocol import decode
from krm_fn.results import Location, Result, Severity
from krm_fn.rules import PARSE

YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".tools"}
READ_RULE = PARSE


def yaml_files(paths: Iterable[str]) -> list[Path]:
    """Every YAML file named or below a named directory, sorted, hidden directories skipped."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                found.extend(Path(root, f) for f in sorted(files) if f.endswith(YAML_SUFFIXES))
        else:
            found.append(path)
    return found


def read_items(paths: Iterable[str]) -> tuple[list[Item], list[Result]]:
    """Items of every document in the files, each knowing its file and line; errors as Results."""
    items: list[Item] = []
    results: list[Result] = []
    for path in yaml_files(paths):
        shown = str(path)
        try:
            text = decode(path.read_bytes(), shown)
            raws = yamlio.split_documents(text)
        except OSError as err:
            results.append(Result(READ_RULE, Severity.ERROR, f"cannot read: {err.strerror}", location=Location(shown)))
            continue
        except yamlio.YamlError as err:
            results.append(Result(READ_RULE, Severity.ERROR, err.message, location=Location(shown, err.line)))
            continue
        for raw in raws:
            item = Item(raw=raw, file=shown)
            error = item.parse_error()
            if error is not None:
                results.append(Result(READ_RULE, Severity.ERROR, error.message, location=Location(shown, error.line)))
                continue
            if isinstance(item.data, dict):
                items.append(item)
    return items, results
