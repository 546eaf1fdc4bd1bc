#!/usr/bin/env python3
"""Record the values paths each chart release's templates read but its values.yaml does not show.

    scripts/template_reads.py [--mirrors DIR]           # rewrite third_party/upstream/charts/template-reads.yaml
    scripts/template_reads.py [--mirrors DIR] --check   # exit 1 when the committed file is stale

A chart reads more than its values.yaml lists: a key shown only in a comment
(`# configSecret:` in kube-prometheus-stack's alertmanagerSpec), or one the templates read with no
default at all (`prometheus.ingress.pathType`). The `helm-values` rule must not call such a key
"ignored by the chart", so scripts/gen_chart_paths.py adds these paths, as free-form, to the
release's known paths.

For every release of third_party/upstream/charts/releases/<chart>.yaml (charts and pinned
subcharts), the templates at the release's commit are read from the fetched mirror of its source
(`fetch github:<owner>/<name>`; nothing of them is committed) and every `.Values.a.b` and
`index .Values "a" "b"` reference is collected. References reached through `with`, `range` or a
variable are relative and not seen: those keys stay unknown, as before. Kept are the references
whose path is missing from the release's own values.yaml; the file lists each path with the
ranges of releases that read it. scripts/update-charts.py runs this after vendoring new releases.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.chart_sources import git  # noqa: E402
from scripts.gen_chart_paths import RELEASES_DIR, dotted, ranges, releases, values_tree  # noqa: E402
from scripts.generated import sync  # noqa: E402

OUTPUT = REPO / "third_party" / "upstream" / "charts" / "template-reads.yaml"
# kube-prometheus-stack's subcharts first, then the charts the function generates.
CHARTS = (
    "grafana",
    "kube-state-metrics",
    "prometheus-node-exporter",
    "kube-prometheus-stack",
    "loki",
    "alloy",
    "thanos",
)
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")

FIELD_REFERENCE = re.compile(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
INDEX_REFERENCE = re.compile(r'\(?index\s+\$?\.Values((?:\s+"[^"{}\s]+")+)')


def references(text: str) -> set[tuple[str, ...]]:
    """The values paths a template names directly (`.Values.a.b`, `$.Values.a`, `index .Values "a" "b"`)."""
    found = {tuple(match.group(1)[1:].split(".")) for match in FIELD_REFERENCE.finditer(text)}
    found |= {tuple(re.findall(r'"([^"]+)"', match.group(1))) for match in INDEX_REFERENCE.finditer(text)}
    return found


def missing(tree: object, path: tuple[str, ...]) -> bool:
    """True when `path` is not in the values tree and no free-form map above it takes it."""
    node = tree
    for key in path:
        if not isinstance(node, dict):
            return False  # below a free-form map (takes anything) or a scalar default (cannot be a map)
        if key not in node:
            return True
        node = node[key]
    return False


def template_texts(mirror: Path, commit: str, chart_path: str) -> list[str]:
    """Every template file of the chart at `commit` (its own templates, not its subcharts')."""
    listing = git(mirror, "ls-tree", "-r", "--name-only", commit, f"{chart_path}/templates")
    names = [name for name in listing.splitlines() if name.endswith(TEMPLATE_SUFFIXES)]
    if not names:
        return []
    batch = git(mirror, "cat-file", "--batch", stdin="".join(f"{commit}:{name}\n" for name in names))
    return [batch]  # one text is enough: references are searched, not parsed


def mirror_of(release: dict, mirrors: Path) -> tuple[Path, str]:
    """(git directory, chart path) of a release's `source: <url> <path>`."""
    url, chart_path = release["source"].split()
    owner, name = url.rstrip("/").split("/")[-2:]
    return mirrors / f"{owner}+{name}" / "repo", chart_path


def chart_reads(chart: str, mirrors: Path) -> dict[str, list[list[str]]]:
    """Dotted path -> [[first, last] release ranges] of the missing paths the chart's templates read."""
    chart_releases = releases(chart)
    seen: dict[str, list[int]] = {}
    for index, release in enumerate(chart_releases):
        mirror, chart_path = mirror_of(release, mirrors)
        if not mirror.is_dir():
            raise SystemExit(
                f"{chart} {release['version']}: no mirror at {mirror} (fetch {release['source'].split()[0]})"
            )
        tree = values_tree(release["values"])
        paths: set[tuple[str, ...]] = set()
        for text in template_texts(mirror, release["commit"], chart_path):
            paths |= references(text)
        for path in sorted(paths):
            if missing(tree, path):
                seen.setdefault(dotted(list(path)), []).append(index)
    versions = [r["version"] for r in chart_releases]
    return {
        path: [[versions[first], versions[last]] for first, last in ranges(indexes)]
        for path, indexes in sorted(seen.items())
    }


def render(mirrors: Path) -> str:
    doc = {chart: chart_reads(chart, mirrors) for chart in CHARTS if (RELEASES_DIR / f"{chart}.yaml").is_file()}
    header = (
        '# Values paths each release\'s templates read (`.Values.a.b`, `index .Values "a"`) that its\n'
        "# values.yaml does not show: chart -> dotted path -> [first, last] ranges of releases\n"
        "# (third_party/upstream/charts/releases/<chart>.yaml order). Read from the templates at each\n"
        "# release's `commit` in the upstream repository its `source` names.\n"
        "# Written by scripts/template_reads.py; do not edit.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", default="/work/.mirror", help="directory of owner+name/repo git directories")
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is stale")
    args = parser.parse_args(argv)
    return sync({OUTPUT: render(Path(args.mirrors))}, [], args.check, "template_reads.py", REPO)


if __name__ == "__main__":
    sys.exit(main())
