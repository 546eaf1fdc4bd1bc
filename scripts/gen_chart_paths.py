#!/usr/bin/env python3
"""Derive the values paths each pinned chart version knows, for the `helm-values` rule.

Reads third_party/upstream/charts/<chart>-<version>/values.yaml (and the vendored values.yaml of
each subchart that Chart.yaml pins, under the subchart's key) plus krm_fn/charts/freeform.yaml,
and writes krm_fn/charts/data/<chart>-<version>.json for every chart version the config schema
accepts. The file holds one nested tree: a map is a JSON object of its keys, `0` is a value (a
scalar or a list, accepted whole), `1` is a free-form map (anything below it is accepted).

    scripts/gen_chart_paths.py           # regenerate
    scripts/gen_chart_paths.py --check   # exit 1 when a checked-in file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from krm_fn import yaml as yamlio  # noqa: E402 - after the path set-up
from scripts.generated import sync  # noqa: E402

CHARTS_DIR = REPO / "third_party" / "upstream" / "charts"
FREEFORM_FILE = REPO / "krm_fn" / "charts" / "freeform.yaml"
DATA_DIR = REPO / "krm_fn" / "charts" / "data"
CONFIG_SCHEMA = REPO / "krm_fn" / "schema" / "observabilityconfig.json"

VALUE = 0
FREE = 1

Node = dict | int


class EvidenceError(Exception):
    """An entry of freeform.yaml that does not fit the chart it is applied to."""


def pinned_versions() -> list[tuple[str, str]]:
    """(chart, version) for every version the ObservabilityConfig schema accepts."""
    schema = json.loads(CONFIG_SCHEMA.read_text())
    charts = schema["properties"]["spec"]["properties"]["charts"]["properties"]
    return [(name, version) for name, spec in charts.items() for version in spec["properties"]["version"]["enum"]]


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


def build(name: str, version: str, freeform: dict) -> dict:
    """The data document of one chart version."""
    chart_path = chart_dir(name, version)
    if chart_path is None:
        raise SystemExit(f"no vendored values.yaml for {name} {version} under {CHARTS_DIR}")
    root = tree(yamlio.load_one((chart_path / "values.yaml").read_text()))
    assert isinstance(root, dict)
    subcharts = subchart_dirs(chart_path)
    for key, sub_path in subcharts.items():
        if sub_path is None:
            root[key] = FREE  # values not vendored: accept anything under its key
            continue
        sub = tree(yamlio.load_one((sub_path / "values.yaml").read_text()))
        if isinstance(sub, dict) and isinstance(sub.get("global"), dict | int):
            root["global"] = merge(root.get("global", {}), sub.pop("global"))
        parent_block = root.get(key)
        root[key] = merge(sub, parent_block) if isinstance(parent_block, dict) else sub
    root = by_name(root, set(freeform.get("by_name", [])))
    assert isinstance(root, dict)

    entries = freeform["charts"].get(name, {})

    def evidence_dir(entry: dict) -> Path:
        sub = entry.get("in")
        if sub is None:
            return chart_path
        found = subcharts.get(sub)
        if found is None:
            raise EvidenceError(f"`in: {sub}` is not a vendored subchart of {name} {version}")
        return found

    for entry in entries.get("freeform", []):
        path = split(entry["path"])
        node = lookup(root, path)
        if not isinstance(node, dict):
            state = "already free-form" if node == FREE else "not a map of the chart"
            raise EvidenceError(f"freeform {dotted(path)} in {name} {version}: {state}")
        check_line(evidence_dir(entry), entry, path)
        set_node(root, path, FREE)
    for entry in entries.get("commented", []):
        path = split(entry["path"])
        parent = lookup(root, path[:-1])
        if not isinstance(parent, dict):
            raise EvidenceError(f"commented {dotted(path)} in {name} {version}: its parent is not a map of the chart")
        if path[-1] in parent:
            raise EvidenceError(f"commented {dotted(path)} in {name} {version}: values.yaml has it now; drop the entry")
        check_line(evidence_dir(entry), entry, path)
        parent[path[-1]] = FREE if entry.get("kind") == "map" else VALUE
    moved = {}
    for entry in entries.get("moved", []):
        source, target = split(entry["from"]), split(entry["to"])
        if lookup(root, source) is not None:
            raise EvidenceError(f"moved {dotted(source)} in {name} {version}: that path is real")
        if lookup(root, target) is None:
            raise EvidenceError(f"moved to {dotted(target)} in {name} {version}: no such path")
        check_line(evidence_dir(entry), entry, target)
        moved[dotted(source)] = dotted(target)
    return {"chart": name, "version": version, "source": chart_path.name, "tree": root, "moved": moved}


def render(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    freeform = yaml.safe_load(FREEFORM_FILE.read_text())
    return {
        DATA_DIR / f"{name}-{version}.json": render(build(name, version, freeform))
        for name, version in pinned_versions()
    }


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
