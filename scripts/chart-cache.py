#!/usr/bin/env python3
"""Lay out chart releases, with their dependencies, as directories `helm template` renders.

    scripts/chart-cache.py [--mirrors DIR] [--out DIR] [CHART@VERSION ...]

With no CHART@VERSION, every release the rendered test fixtures name (tests/rendered/*/*.yaml
headers). Each release goes to OUT/<chart>-<version>/<chart>/ (default OUT: .charts/, which git
ignores), its `charts/` holding every dependency its Chart.yaml pins, at the version the
release's own Chart.lock or pin says; a range (`0.12.*`) resolves to the newest tagged release in
range that existed on the release's date, as `helm dependency build` did when it was packaged.

The sources are the upstream tags read from the mirrors the library's `fetch` brings (see
scripts/chart_sources.py); nothing here is committed: the chart templates are upstream code, and
only what helm renders from them with our values (tests/rendered/) is kept in the repository.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.chart_sources import (  # noqa: E402
    DEPENDENCIES,
    SOURCES,
    SUBCHARTS,
    in_range,
    release_tags,
    tag_info,
    version_key,
)


def release_source(chart: str, version: str) -> tuple[str, str, str]:
    """(mirror, tag, path) of a release of one of our charts."""
    for source in SOURCES.get(chart, []):
        if in_range(version, source):
            return source["mirror"], source["tag"].format(version), source["path"]
    spec = SUBCHARTS.get(chart) or DEPENDENCIES.get(chart)
    if spec and "tag" in spec:
        return spec["mirror"], spec["tag"].format(version), spec["path"]
    raise SystemExit(f"chart-cache: no tagged source known for {chart} {version} (scripts/chart_sources.py)")


def extract_tree(mirror: Path, tag: str, path: str, target: Path) -> None:
    """`git archive TAG PATH` unpacked so that PATH's content lands in TARGET."""
    archive = subprocess.run(["git", "-C", str(mirror), "archive", "--format=tar", tag, path], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"chart-cache: git archive {tag} {path} in {mirror}: {archive.stderr.decode().strip()}")
    prefix = path.rstrip("/") + "/"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        for member in tar.getmembers():
            if not member.name.startswith(prefix) or not (member.isfile() or member.isdir()):
                continue
            member.name = member.name[len(prefix) :]
            if member.name:
                tar.extract(member, target, filter="data")


def extract_package(mirror: Path, path: str, target: Path) -> None:
    """A published chart archive kept in the repository (its top directory is the chart's name)."""
    blob = subprocess.run(["git", "-C", str(mirror), "show", f"HEAD:{path}"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[1] if "/" in member.name else ""
            if name and (member.isfile() or member.isdir()):
                member.name = name
                tar.extract(member, target, filter="data")


def resolve_range(mirror: Path, pattern: str, wanted: str, before: str) -> str:
    """The newest X.Y.Z tag matching a `A.B.*` range that existed on `before` (YYYY-MM-DD)."""
    prefix = wanted.rstrip("*").rstrip(".")
    candidates = []
    for version, tag in release_tags(mirror, pattern).items():
        if version.startswith(prefix + ".") and tag_info(mirror, tag)[1] <= before:
            candidates.append(version)
    if not candidates:
        raise SystemExit(f"chart-cache: no release of {pattern} matches {wanted} before {before}")
    return max(candidates, key=version_key)


def lay_out(mirrors: Path, chart: str, version: str, target: Path) -> str:
    """Write one chart release (and, recursively, its dependencies) into TARGET; its date."""
    mirror_name, tag, path = release_source(chart, version)
    mirror = mirrors / mirror_name / "repo"
    extract_tree(mirror, tag, path, target)
    date = tag_info(mirror, tag)[1]
    meta = yaml.safe_load((target / "Chart.yaml").read_text())
    lock = target / "Chart.lock"
    locked = {
        d["name"]: str(d["version"])
        for d in (yaml.safe_load(lock.read_text()) if lock.exists() else {}).get("dependencies") or []
    }
    for dep in meta.get("dependencies") or []:
        if not dep.get("repository"):
            continue  # kept inside the chart (crds/)
        name = dep["name"]
        wanted = locked.get(name, str(dep["version"]))
        sub = target / "charts" / name
        if sub.exists():
            shutil.rmtree(sub)
        sub.mkdir(parents=True)
        spec = SUBCHARTS.get(name) or DEPENDENCIES.get(name)
        if spec is None:
            raise SystemExit(f"chart-cache: {chart} {version} depends on {name}, whose source is not known")
        if "package" in spec:
            extract_package(mirrors / spec["mirror"] / "repo", spec["package"].format(wanted), sub)
            continue
        if "*" in wanted:
            wanted = resolve_range(mirrors / spec["mirror"] / "repo", spec["tag"], wanted, date)
        lay_out(mirrors, name, wanted, sub)
    return date


def wanted_releases() -> list[tuple[str, str]]:
    """Every chart@version the rendered fixtures were made from (their `# chart:` header lines), and
    the release matrix (scripts/release_matrix.py)."""
    from scripts.release_matrix import MATRIX

    found = set(MATRIX)
    for path in sorted((REPO / "tests" / "rendered").glob("*/*.yaml")):
        for line in path.read_text().splitlines()[:10]:
            if line.startswith("# chart: "):
                chart, version = line.split()[2].split("@")
                found.add((chart, version))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("releases", nargs="*", help="CHART@VERSION (default: those tests/rendered names)")
    parser.add_argument("--mirrors", default="/work/.mirror", help="directory of owner+name/repo git directories")
    parser.add_argument("--out", default=str(REPO / ".charts"), help="where the chart directories go")
    args = parser.parse_args(argv)
    releases = [tuple(r.split("@", 1)) for r in args.releases] or wanted_releases()
    out = Path(args.out)
    for chart, version in releases:
        target = out / f"{chart}-{version}" / chart
        if (target / "Chart.yaml").exists():
            continue
        tmp = target.with_name(chart + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        lay_out(Path(args.mirrors), chart, version, tmp)
        tmp.rename(target)
        print(f"chart-cache: {target.relative_to(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
