#!/usr/bin/env python3
"""Render every HelmRelease of the golden stacks through real helm: tests/rendered/<case>/<release>.yaml.

    scripts/update-rendered.py [--charts DIR] [--check]      # make rendered

For each tests/golden/<case>/stack.yaml (the function's output, kept up to date by
scripts/update-golden.sh), each HelmRelease is rendered by `helm template` (krm_fn/helm.py: the
release name, namespace, values and Kubernetes version helm-controller would use) from its chart
release laid out by scripts/chart-cache.py (default DIR: .charts/). The file's header names the
chart release, the helm version and a digest of the values it was rendered from:
tests/test_rendered.py fails when a golden's values no longer match, so a change to what we
generate comes with what the cluster gets from it.

Grafana dashboard JSON bodies (ConfigMap data values over 4 KiB that parse as a dashboard) are
replaced by their size and sha256: they are most of the bytes and no assertion reads them.

Then the release matrix (scripts/release_matrix.py): the default config at the first and last
published release of each major of each chart, one fixture per release, kept in
tests/rendered/matrix/<chart>.tar.xz.

--check renders again and exits 1 when a fixture differs (the chart sources must be at hand).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from krm_fn import helm  # noqa: E402
from scripts import release_matrix  # noqa: E402

GOLDEN = REPO / "tests" / "golden"
RENDERED = REPO / "tests" / "rendered"
ELIDE_OVER = 4096
# (case, HelmRelease) pairs that cannot be rendered, and why: their fixture holds only the header.
UNRENDERED: dict[tuple[str, str], str] = {}


def values_digest(release: dict) -> str:
    """sha256 of the HelmRelease's values as canonical JSON (what tests/test_rendered.py recomputes)."""
    values = release["spec"].get("values") or {}
    return hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _elide(doc: dict) -> dict:
    if doc.get("kind") != "ConfigMap":
        return doc
    for key, value in (doc.get("data") or {}).items():
        if isinstance(value, str) and len(value) > ELIDE_OVER and '"panels"' in value:
            digest = hashlib.sha256(value.encode()).hexdigest()
            doc["data"][key] = f"<elided: a Grafana dashboard, {len(value)} bytes, sha256 {digest}>"
    return doc


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks where YAML allows it: a config file reads as a file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def compact(text: str) -> str:
    """helm's output, one document per object with its `# Source:` line, dashboards elided."""
    out = []
    for chunk in text.split("\n---\n"):
        lines = chunk.strip("-\n").splitlines()
        source = [line for line in lines if line.startswith("# Source: ")]
        doc = yaml.safe_load("\n".join(lines))
        if not isinstance(doc, dict):
            continue
        body = yaml.dump(_elide(doc), Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)
        out.append("\n".join([*source[:1], body.rstrip("\n")]) + "\n")
    return "---\n" + "---\n".join(out)


def helm_version(helm_bin: str) -> str:
    return subprocess.run([helm_bin, "version", "--template", "{{.Version}}"], capture_output=True, text=True).stdout


def render_case(case: Path, chart_dirs: list[Path], helm_bin: str) -> dict[str, str]:
    """file name -> content, for every HelmRelease of one golden case."""
    objects = [d for d in yaml.safe_load_all((case / "stack.yaml").read_text()) if isinstance(d, dict)]
    config = case / "config.yaml"
    spec = yaml.safe_load(config.read_text())["spec"] if config.exists() else {}
    kube_version = str(spec.get("kubernetesVersion", "1.32"))
    files = {}
    skipped = [
        o for o in objects if o.get("kind") == "HelmRelease" and (case.name, o["metadata"]["name"]) in UNRENDERED
    ]
    for release in skipped:
        meta = release["metadata"]
        files[f"{meta['name']}.yaml"] = (
            f"# helm template of HelmRelease {meta['namespace']}/{meta['name']} "
            f"in tests/golden/{case.name}/stack.yaml\n"
            f"# unrendered: {UNRENDERED[(case.name, meta['name'])]}\n"
            f"# values: sha256 {values_digest(release)}\n"
        )
    releases = [o for o in objects if o not in skipped]
    for rendered in helm.render_stack(releases, kube_version, chart_dirs, helm_bin, cache=None):
        meta = rendered.release["metadata"]
        where = f"in tests/golden/{case.name}/stack.yaml"
        files[f"{meta['name']}.yaml"] = fixture(rendered, where, kube_version, helm_bin)
    return files


def fixture(rendered: helm.RenderedRelease, where: str, kube_version: str, helm_bin: str) -> str:
    """A fixture's text: the header naming what was rendered and from which values, then the objects."""
    meta = rendered.release["metadata"]
    header = [
        f"# helm template of HelmRelease {meta['namespace']}/{meta['name']} {where}",
        f"# chart: {rendered.chart.name}@{rendered.chart.version} ({rendered.chart.repository})",
        f"# helm: {helm_version(helm_bin)}; --kube-version {kube_version}; "
        f"--api-versions {' '.join(helm.STACK_API_VERSIONS)}",
        f"# values: sha256 {values_digest(rendered.release)}",
        "# Written by scripts/update-rendered.py (make rendered); do not edit. Dashboard JSON elided.",
    ]
    return "\n".join(header) + "\n" + compact(rendered.text)


def render_matrix(chart_dirs: list[Path], helm_bin: str) -> dict[str, str]:
    """file name -> content, for every release of scripts/release_matrix.py MATRIX."""
    files = {}
    for chart, version in release_matrix.MATRIX:
        objects = release_matrix.stack(chart, version)
        kube_version = str(release_matrix.config(chart, version)["spec"].get("kubernetesVersion", "1.32"))
        wanted = [o for o in objects if o.get("kind") != "HelmRelease" or o["metadata"]["name"] == chart]
        (rendered,) = helm.render_stack(wanted, kube_version, chart_dirs, helm_bin, cache=None)
        where = f"for the default config with spec.charts.{chart}.version {version}"
        files[release_matrix.fixture_name(chart, version)] = fixture(rendered, where, kube_version, helm_bin)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", action="append", default=[], help="chart directories (default: .charts)")
    parser.add_argument("--helm", help="the helm binary (default: .tools/bin/helm, then PATH)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a fixture differs from a fresh render")
    args = parser.parse_args(argv)
    chart_dirs = [Path(c) for c in args.charts] or [REPO / ".charts"]
    helm_bin = helm.helm_binary(args.helm)
    stale = 0
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        try:
            files = render_case(case, chart_dirs, helm_bin)
        except helm.HelmError as err:
            print(
                f"update-rendered: {case.name}: {err}; lay the chart out with scripts/chart-cache.py", file=sys.stderr
            )
            return 1
        target = RENDERED / case.name
        existing = {p.name: p.read_text() for p in target.glob("*.yaml")} if target.exists() else {}
        for name in sorted(set(existing) | set(files)):
            old, new = existing.get(name), files.get(name)
            if old == new:
                continue
            stale += 1
            if args.check:
                diff = difflib.unified_diff((old or "").splitlines(True), (new or "").splitlines(True), n=1)
                sys.stdout.writelines(list(diff)[:60])
                continue
            if new is None:
                (target / name).unlink()
            else:
                target.mkdir(parents=True, exist_ok=True)
                (target / name).write_text(new)
            print(f"update-rendered: tests/rendered/{case.name}/{name}")
    try:
        matrix = render_matrix(chart_dirs, helm_bin)
    except helm.HelmError as err:
        print(f"update-rendered: release matrix: {err}; lay the chart out with scripts/chart-cache.py", file=sys.stderr)
        return 1
    existing = release_matrix.fixtures()
    for name in sorted(set(existing) | set(matrix)):
        if existing.get(name) != matrix.get(name):
            stale += 1
            print(f"update-rendered: {'differs' if args.check else 'rendered'}: matrix/{name}")
    if not args.check:
        for path in release_matrix.write(matrix):
            print(f"update-rendered: {path.relative_to(REPO)}: {path.stat().st_size if path.exists() else 0} bytes")
    if args.check and stale:
        print(f"update-rendered: {stale} fixture(s) differ from a fresh render; run make rendered", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
