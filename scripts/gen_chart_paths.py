#!/usr/bin/env python3
"""Derive the values paths of every supported chart release, for the `helm-values` rule.

Reads third_party/upstream/charts/releases/<chart>.yaml (every release, written by
scripts/update-charts.py) with the vendored values.yaml each release points at (a member of
third_party/upstream/charts/values.tar.xz, scripts/values_store.py) (and, under each
subchart's key, the values of the subchart version its Chart.yaml pins), plus
krm_fn/charts/freeform.yaml and the paths the templates read with no default
(third_party/upstream/charts/template-reads.yaml, scripts/template_reads.py), and writes one
compact file per chart, krm_fn/charts/data/<chart>.json:
the releases, oldest first, each with its publisher and appVersion, the tags in range never
published (the `chart-version` check names them), and every known values path with the ranges of
releases that have it (`0` a value: a scalar or a list, accepted whole; `1` a free-form map,
anything below it accepted). A map is implied by the paths below it.

    scripts/gen_chart_paths.py           # regenerate
    scripts/gen_chart_paths.py --check   # exit 1 when a checked-in file is stale
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from krm_fn import yaml as yamlio  # noqa: E402 - after the path set-up
from scripts import values_store  # noqa: E402
from scripts.generated import sync  # noqa: E402

CHARTS_DIR = REPO / "third_party" / "upstream" / "charts"
FREEFORM_FILE = REPO / "krm_fn" / "charts" / "freeform.yaml"
TEMPLATE_READS_FILE = CHARTS_DIR / "template-reads.yaml"
DATA_DIR = REPO / "krm_fn" / "charts" / "data"
RELEASES_DIR = CHARTS_DIR / "releases"
CHARTS = ("kube-prometheus-stack", "loki", "alloy", "thanos")
# The release whose vendored directory (third_party/upstream/charts/<chart>-<version>/) the `line`
# evidence of freeform.yaml is checked against: the seed's pins.
EVIDENCE_VERSION = {"kube-prometheus-stack": "82.18.0", "loki": "6.55.0", "alloy": "1.11.1", "thanos": "1.24.1"}

VALUE = 0
FREE = 1

Node = dict | int


class EvidenceError(Exception):
    """An entry of freeform.yaml that does not fit the chart it is applied to."""


def releases(name: str) -> list[dict]:
    """Every release of a chart (or pinned subchart version), oldest first."""
    path = RELEASES_DIR / f"{name}.yaml"
    return yaml.safe_load(path.read_text())["releases"] if path.is_file() else []


def unpublished(name: str) -> list[list[str]]:
    """[version, tag, publisher] of each tag in the supported range its publisher never published."""
    path = RELEASES_DIR / f"{name}.yaml"
    found = (yaml.safe_load(path.read_text()) or {}).get("unpublished", []) if path.is_file() else []
    return [[u["version"], u["tag"], u["publisher"]] for u in found]


@cache
def values_tree(relative: str) -> Node:
    """The tree of a release's values.yaml: a member of the values store (`values/<chart>/<version>.yaml`)
    or a file of a vendored chart directory (`thanos-17.6.0/values.yaml`)."""
    store = values_store.read()
    text = store[relative] if relative in store else (CHARTS_DIR / relative).read_text()
    return tree(yamlio.load_one(text) or {})


def chart_dir(name: str, version: str) -> Path | None:
    exact = CHARTS_DIR / f"{name}-{version}"
    if exact.is_dir():
        return exact
    found = sorted(CHARTS_DIR.glob(f"{name}-{version}-*"))  # e.g. loki-6.57.0-grafana-community
    return found[0] if found else None


def tree(value: object) -> Node:
    """The known-paths tree of a values.yaml default."""
    if isinstance(value, dict):
        if not value:
            return FREE
        return {str(key): tree(child) for key, child in value.items()}
    if value is None:
        return FREE  # unset: the templates may well read a map here
    return VALUE


def merge(a: Node, b: Node) -> Node:
    """Union of two trees (a subchart's own defaults and the parent's block for it)."""
    if a == FREE or b == FREE:
        return FREE
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, child in b.items():
            out[key] = merge(out[key], child) if key in out else child
        return out
    return a if isinstance(a, dict) else b


def split(path: str | list[str]) -> list[str]:
    return list(path) if isinstance(path, list) else path.split(".")


def dotted(path: list[str]) -> str:
    return ".".join(f"[{key}]" if "." in key else key for key in path)


def lookup(root: dict, path: list[str]) -> Node | None:
    node: Node = root
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def check_line(chart_path: Path, entry: dict, path: list[str]) -> None:
    """The cited values.yaml line must show the key."""
    line = entry.get("line")
    if line is None:
        raise EvidenceError(f"{dotted(path)}: no `line` evidence")
    lines = (chart_path / "values.yaml").read_text().splitlines()
    if not 1 <= line <= len(lines) or path[-1] not in lines[line - 1]:
        raise EvidenceError(f"{dotted(path)}: line {line} of {chart_path.name}/values.yaml does not show {path[-1]!r}")
    if not entry.get("source"):
        raise EvidenceError(f"{dotted(path)}: no `source` evidence")


def subchart_dirs(chart_path: Path) -> dict[str, Path | None]:
    """The values key of each dependency -> its vendored directory, when we have it."""
    meta = yaml.safe_load((chart_path / "Chart.yaml").read_text())
    out: dict[str, Path | None] = {}
    for dep in meta.get("dependencies") or []:
        key = dep.get("alias") or dep["name"]
        version = str(dep.get("version", ""))
        out[key] = chart_dir(dep["name"], version) if dep.get("repository") else None
    return out


def by_name(node: Node, names: set[str]) -> Node:
    if not isinstance(node, dict):
        return node
    return {
        key: FREE if key in names and isinstance(child, dict) else by_name(child, names) for key, child in node.items()
    }


def set_node(root: dict, path: list[str], value: Node) -> None:
    node = root
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def release_tree(name: str, release: dict, subcharts: dict[str, dict[str, str]]) -> dict:
    """The known-paths tree of one release: its values, each pinned subchart's under its key."""
    root = copy.deepcopy(values_tree(release["values"]))
    assert isinstance(root, dict)
    for dep in release.get("dependencies", []):
        key = dep["key"]
        sub_values = subcharts.get(dep["name"], {}).get(dep["version"]) if dep.get("repository") else None
        if sub_values is None:
            root[key] = FREE  # a local subchart, or one whose values are not vendored: accept anything
            continue
        sub = copy.deepcopy(values_tree(sub_values))
        if isinstance(sub, dict) and isinstance(sub.get("global"), dict | int):
            root["global"] = merge(root.get("global", {}), sub.pop("global"))
        parent_block = root.get(key)
        root[key] = merge(sub, parent_block) if isinstance(parent_block, dict) else sub
    return root


def check_evidence(name: str, freeform: dict) -> None:
    """Each freeform.yaml entry's `line` shows its key in the seed pin's vendored values.yaml."""
    entries = freeform["charts"].get(name, {})
    if not any(entries.get(section) for section in ("freeform", "commented", "moved")):
        return  # nothing to check (thanos: no vendored directory, only values/thanos/)
    chart_path = chart_dir(name, EVIDENCE_VERSION[name])
    assert chart_path is not None
    subcharts = subchart_dirs(chart_path)
    for section in ("freeform", "commented", "moved"):
        for entry in entries.get(section, []):
            sub = entry.get("in")
            where = chart_path if sub is None else subcharts.get(sub)
            if where is None:
                raise EvidenceError(f"`in: {sub}` is not a vendored subchart of {name} {EVIDENCE_VERSION[name]}")
            check_line(where, entry, split(entry["to"] if section == "moved" else entry["path"]))


def apply_freeform(name: str, version: str, root: dict, freeform: dict) -> dict[str, str]:
    """freeform.yaml applied to one release's tree; the `moved` hints that hold for it."""
    entries = freeform["charts"].get(name, {})
    evidence = version == EVIDENCE_VERSION[name]  # the pin the entries were written for: strict
    for entry in entries.get("freeform", []):
        path = split(entry["path"])
        node = lookup(root, path)
        if isinstance(node, dict):
            set_node(root, path, FREE)
        elif evidence:
            state = "already free-form" if node == FREE else "not a map of the chart"
            raise EvidenceError(f"freeform {dotted(path)} in {name} {version}: {state}")
    for entry in entries.get("commented", []):
        path = split(entry["path"])
        parent = lookup(root, path[:-1])
        if isinstance(parent, dict) and path[-1] not in parent:
            parent[path[-1]] = FREE if entry.get("kind") == "map" else VALUE
        elif evidence:
            raise EvidenceError(f"commented {dotted(path)} in {name} {version}: not a missing key of the chart")
    moved = {}
    for entry in entries.get("moved", []):
        source, target = split(entry["from"]), split(entry["to"])
        if lookup(root, source) is None and lookup(root, target) is not None:
            moved[dotted(source)] = dotted(target)
        elif evidence:
            raise EvidenceError(f"moved {dotted(source)} -> {dotted(target)} does not hold in {name} {version}")
    return moved


def load_template_reads() -> dict:
    """chart -> dotted path -> release ranges (scripts/template_reads.py)."""
    return yaml.safe_load(TEMPLATE_READS_FILE.read_text()) or {}


def apply_template_reads(name: str, release: dict, root: dict, spans_of: dict[str, list]) -> None:
    """Add, as free-form, the paths the release's templates (and its subcharts', under their keys)
    read but no values.yaml shows: the chart takes them, so `helm-values` must too. `spans_of`:
    chart -> `read_spans`."""
    targets = [(name, release["version"], [])]
    targets += [(d["name"], d["version"], [d["key"]]) for d in release.get("dependencies", []) if d.get("repository")]
    for chart, version, prefix in targets:
        spans = spans_of.get(chart, [])
        order = release_order(chart)
        if version not in order:
            continue
        at = order[version]
        paths = [prefix + path for path, ranges in spans if any(first <= at <= last for first, last in ranges)]
        for path in sorted(paths, key=len):  # a shorter path first: what it makes free takes the longer ones
            add_free(root, path)


@cache
def release_order(chart: str) -> dict[str, int]:
    """version -> its place in the chart's release list."""
    return {r["version"]: i for i, r in enumerate(releases(chart))}


def read_spans(chart: str, reads: dict) -> list[tuple[list[str], list[tuple[int, int]]]]:
    """The chart's template reads as (path, [(first, last) release indexes])."""
    order = release_order(chart)
    return [
        (split_dotted(dotted_path), [(order[first], order[last]) for first, last in spans])
        for dotted_path, spans in (reads.get(chart) or {}).items()
    ]


def split_dotted(text: str) -> list[str]:
    """`a.[b.c].d` -> ['a', 'b.c', 'd'] (the inverse of `dotted`)."""
    return [part.strip("[]") for part in re.findall(r"\[[^\]]*\]|[^.]+", text)]


def add_free(root: dict, path: list[str]) -> None:
    """Make `path` a free-form leaf unless the tree already decides it (a key, a free map, a scalar)."""
    node: Node = root
    for key in path[:-1]:
        if not isinstance(node, dict):
            return  # below a free-form map (takes it already) or a scalar default (cannot be a map)
        node = node.setdefault(key, {})
    if isinstance(node, dict) and path[-1] not in node:
        node[path[-1]] = FREE


def leaves(node: Node, prefix: tuple[str, ...] = ()):
    """(path, kind) of every leaf: a value (0) or a free-form map (1); a map is implied by its leaves."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield from leaves(child, (*prefix, key))
    else:
        yield prefix, node


def ranges(indexes: list[int]) -> list[list[int]]:
    """[0, 1, 2, 5] -> [[0, 2], [5, 5]]."""
    out: list[list[int]] = []
    for i in indexes:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def build(name: str, freeform: dict, template_reads: dict | None = None) -> dict:
    """The data document of one chart: every release, every path with the releases that have it."""
    if template_reads is None:
        template_reads = load_template_reads()
    subcharts = {
        dep_name: {r["version"]: r["values"] for r in releases(dep_name)}
        for dep_name in {d["name"] for r in releases(name) for d in r.get("dependencies", [])}
    }
    chart_releases = releases(name)
    spans_of = {chart: read_spans(chart, template_reads) for chart in [name, *subcharts]}
    if not chart_releases:
        raise SystemExit(f"no releases of {name} under {RELEASES_DIR}; run scripts/update-charts.py")
    found: dict[tuple[tuple[str, ...], int], list[int]] = {}
    order: list[tuple[tuple[str, ...], int]] = []
    moved_found: dict[tuple[str, str], list[int]] = {}
    for index, release in enumerate(chart_releases):
        root = by_name(release_tree(name, release, subcharts), set(freeform.get("by_name", [])))
        assert isinstance(root, dict)
        for source, target in apply_freeform(name, release["version"], root, freeform).items():
            moved_found.setdefault((source, target), []).append(index)
        apply_template_reads(name, release, root, spans_of)
        for leaf in leaves(root):
            if leaf not in found:
                found[leaf] = []
                order.append(leaf)
            found[leaf].append(index)
    check_evidence(name, freeform)
    return {
        "chart": name,
        "releases": [[r["version"], r["publisher"]] for r in chart_releases],
        "app_versions": [r.get("app_version", "") for r in chart_releases],
        "paths": [[list(path), kind, ranges(found[(path, kind)])] for path, kind in order],
        "moved": [[source, target, ranges(idx)] for (source, target), idx in moved_found.items()],
        "unpublished": unpublished(name),
    }


def render(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    freeform = yaml.safe_load(FREEFORM_FILE.read_text())
    template_reads = load_template_reads()
    docs = {name: build(name, freeform, template_reads) for name in CHARTS}
    out = {DATA_DIR / f"{name}.json": render(doc) for name, doc in docs.items()}
    # The releases alone, which every run reads (krm_fn/charts/paths.py _releases: start-up budget).
    out[DATA_DIR.parent / "releases.json"] = render({name: doc["releases"] for name, doc in docs.items()})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a checked-in data file is stale")
    args = parser.parse_args(argv)
    try:
        wanted = outputs()
    except EvidenceError as err:
        print(f"krm_fn/charts/freeform.yaml: {err}", file=sys.stderr)
        return 1
    return sync(wanted, list(DATA_DIR.glob("*.json")), args.check, "gen_chart_paths.py", REPO)


if __name__ == "__main__":
    sys.exit(main())
