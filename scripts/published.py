#!/usr/bin/env python3
"""What each publisher has published: the entries of its Helm repository's index.yaml.

A chart release is what its publisher lists in the https repository's index.yaml (and pushes to
the OCI registry its docs name), not a git tag: helm-controller can only pull a published release.
scripts/update-charts.py asks this module which versions each publisher lists
(scripts/chart_sources.py PUBLISHERS says who publishes what, and where).

Each index is read from the `gh-pages` branch of the publisher's fetched repository (the branch
GitHub Pages serves as https://<owner>.github.io/helm-charts/index.yaml). Where the snapshot lacks
it (files of 4 MiB and more are left out: prometheus-community's index is 6.3 MB), the committed
excerpt third_party/upstream/charts/indexes/<publisher>.yaml is used; this script writes that
excerpt from pages of the index saved as `version created digest appVersion` lines:

    scripts/published.py --pages FILE PUBLISHER     # write indexes/PUBLISHER.yaml from saved pages
    scripts/published.py PUBLISHER [CHART ...]      # print what is published (a quick look)

Only the fields the release data needs are kept from an entry: version, created, digest, urls,
appVersion.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.chart_sources import PUBLISHERS, version_key  # noqa: E402

INDEXES_DIR = REPO / "third_party" / "upstream" / "charts" / "indexes"
FIELDS = ("version", "created", "digest", "appVersion", "urls")
_PLAIN = re.compile(r"\d+\.\d+\.\d+")


class Index:
    """One publisher's published entries: chart -> version -> entry (FIELDS only)."""

    def __init__(self, publisher: str, entries: dict[str, dict[str, dict]], source: str):
        self.publisher = publisher
        self.entries = entries
        self.source = source  # where the entries were read (provenance)

    @property
    def url(self) -> str:
        return PUBLISHERS[self.publisher]["url"]

    def versions(self, chart: str) -> dict[str, dict]:
        return self.entries.get(chart, {})

    def where(self, chart: str) -> str:
        """Where a release of `chart` would have to be published."""
        spec = PUBLISHERS[self.publisher]
        places = [f"{spec['url']}/index.yaml"] + ([f"{spec['oci']}/{chart}"] if spec.get("oci") else [])
        return " or ".join(places)


def _keep(entry: dict) -> dict:
    out = {key: entry[key] for key in FIELDS if key in entry}
    out["version"] = str(out["version"])
    return out


def parse(document: dict, charts: set[str] | None = None) -> dict[str, dict[str, dict]]:
    """chart -> version -> entry, plain X.Y.Z versions only (no pre-releases)."""
    out: dict[str, dict[str, dict]] = {}
    for chart, entries in (document.get("entries") or {}).items():
        if charts is not None and chart not in charts:
            continue
        for entry in entries or []:
            version = str(entry.get("version", ""))
            if _PLAIN.fullmatch(version):
                out.setdefault(chart, {})[version] = _keep(entry)
    return out


def from_mirror(mirror: Path) -> tuple[dict, str] | None:
    """The gh-pages index.yaml of a fetched repository, with its commit; None when absent."""
    show = subprocess.run(["git", "-C", str(mirror), "show", "gh-pages:index.yaml"], capture_output=True, text=True)
    if show.returncode != 0 or not show.stdout:
        return None
    commit = subprocess.run(
        ["git", "-C", str(mirror), "log", "-1", "--format=%H %cs", "gh-pages", "--", "index.yaml"],
        capture_output=True,
        text=True,
    ).stdout.split()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    where = f"gh-pages:index.yaml at {commit[0]} ({commit[1]})" if commit else "gh-pages:index.yaml"
    return yaml.load(show.stdout, Loader=loader), where


def excerpt_path(publisher: str) -> Path:
    return INDEXES_DIR / f"{publisher}.yaml"


def load(publisher: str, mirrors: Path, charts: set[str]) -> Index | None:
    """The publisher's index: from its fetched gh-pages branch, else the committed excerpt; None if neither."""
    spec = PUBLISHERS[publisher]
    if spec.get("mirror"):
        found = from_mirror(mirrors / spec["mirror"] / "repo")
        if found is not None:
            document, where = found
            return Index(publisher, parse(document, charts), f"{spec['mirror'].replace('+', '/')} {where}")
    path = excerpt_path(publisher)
    if path.is_file():
        document = yaml.safe_load(path.read_text())
        return Index(publisher, parse(document, charts), document.get("source", str(path.relative_to(REPO))))
    return None


def write_excerpt(index: Index, keep: dict[str, set[str]]) -> Path:
    """Write the entries of `keep` (chart -> versions) as third_party/upstream/charts/indexes/<publisher>.yaml."""
    spec = PUBLISHERS[index.publisher]
    entries = {
        chart: [index.versions(chart)[v] for v in sorted(versions, key=version_key, reverse=True)]
        for chart, versions in sorted(keep.items())
        if versions
    }
    header = (
        f"# Entries of {spec['url']}/index.yaml that the release data names (newest first), with the\n"
        "# fields it keeps. Written by scripts/update-charts.py (scripts/published.py); do not edit.\n"
    )
    body = {"repository": spec["url"], "oci": spec.get("oci"), "source": index.source, "entries": entries}
    path = excerpt_path(index.publisher)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(body, sort_keys=False, width=200, default_flow_style=None))
    return path


def from_pages(text: str) -> tuple[dict, str]:
    """An index document from saved pages: `source:`, `url:` ({chart} and {version} filled in),
    `chart:` lines, then one `version created digest appVersion` line per entry; `#` comments."""
    source = url = chart = ""
    entries: dict[str, list[dict]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(": ")
        if key == "source":
            source = value
        elif key == "url":
            url = value
        elif key == "chart":
            chart = value
        else:
            entries.setdefault(chart, []).append(_page_entry(line, chart, url))
    return {"entries": entries}, source


def _page_entry(line: str, chart: str, url: str) -> dict:
    """One `version created digest appVersion` line of saved pages as an index entry."""
    fields = line.split()
    if len(fields) != 4 or not (_PLAIN.fullmatch(fields[0]) and re.fullmatch(r"[0-9a-f]{64}", fields[2])):
        raise ValueError(f"not an entry line: {line}")
    version, created, digest, app_version = fields
    return {
        "version": version,
        "created": created,
        "digest": digest,
        "appVersion": app_version,
        "urls": [url.format(chart=chart, version=version)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("publisher", choices=sorted(PUBLISHERS))
    parser.add_argument("charts", nargs="*")
    parser.add_argument("--pages", help="saved index pages to write the committed excerpt from")
    parser.add_argument("--mirrors", default="/work/.mirror", help="directory of owner+name/repo git directories")
    args = parser.parse_args(argv)
    if args.pages:
        document, source = from_pages(Path(args.pages).read_text())
        index = Index(args.publisher, parse(document), source)
        path = write_excerpt(index, {chart: set(versions) for chart, versions in index.entries.items()})
        print(f"{path.relative_to(REPO)}: {sum(map(len, index.entries.values()))} entries")
        return 0
    index = load(args.publisher, Path(args.mirrors), set(args.charts) if args.charts else None)
    if index is None:
        print(f"published.py: no index of {args.publisher} can be read here", file=sys.stderr)
        return 1
    for chart, versions in sorted(index.entries.items()):
        ordered = sorted(versions, key=version_key)
        print(f"{chart}: {len(ordered)} published, {ordered[0]} .. {ordered[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
