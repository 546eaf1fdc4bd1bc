#!/usr/bin/env python3
"""Print the supported-versions table (docs/reference/chart-versions.md) from the release data.

    scripts/charts_table.py            # print the block
    scripts/charts_table.py --write    # replace it in docs/reference/chart-versions.md (make charts runs this)

Each row comes from third_party/upstream/charts/releases/<chart>.yaml, which scripts/update-charts.py
writes from the published indexes: the releases are the published ones (created dates from the
index), grouped by publisher, with the https repository and OCI registry each is published to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.chart_sources import version_key  # noqa: E402
from scripts.gen_chart_paths import CHARTS, RELEASES_DIR  # noqa: E402
from scripts.generated import write_block  # noqa: E402

PAGE = REPO / "docs" / "reference" / "chart-versions.md"
START, END = "<!-- charts:start -->", "<!-- charts:end -->"


def _span(values: list[str]) -> str:
    return values[0] if values[0] == values[-1] else f"{values[0]} to {values[-1]}"


def row(chart: str) -> str:
    doc = yaml.safe_load((RELEASES_DIR / f"{chart}.yaml").read_text())
    releases = doc["releases"]
    published = [r for r in releases if r.get("published")]
    versions = sorted((r["version"] for r in published), key=version_key)
    unpublished = [r["version"] for r in releases if not r.get("published")]
    by = []
    for name, where in doc["publishers"].items():
        mine = sorted((r["version"] for r in published if r["publisher"] == name), key=version_key)
        dates = sorted(r["published"]["created"][:10] for r in published if r["publisher"] == name)
        places = f"`{where['repository']}`, `{where['oci']}`"
        if mine:
            by.append(f"{_span(mine)}: {name} ({places}; published {_span([dates[0], dates[-1]])})")
        else:
            by.append(f"{name} ({places}): not published")
    count = f"{len(versions)} published release{'s' if len(versions) > 1 else ''}"
    supported = f"{_span(versions)} ({count})" if versions else "none published"
    if unpublished:
        supported += f"; {', '.join(unpublished)} is not published"
    default = versions[-1] if versions else releases[-1]["version"]
    return f"| {chart} | {supported} | {default} | {'; '.join(by)} |"


def table() -> str:
    rows = ["| chart | supported releases | default | published by |", "| --- | --- | --- | --- |"]
    return "\n".join(rows + [row(chart) for chart in CHARTS])


def main() -> int:
    block = f"{START}\n{table()}\n{END}"
    if "--write" in sys.argv:
        write_block(PAGE, START, END, block)
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
