#!/usr/bin/env python3
"""Vendor what the function needs to know about every supported chart release, from upstream git.

    scripts/update-charts.py [--mirrors DIR]    # DIR holds owner+name/repo git directories

For each chart (kube-prometheus-stack, loki, alloy) it lists every release tag from the seed's pin
to the newest, and writes:

- third_party/upstream/charts/releases/<chart>.yaml: each release's version, tag, commit, date,
  publisher, the subchart versions its Chart.yaml pins, and which vendored values file holds its
  defaults;
- third_party/upstream/charts/values/<chart>/<version>.yaml: values.yaml, unchanged, but only at the
  releases where the set of values paths changes (most releases only bump image tags), so every
  release's paths are known from a few files.

The same is done for the subcharts kube-prometheus-stack pins (grafana, kube-state-metrics,
prometheus-node-exporter, ...), over the versions it pins. Then run `make gen` (this script does it
last) to derive krm_fn/charts/data/ from the vendored files; tests check that the derived data
matches what is committed.

The repositories come from the library's `fetch` (or any clone): prometheus-community/helm-charts,
grafana-community/helm-charts, grafana/loki, grafana/alloy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from krm_fn import yaml as yamlio  # noqa: E402
from scripts.chart_sources import (  # noqa: E402
    SOURCES,
    SUBCHARTS,
    UPSTREAM_URL,
    git,
    release_tags,
    tag_info,
    version_key,
)
from scripts.gen_chart_paths import tree  # noqa: E402

CHARTS_DIR = REPO / "third_party" / "upstream" / "charts"
RELEASES_DIR = CHARTS_DIR / "releases"
VALUES_DIR = CHARTS_DIR / "values"

# Charts vendored as a directory under third_party/upstream/charts/ (provenance in the README there),
# not read from a fetched repository: Bitnami's thanos chart, for the ha profile.
VENDORED = {"thanos": [{"version": "17.6.0", "dir": "thanos-17.6.0", "publisher": "bitnami"}]}


def vendor_values(chart: str, versions: list[tuple[str, Path, str, str]]) -> dict[str, str]:
    """Write values.yaml at each release whose paths differ from the previous one; version -> file."""
    target = VALUES_DIR / chart
    target.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, str] = {}
    files: dict[str, str] = {}
    previous = None
    current_file = None
    for version, mirror, tag, path in versions:
        text = git(mirror, "show", f"{tag}:{path}/values.yaml")
        shape = tree(yamlio.load_one(text) or {})
        if shape != previous:
            name = f"{version}.yaml"
            wanted[name] = text
            current_file = f"values/{chart}/{name}"
            previous = shape
        files[version] = current_file
    for stale in target.glob("*.yaml"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        (target / name).write_text(text)
    return files


def chart_releases(mirrors: Path, chart: str) -> list[dict]:
    found: list[tuple[str, Path, str, str, str]] = []
    for source in SOURCES[chart]:
        mirror = mirrors / source["mirror"] / "repo"
        for version, tag in release_tags(mirror, source["tag"]).items():
            key = version_key(version)
            if key < version_key(source["min"]) or ("max" in source and key > version_key(source["max"])):
                continue
            found.append((version, mirror, tag, source["path"], source["publisher"]))
    found.sort(key=lambda r: version_key(r[0]))
    files = vendor_values(chart, [(v, m, t, p) for v, m, t, p, _ in found])
    releases = []
    for version, mirror, tag, path, publisher in found:
        commit, date = tag_info(mirror, tag)
        meta = yaml.safe_load(git(mirror, "show", f"{tag}:{path}/Chart.yaml"))
        deps = dependencies(meta)
        releases.append(
            {
                "version": version,
                "tag": tag,
                "commit": commit,
                "date": date,
                "source": f"{UPSTREAM_URL[mirror.parent.name]} {path}",
                "publisher": publisher,
                "values": files[version],
                "dependencies": deps,
            }
        )
    return releases


def subchart_releases(mirrors: Path, name: str, versions: set[str]) -> list[dict]:
    spec = SUBCHARTS[name]
    mirror = mirrors / spec["mirror"] / "repo"
    tags = release_tags(mirror, spec["tag"])
    present = sorted((v for v in versions if v in tags), key=version_key)
    files = vendor_values(name, [(v, mirror, tags[v], spec["path"]) for v in present])
    out = []
    for version in present:
        commit, date = tag_info(mirror, tags[version])
        out.append(
            {
                "version": version,
                "tag": tags[version],
                "commit": commit,
                "date": date,
                "source": f"{UPSTREAM_URL[spec['mirror']]} {spec['path']}",
                "values": files[version],
            }
        )
    return out


def dependencies(meta: dict) -> list[dict]:
    """The subcharts a Chart.yaml pins: name, values key (alias), version, repository."""
    return [
        {
            "name": d["name"],
            "key": d.get("alias") or d["name"],
            "version": str(d.get("version", "")),
            "repository": d.get("repository", ""),
        }
        for d in meta.get("dependencies") or []
    ]


def vendored_release(entry: dict) -> dict:
    """The index entry of a release vendored as a directory (its Chart.yaml and values.yaml)."""
    meta = yaml.safe_load((CHARTS_DIR / entry["dir"] / "Chart.yaml").read_text())
    deps = dependencies(meta)
    return {
        "version": entry["version"],
        "source": f"third_party/upstream/charts/{entry['dir']} (see the README there)",
        "publisher": entry["publisher"],
        "values": f"{entry['dir']}/values.yaml",
        "dependencies": deps,
    }


def write_index(name: str, releases: list[dict], note: str) -> None:
    RELEASES_DIR.mkdir(parents=True, exist_ok=True)
    header = f"# {name}: {note}\n# Written by scripts/update-charts.py from upstream git tags; do not edit.\n"
    body = yaml.safe_dump({"chart": name, "releases": releases}, sort_keys=False, width=200)
    (RELEASES_DIR / f"{name}.yaml").write_text(header + body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", default="/work/.mirror", help="directory of owner+name/repo git directories")
    parser.add_argument("--no-gen", action="store_true", help="vendor only; do not run gen_chart_paths.py")
    args = parser.parse_args(argv)
    mirrors = Path(args.mirrors)
    pinned: dict[str, set[str]] = {}
    for chart in SOURCES:
        releases = chart_releases(mirrors, chart)
        write_index(chart, releases, "every release the function supports, oldest first")
        for release in releases:
            for dep in release["dependencies"]:
                if dep["name"] in SUBCHARTS:
                    pinned.setdefault(dep["name"], set()).add(dep["version"])
        print(f"{chart}: {len(releases)} releases, {releases[0]['version']} .. {releases[-1]['version']}")
    for chart, entries in VENDORED.items():
        write_index(chart, [vendored_release(entry) for entry in entries], "vendored chart directories")
    for name, versions in sorted(pinned.items()):
        releases = subchart_releases(mirrors, name, versions)
        if not releases:  # e.g. a wildcard pin (0.12.*): the subchart's values are accepted whole
            print(f"{name} (subchart): no tagged release among {sorted(versions)}; not vendored")
            continue
        write_index(name, releases, "the subchart versions kube-prometheus-stack pins")
        print(f"{name} (subchart): {len(releases)} of {len(versions)} pinned versions tagged")
    if args.no_gen:
        return 0
    return subprocess.run([sys.executable, str(REPO / "scripts" / "gen_chart_paths.py")], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
