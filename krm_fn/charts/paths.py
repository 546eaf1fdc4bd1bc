"""Which Helm values paths a pinned chart version reads, and the nearest one to a wrong path.

The data comes from scripts/gen_chart_paths.py (krm_fn/charts/data/<chart>.json): every supported
release of the chart, oldest first, and every known values path with the ranges of releases that
have it. One release's tree is built from it on first use: a map is a dict of its keys, VALUE (0)
is a scalar or a list, and FREE (1) is a free-form map whose contents the chart passes on whole.
"""

from __future__ import annotations

import json
import os
from functools import cache

from krm_fn.record import Record

VALUE = 0
FREE = 1
# Shipped as package data. Plain os.path strings, not pathlib: start-up budget: docs/startup.md
DATA_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "data")

Node = dict | int


class UnknownPath(Record):
    """A values path the chart does not read (or a value where the chart expects a map)."""

    path: tuple[str, ...]
    suggestion: str | None
    expected_map: bool = False

    @property
    def dotted(self) -> str:
        return dotted(self.path)


def dotted(path: tuple[str, ...] | list[str]) -> str:
    """`a.b.c`, with a key that holds a dot written `[a.b]` (kpt's field path syntax)."""
    return ".".join(f"[{key}]" if "." in key else key for key in path)


@cache
def _chart_data(chart: str) -> dict | None:
    try:
        with open(os.path.join(DATA_DIR, f"{chart}.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


@cache
def _releases() -> dict[str, list[list[str]]]:
    """chart -> [[version, publisher], ...] from releases.json: every run needs the releases (the
    config's versions are resolved on load), and this 10 KB index spares it parsing ~300 KB of
    path data (~7 ms) that only the trees need."""
    try:
        with open(os.path.join(os.path.dirname(DATA_DIR), "releases.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {}


@cache
def _release_index(chart: str) -> dict[str, int]:
    return {version: i for i, (version, _) in enumerate(_releases().get(chart, []))}


def data_fingerprint(chart: str) -> str:
    """The identity of a chart's path data (size and mtime), for caches of checks made against it.
    Whole seconds, as for .pyc files: a Docker COPY keeps no more of the mtime."""
    try:
        info = os.stat(os.path.join(DATA_DIR, f"{chart}.json"))
    except OSError:
        return ""
    return f"{info.st_size}:{int(info.st_mtime)}"


def _in(ranges: list[list[int]], index: int) -> bool:
    return any(lo <= index <= hi for lo, hi in ranges)


@cache
def _document(chart: str, version: str) -> dict | None:
    """One release's tree and `moved` hints, built from the chart's compact data on first use
    and then kept next to the bytecode (krm_fn/pycache.py): ~0.2 ms to read, ~2.5 ms to build."""
    from krm_fn import pycache  # start-up budget: docs/startup.md (only a run that checks values)

    if _release_index(chart).get(version) is None:
        return None
    name, identity = f"values-{chart}-{version}", data_fingerprint(chart)
    stored = pycache.load(name, identity)
    if isinstance(stored, dict):
        return stored
    document = _build_document(chart, version)
    pycache.store(name, identity, document)
    return document


def _build_document(chart: str, version: str) -> dict:
    index = _release_index(chart)[version]
    data = _chart_data(chart)
    assert data is not None
    root: dict = {}
    for path, kind, ranges in data["paths"]:
        if not _in(ranges, index):
            continue
        node = root
        for key in path[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):  # a value here in this release: its keys are not known
                break
            node = child
        else:
            node[path[-1]] = kind
    moved = {source: target for source, target, ranges in data["moved"] if _in(ranges, index)}
    return {"tree": root, "moved": moved}


def has_data(chart: str, version: str) -> bool:
    """True when the package knows the values paths of this chart release."""
    return version in _release_index(chart)


def known_versions(chart: str) -> list[str]:
    """The chart releases the package has data for, oldest first."""
    return list(_release_index(chart))


def applicable_release(chart: str, version: str) -> str | None:
    """The known release whose knowledge applies to `version`: itself when known, the newest known
    for a newer X.Y.Z release, else None (older, never released, or not an exact version)."""
    if has_data(chart, version):
        return version
    known = known_versions(chart)
    parts = version.split(".")
    if known and len(parts) == 3 and all(p.isdigit() for p in parts) and version_key(version) > version_key(known[-1]):
        return known[-1]
    return None


def publisher(chart: str, version: str) -> str | None:
    """Who publishes this release (a key of krm_fn.charts.PUBLISHERS), or None for an unknown one."""
    index = _release_index(chart).get(version)
    return None if index is None else _releases()[chart][index][1]


def app_version(chart: str, version: str) -> str | None:
    """The appVersion of a known release (the software it runs, e.g. 0.42.4 for thanos 1.24.1)."""
    index = _release_index(chart).get(version)
    data = _chart_data(chart)
    if index is None or data is None:
        return None
    return data["app_versions"][index] or None


def unpublished(chart: str) -> dict[str, tuple[str, str]]:
    """version -> (tag, publisher) of the tags in the supported range that were never published."""
    data = _chart_data(chart)
    return {version: (tag, publisher) for version, tag, publisher in (data or {}).get("unpublished", [])}


def releases_with(chart: str, path: tuple[str, ...]) -> list[str]:
    """The known releases whose values have exactly this path (as a key, at any kind)."""
    data = _chart_data(chart)
    if data is None:
        return []
    versions = [version for version, _ in data["releases"]]
    found: set[int] = set()
    for known, _, ranges in data["paths"]:
        if tuple(known[: len(path)]) == path:
            for lo, hi in ranges:
                found.update(range(lo, hi + 1))
    return [versions[i] for i in sorted(found)]


def version_key(version: str) -> tuple:
    """A sortable key for X.Y.Z chart versions."""
    return tuple(int(p) if p.isdigit() else p for p in version.replace("-", ".").split("."))


def _tree(chart: str, version: str) -> dict:
    doc = _document(chart, version)
    if doc is None:
        raise LookupError(f"no values data for {chart} {version}")
    return doc["tree"]


def node_at(chart: str, version: str, path: list[str] | tuple[str, ...]) -> Node | None:
    """The tree node at `path`: a dict, VALUE, FREE; FREE below a free-form map; None if unknown."""
    node: Node = _tree(chart, version)
    for key in path:
        if node == FREE:
            return FREE
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def is_known(chart: str, version: str, path: list[str] | tuple[str, ...]) -> bool:
    """True when the chart reads this path (or it lies under a free-form map)."""
    return node_at(chart, version, path) is not None


def unknown_paths(chart: str, version: str, values: object) -> list[UnknownPath]:
    """Every path of `values` the chart does not read, each with the nearest known path.

    Only the first unknown key of a branch is reported (its children are unknown too). Lists
    are accepted whole; a null removes a default in Helm and is accepted anywhere known.
    """
    if not has_data(chart, version):
        raise LookupError(f"no values data for {chart} {version}")
    found: list[UnknownPath] = []
    if isinstance(values, dict) and values:  # no tree for no values (~2-5 ms a chart)
        _walk(chart, version, _tree(chart, version), values, (), found)
    return found


def _walk(chart: str, version: str, node: Node, values: dict, prefix: tuple[str, ...], found: list) -> None:
    for key, value in values.items():
        key = str(key)
        path = (*prefix, key)
        child = node.get(key) if isinstance(node, dict) else None
        if child is None:
            found.append(UnknownPath(path, suggest(chart, version, path, value)))
        elif child == FREE:
            continue
        elif isinstance(child, dict):
            if isinstance(value, dict):
                _walk(chart, version, child, value, path, found)
            elif value is not None:
                found.append(UnknownPath(path, None, expected_map=True))
        elif isinstance(value, dict) and value:
            _walk(chart, version, VALUE, value, path, found)  # keys below a plain value


# --- suggestions -----------------------------------------------------------------------------


class _Index(Record):
    chart: str
    paths: list[tuple[str, ...]]  # every known node, in values.yaml order
    by_key: dict[str, list[int]]  # key -> indexes into paths
    by_norm: dict[str, list[int]]  # normalised key -> indexes into paths
    nodes: list[Node]
    moved: dict[str, str]


def _norm(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


@cache
def _index(chart: str, version: str) -> _Index:
    doc = _document(chart, version)
    assert doc is not None
    paths: list[tuple[str, ...]] = []
    nodes: list[Node] = []
    stack: list[tuple[tuple[str, ...], Node]] = [((), doc["tree"])]
    while stack:
        prefix, node = stack.pop()
        if isinstance(node, dict):
            for key, child in reversed(list(node.items())):
                stack.append(((*prefix, key), child))
        if prefix:
            paths.append(prefix)
            nodes.append(node)
    by_key: dict[str, list[int]] = {}
    by_norm: dict[str, list[int]] = {}
    for i, path in enumerate(paths):
        by_key.setdefault(path[-1], []).append(i)
        by_norm.setdefault(_norm(path[-1]), []).append(i)
    return _Index(chart, paths, by_key, by_norm, nodes, doc.get("moved", {}))


def _accepts(node: Node, value: object) -> bool:
    """Would this node take the user's subtree without unknown keys (one level deep)?"""
    if node == FREE or not isinstance(value, dict):
        return True
    return isinstance(node, dict) and all(str(k) in node for k in value)


def _rank(index: _Index, candidates: list[int], path: tuple[str, ...], value: object) -> int:
    """The best candidate for a misplaced key: the user's prefix extended, then the most alike prefix."""
    import difflib  # start-up budget: docs/startup.md (only a misplaced key needs it)

    prefix = path[:-1]
    wanted = _norm("".join(prefix))
    chart = _norm(index.chart)

    def score(i: int) -> tuple:
        cand = index.paths[i]
        extends = cand[: len(prefix)] == prefix
        shared = 0
        while shared < min(len(prefix), len(cand) - 1) and cand[shared] == prefix[shared]:
            shared += 1
        alike = difflib.SequenceMatcher(None, wanted, _norm("".join(cand[:-1])), autojunk=False).ratio()
        home = bool(cand[:-1]) and _norm(cand[0]) == chart  # the chart's own block, e.g. alloy.resources
        return (extends, _accepts(index.nodes[i], value), shared, round(alike, 3), home, -len(cand), -i)

    return max(candidates, key=score)


def suggest(chart: str, version: str, path: tuple[str, ...], value: object = None) -> str | None:
    """The nearest known path to an unknown one, or None when nothing is close."""
    import difflib  # start-up budget: docs/startup.md (only an unknown path needs it)

    index = _index(chart, version)
    moved = index.moved.get(dotted(path))
    if moved:
        return moved
    key = path[-1]
    # 1. The same key elsewhere: a key at the wrong level (alertmanager.secrets).
    same = [i for i in index.by_key.get(key, []) if index.paths[i] != path]
    same = same or [i for i in index.by_norm.get(_norm(key), []) if index.paths[i] != path]
    if same:
        return dotted(index.paths[_rank(index, same, path, value)])
    # 2. A misspelt key among its siblings (retension -> retention).
    parent = node_at(chart, version, path[:-1])
    if isinstance(parent, dict):
        close = difflib.get_close_matches(key, list(parent), n=1, cutoff=0.75)
        if close:
            return dotted((*path[:-1], close[0]))
    # 3. A misspelt key anywhere.
    close = difflib.get_close_matches(key, list(index.by_key), n=3, cutoff=0.8)
    candidates = [i for name in close for i in index.by_key[name]]
    if candidates:
        return dotted(index.paths[_rank(index, candidates, path, value)])
    return None
