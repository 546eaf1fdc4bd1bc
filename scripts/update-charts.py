#!/usr/bin/env python3
"""Vendor what the function needs to know about every supported chart release: what its publisher
published, and the values and metadata at the tag it was built from.

    scripts/update-charts.py [--mirrors DIR]    # DIR holds owner+name/repo git directories (make charts)

A release is a version the publisher's index.yaml lists (scripts/published.py reads it from the
publisher's fetched gh-pages branch, or the committed excerpt where the snapshot lacks it), not a
git tag. For each chart (kube-prometheus-stack, loki, alloy, thanos) every published release from the
seed's pin on is kept, with the tag it was built from, and it writes:

- third_party/upstream/charts/releases/<chart>.yaml: each release's version, tag, commit, date,
  publisher, appVersion, where it is published (created and digest from the index), the subchart
  versions its Chart.yaml pins, and which vendored values file holds its defaults; tags in range that were never
  published are listed under `unpublished:` (a tag is not a release);
- third_party/upstream/charts/values.tar.xz (scripts/values_store.py): values.yaml, unchanged, but
  only at the releases where the set of values paths changes (most releases only bump image tags);
- third_party/upstream/charts/indexes/<publisher>.yaml: the index entries the release data names,
  as evidence.

A source whose first release is not published is an error naming where it would have to be
published; the files are still written, and the exit code is 1. The same is done for the subcharts
kube-prometheus-stack pins, over the versions it pins. Then `make gen` (this script runs
gen_chart_paths.py last) derives krm_fn/charts/data/, with the values paths each release's
templates read that its values.yaml does not show (scripts/template_reads.py, run here too);
tests check that the derived data matches what is committed.

The repositories come from the library's `fetch` (or any clone): prometheus-community/helm-charts,
grafana-community/helm-charts, grafana/loki, grafana/alloy, grafana/helm-charts (gh-pages),
stevehipwell/helm-charts.
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
from scripts import published, template_reads, values_store  # noqa: E402
from scripts.chart_sources import (  # noqa: E402
    PUBLISHERS,
    SOURCES,
    SUBCHARTS,
    UPSTREAM_URL,
    git,
    in_range,
    release_tags,
    tag_info,
    version_key,
)
from scripts.gen_chart_paths import tree  # noqa: E402

CHARTS_DIR = REPO / "third_party" / "upstream" / "charts"
RELEASES_DIR = CHARTS_DIR / "releases"


def vendor_values(chart: str, versions: list[tuple[str, Path, str, str]], store: dict[str, str]) -> dict[str, str]:
    """Put values.yaml into `store` at each release whose paths differ from the previous one; version -> member."""
    for stale in [name for name in store if name.startswith(f"values/{chart}/")]:
        del store[stale]
    files: dict[str, str] = {}
    previous = None
    current_file = None
    for version, mirror, tag, path in versions:
        text = git(mirror, "show", f"{tag}:{path}/values.yaml")
        shape = tree(yamlio.load_one(text) or {})
        if shape != previous:
            current_file = f"values/{chart}/{version}.yaml"
            store[current_file] = text
            previous = shape
        files[version] = current_file
    return files


def chart_releases(
    mirrors: Path, chart: str, indexes: dict[str, published.Index], store: dict[str, str], errors: list[str]
) -> tuple[list[dict], list[dict]]:
    """Every published release of one chart from its sources (oldest first), and the tags never published."""
    found: list[tuple[str, Path, str, str, str]] = []
    unpublished: list[dict] = []
    for source in SOURCES[chart]:
        mirror = mirrors / source["mirror"] / "repo"
        index = indexes[source["publisher"]]
        listed = {v for v in index.versions(chart) if in_range(v, source)}
        tags = {v: t for v, t in release_tags(mirror, source["tag"]).items() if in_range(v, source)}
        if source["min"] not in listed:
            errors.append(
                f"{chart} {source['min']} (the first release of {source['mirror'].replace('+', '/')} "
                f"tag {source['tag'].format(source['min'])}) is not published: it would have to be at "
                f"{index.where(chart)}"
            )
        for version, tag in tags.items():
            if version in listed:
                found.append((version, mirror, tag, source["path"], source["publisher"]))
            else:
                unpublished.append({"version": version, "tag": tag, "publisher": source["publisher"]})
        newer = sorted(listed - set(tags), key=version_key)
        if newer:
            print(f"{chart}: published but not tagged in {mirror.parent.name} (fetch it again): {', '.join(newer)}")
    found.sort(key=lambda r: version_key(r[0]))
    unpublished.sort(key=lambda r: version_key(r["version"]))
    files = vendor_values(chart, [(v, m, t, p) for v, m, t, p, _ in found], store)
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
                # The version of the software the release runs (the ha profile's Thanos sidecar runs the
                # thanos chart's: krm_fn/components/thanos.py).
                "app_version": str(meta.get("appVersion") or ""),
                "published": published_fields(indexes[publisher].versions(chart)[version]),
                "values": files[version],
                "dependencies": deps,
            }
        )
    return releases, unpublished


def published_fields(entry: dict) -> dict:
    """What the release data keeps of an index entry."""
    return {"created": entry.get("created", ""), "digest": entry.get("digest", "")}


def subchart_releases(
    mirrors: Path, name: str, versions: set[str], indexes: dict[str, published.Index], store: dict[str, str]
) -> list[dict]:
    spec = SUBCHARTS[name]
    mirror = mirrors / spec["mirror"] / "repo"
    tags = release_tags(mirror, spec["tag"])
    present = sorted((v for v in versions if v in tags), key=version_key)
    files = vendor_values(name, [(v, mirror, tags[v], spec["path"]) for v in present], store)
    listed = indexes[spec["publisher"]].versions(name)
    out = []
    for version in present:
        commit, date = tag_info(mirror, tags[version])
        release = {
            "version": version,
            "tag": tags[version],
            "commit": commit,
            "date": date,
            "source": f"{UPSTREAM_URL[spec['mirror']]} {spec['path']}",
            "publisher": spec["publisher"],
        }
        if version in listed:  # packaged inside the parent chart: informative, not required
            release["published"] = published_fields(listed[version])
        release["values"] = files[version]
        out.append(release)
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


def write_index(name: str, releases: list[dict], note: str, unpublished: list[dict] | None = None) -> None:
    RELEASES_DIR.mkdir(parents=True, exist_ok=True)
    header = (
        f"# {name}: {note}\n"
        "# Written by scripts/update-charts.py from the publishers' indexes and upstream git tags; do not edit.\n"
    )
    publishers = sorted({r["publisher"] for r in releases} | {u["publisher"] for u in unpublished or []})
    doc: dict = {
        "chart": name,
        "publishers": {p: {"repository": PUBLISHERS[p]["url"], "oci": PUBLISHERS[p]["oci"]} for p in publishers},
        "releases": releases,
    }
    if unpublished:
        doc["unpublished"] = unpublished
    body = yaml.safe_dump(doc, sort_keys=False, width=200)
    (RELEASES_DIR / f"{name}.yaml").write_text(header + body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", default="/work/.mirror", help="directory of owner+name/repo git directories")
    parser.add_argument("--no-gen", action="store_true", help="vendor only; do not run gen_chart_paths.py")
    args = parser.parse_args(argv)
    mirrors = Path(args.mirrors)
    wanted: dict[str, set[str]] = {}
    for chart, sources in SOURCES.items():
        for source in sources:
            wanted.setdefault(source["publisher"], set()).add(chart)
    for name, spec in SUBCHARTS.items():
        wanted.setdefault(spec["publisher"], set()).add(name)
    indexes: dict[str, published.Index] = {}
    for publisher, charts in sorted(wanted.items()):
        index = published.load(publisher, mirrors, charts)
        if index is None:
            raise SystemExit(f"update-charts: no index of {publisher} ({PUBLISHERS[publisher]['url']}) can be read")
        indexes[publisher] = index
    store = values_store.read()
    errors: list[str] = []
    named: dict[str, dict[str, set[str]]] = {}  # publisher -> chart -> versions the data names
    pinned: dict[str, set[str]] = {}
    for chart in SOURCES:
        releases, unpublished = chart_releases(mirrors, chart, indexes, store, errors)
        write_index(chart, releases, "every published release the function supports, oldest first", unpublished)
        for release in releases:
            named.setdefault(release["publisher"], {}).setdefault(chart, set()).add(release["version"])
            for dep in release["dependencies"]:
                if dep["name"] in SUBCHARTS:
                    pinned.setdefault(dep["name"], set()).add(dep["version"])
        print(f"{chart}: {len(releases)} published releases, {releases[0]['version']} .. {releases[-1]['version']}")
        if unpublished:
            print(f"{chart}: tagged but never published: {', '.join(u['version'] for u in unpublished)}")
    for name, versions in sorted(pinned.items()):
        releases = subchart_releases(mirrors, name, versions, indexes, store)
        if not releases:  # e.g. a wildcard pin (0.12.*): the subchart's values are accepted whole
            print(f"{name} (subchart): no tagged release among {sorted(versions)}; not vendored")
            continue
        write_index(name, releases, "the subchart versions kube-prometheus-stack pins")
        for release in releases:
            if "published" in release:
                named.setdefault(release["publisher"], {}).setdefault(name, set()).add(release["version"])
        print(f"{name} (subchart): {len(releases)} of {len(versions)} pinned versions tagged")
    values_store.write(store)
    template_reads.main(["--mirrors", str(mirrors)])  # the paths each release's templates read (gen_chart_paths)
    for publisher, charts in sorted(named.items()):
        if indexes[publisher].source.startswith(PUBLISHERS[publisher]["mirror"].replace("+", "/")):
            published.write_excerpt(indexes[publisher], charts)  # the committed excerpt stays as written
    for error in errors:
        print(f"update-charts: {error}", file=sys.stderr)
    if not args.no_gen:
        gen = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_chart_paths.py")], check=False)
        if gen.returncode:
            return gen.returncode
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
