"""Which files a repository walk reads: YAML below the paths, as Flux's source would hold them.

Hidden and tool directories are skipped, Helm chart folders (a `Chart.yaml`) are counted and left
out, and `--include`/`--exclude` and `.sourceignore` decide the rest (krm_fn/repo/walker.py's `Walk`
keeps those decisions). Paths are relative to the git work tree, as Flux's are.
"""

from __future__ import annotations

import os

from krm_fn import rules
from krm_fn.results import Location, Result, Severity

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md (annotations only)
    from krm_fn.repo.walker import Repository, Walk

YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".tools"}


def visible(dirs: list[str]) -> list[str]:
    """The directories to descend into, sorted: no hidden or tool directory."""
    return sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))


def files_below(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = visible(dirs)
        found.extend(os.path.join(root, f) for f in sorted(files))
    return found


def is_chart(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "Chart.yaml"))


def list_files(paths: list[str], walk: Walk, repo: Repository) -> list[str]:
    """Every YAML file to consider, sorted; chart folders counted and left out."""
    found: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
            continue
        if not os.path.isdir(path):
            repo.results.append(
                Result(rules.INPUT, Severity.ERROR, "cannot read: No such file or directory", location=Location(path))
            )
            continue
        for root, dirs, files in os.walk(path):
            if is_chart(root):
                walk.skip("files in Helm chart folders (Chart.yaml)", len(files_below(root)))
                dirs[:] = []
                continue
            dirs[:] = visible(dirs)
            walk.ignore.read(root)
            for name in sorted(files):
                if name.endswith(YAML_SUFFIXES) or name == "Kustomization":
                    found.append(os.path.normpath(os.path.join(root, name)))
    out = []
    for path in found:
        reason = walk.exclusion(path)
        if reason is not None:
            walk.skip(reason)
        else:
            out.append(path)
    return out


def source_root(paths: list[str]) -> str:
    """The root Flux paths are relative to: the git work tree around the first path, else that path."""
    first = os.path.abspath(paths[0]) if paths else os.getcwd()
    start = first if os.path.isdir(first) else os.path.dirname(first)
    current = start
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return start
        current = parent
