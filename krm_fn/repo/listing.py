"""Which files a repository walk reads, and where the source root is.

Files: YAML below the paths, as Flux's source would hold them. Hidden and tool directories are
skipped, Helm chart folders (a `Chart.yaml`) are counted and left out, and `--include`/`--exclude`
and `.sourceignore` decide the rest (krm_fn.repo.reader's `Reader` keeps those decisions).

The source root is what Flux paths are relative to: `--root` when given; else the nearest
directory, from the first path up, below which the most Flux paths of this repository exist (an
export or a CI cache has no `.git`); else the git work tree; else the first path.
"""

from __future__ import annotations

import os

from krm_fn import rules
from krm_fn.repo.reader import YAML_SUFFIXES, Reader
from krm_fn.results import Location, Result, Severity

SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".tools"}
CHART_FILES = "files in Helm chart folders (Chart.yaml)"


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


def list_files(paths: list[str], reader: Reader) -> tuple[list[str], list[Result]]:
    """Every YAML file below the paths, sorted, before exclusions; chart folders counted and left out."""
    found: list[str] = []
    problems: list[Result] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
            continue
        if not os.path.isdir(path):
            problems.append(
                Result(rules.INPUT, Severity.ERROR, "cannot read: No such file or directory", location=Location(path))
            )
            continue
        for root, dirs, files in os.walk(path):
            if is_chart(root):
                reader.skip(CHART_FILES, len(files_below(root)))
                dirs[:] = []
                continue
            dirs[:] = visible(dirs)
            for name in sorted(files):
                if name.endswith(YAML_SUFFIXES) or name == "Kustomization":
                    found.append(os.path.normpath(os.path.join(root, name)))
    return found, problems


def kept(files: list[str], reader: Reader) -> list[str]:
    """The files Flux's artifact holds and the options keep; the others counted by why."""
    out = []
    for path in files:
        reason = reader.exclusion(path)
        if reason is not None:
            reader.skip(reason)
        else:
            out.append(path)
    return out


def source_root(paths: list[str], flux_paths: list[str], given: str | None = None) -> str:
    """The directory Flux paths are relative to (see the module docstring)."""
    if given:
        return os.path.abspath(given)
    first = os.path.abspath(paths[0]) if paths else os.getcwd()
    start = first if os.path.isdir(first) else os.path.dirname(first)
    candidates = []
    current = start
    while True:
        candidates.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    wanted = sorted({p.strip("/").removeprefix("./") for p in flux_paths if "${" not in p} - {"", "."})
    if wanted:
        scored = [(sum(os.path.isdir(os.path.join(c, p)) for p in wanted), c) for c in candidates]
        best = max(score for score, _ in scored)
        if best:
            ties = [c for score, c in scored if score == best]
            return next((c for c in ties if os.path.exists(os.path.join(c, ".git"))), ties[0])
    return next((c for c in candidates if os.path.exists(os.path.join(c, ".git"))), start)
