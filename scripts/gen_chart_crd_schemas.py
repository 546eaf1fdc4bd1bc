#!/usr/bin/env python3
"""Derive the JSON Schemas of the CRDs each rendered chart release ships, for validating what helm renders.

    scripts/gen_chart_crd_schemas.py [--charts DIR]   # from the chart sources laid out by chart-cache.py
    scripts/gen_chart_crd_schemas.py --check          # exit 1 when a rendered release has no schemas

For every chart release the rendered fixtures name (tests/rendered/**/*.yaml `# chart:` headers,
and the release matrix's, scripts/release_matrix.py),
every CustomResourceDefinition under a `crds/` directory of the laid-out chart (its subcharts
included: kube-prometheus-stack's `charts/crds/crds/` for monitoring.coreos.com, Alloy's and Loki's
rollout-operator's) is converted the way scripts/gen_crd_schemas.py converts the pinned CRDs
(`root_schema`: closed objects, int-or-string, nullable, int ranges), one schema per served version.

The result is one compact file, tests/rendered/crds.json.xz: `releases` maps `chart@version` to its
provenance (the tag and commit the chart was laid out from, and the CRD files read) and to
`apiVersion/kind -> schema id`; `schemas` holds each distinct schema once (releases share most of
them). Nothing of the chart sources is kept but these derived schemas.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.gen_crd_schemas import root_schema  # noqa: E402

STORE = REPO / "tests" / "rendered" / "crds.json.xz"
RENDERED = REPO / "tests" / "rendered"
RELEASES_DIR = REPO / "third_party" / "upstream" / "charts" / "releases"


def rendered_releases() -> list[str]:
    """Every `chart@version` a rendered fixture (the golden cases' and the release matrix's) was made from."""
    from scripts.release_matrix import fixtures

    found = set()
    texts = [path.read_text() for path in RENDERED.rglob("*.yaml")] + list(fixtures().values())
    for text in texts:
        for line in text.splitlines()[:10]:
            if line.startswith("# chart: "):
                found.add(line.split()[2])
    return sorted(found)


def read(path: Path = STORE) -> dict:
    if not path.exists():
        return {"releases": {}, "schemas": {}}
    return json.loads(lzma.decompress(path.read_bytes()))


def provenance(chart: str, version: str) -> dict:
    """Where the chart release was laid out from (the release data's tag and commit)."""
    path = RELEASES_DIR / f"{chart}.yaml"
    if path.is_file():
        for release in yaml.safe_load(path.read_text())["releases"]:
            if release["version"] == version and "tag" in release:
                return {"tag": release["tag"], "commit": release["commit"], "source": release["source"]}
    return {}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.1 reads a bare `=` (matcher enums: `=`, `!=`, `=~`) as the `value` tag; it is a string."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def derive(chart_dir: Path) -> tuple[dict[str, dict], list[str]]:
    """apiVersion/kind -> schema, and the CRD files read, for every CRD under a crds/ directory."""
    schemas: dict[str, dict] = {}
    files = []
    for path in sorted(chart_dir.rglob("crds/*.yaml")):
        if "crds" not in path.parent.name:
            continue
        docs = [d for d in yaml.load_all(path.read_text(), Loader=_Loader) if isinstance(d, dict)]
        crds = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
        if not crds:
            continue
        files.append(str(path.relative_to(chart_dir)))
        for crd in crds:
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schemas[f"{group}/{version['name']}/{kind}"] = root_schema(crd, version)
    return schemas, files


def _id(schema: dict) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def write(store: dict, path: Path = STORE) -> bool:
    """Write the store when its content changed (the same content keeps the same bytes)."""
    if path.exists() and read(path) == store:
        return False
    text = json.dumps(store, sort_keys=True, separators=(",", ":")).encode()
    path.write_bytes(lzma.compress(text, preset=9 | lzma.PRESET_EXTREME))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", default=str(REPO / ".charts"), help="chart directories (chart-cache.py --out)")
    parser.add_argument("--check", action="store_true", help="fail when a rendered release has no schemas")
    args = parser.parse_args(argv)
    wanted = rendered_releases()
    store = read()
    if args.check:
        missing = [r for r in wanted if r not in store["releases"]]
        for release in missing:
            print(
                f"stale: {STORE.relative_to(REPO)} has no schemas of {release} (run scripts/gen_chart_crd_schemas.py)"
            )
        return 1 if missing else 0
    releases: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    for release in wanted:
        chart, version = release.split("@")
        chart_dir = Path(args.charts) / f"{chart}-{version}" / chart
        if not (chart_dir / "Chart.yaml").is_file():
            print(f"gen_chart_crd_schemas: no {chart_dir}; lay it out with scripts/chart-cache.py", file=sys.stderr)
            return 1
        derived, files = derive(chart_dir)
        ids = {}
        for name, schema in sorted(derived.items()):
            ids[name] = _id(schema)
            schemas[ids[name]] = schema
        releases[release] = {**provenance(chart, version), "files": files, "crds": ids}
    changed = write({"releases": releases, "schemas": schemas})
    size = STORE.stat().st_size
    note = "" if changed else " (unchanged)"
    print(f"{STORE.relative_to(REPO)}: {len(releases)} releases, {len(schemas)} schemas, {size} bytes{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
