"""What the cluster gets: the helm-rendered fixtures of tests/rendered/ as objects.

tests/rendered/<case>/<release>.yaml is `helm template` (real helm, the chart release as
published) of each HelmRelease in tests/golden/<case>/stack.yaml, written by
scripts/update-rendered.py (`make rendered`). The chart sources are upstream code and are not in
the repository; the rendered objects are data, so tests assert on them everywhere, CI included,
and tests/test_rendered.py fails when a golden's values no longer match its fixture.

    from tests.helm_render import CASES, find, rendered

    objs = rendered("default")                  # every object the case's HelmReleases render
    loki = rendered("default", "loki")          # one HelmRelease
    svc = find(objs, "Service", "loki")          # one object, or a test failure naming what is there

After changing what the function generates: `scripts/update-golden.sh`, then `make rendered`
(needs the chart sources: `scripts/chart-cache.py`, which reads the mirrors the library's `fetch`
brings; see scripts/update-rendered.py).
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
RENDERED = REPO / "tests" / "rendered"
GOLDEN = REPO / "tests" / "golden"
# The golden cases (tests/rendered/matrix/ holds the release matrix: matrix_fixture()).
CASES = sorted(p.name for p in RENDERED.iterdir() if p.is_dir() and (GOLDEN / p.name).is_dir())


@functools.cache
def _load(path: Path) -> tuple[dict, ...]:
    return tuple(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))


def header(case: str, release: str) -> dict[str, str]:
    """The `# key: value` lines at the top of a fixture (chart, helm, values)."""
    return header_of((RENDERED / case / f"{release}.yaml").read_text())


def header_of(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        out[key] = value
    return out


def unrendered(case: str) -> dict[str, str]:
    """HelmRelease name -> why its chart cannot be rendered (its fixture is a header only)."""
    out = {}
    for name in releases(case):
        why = header(case, name).get("unrendered")
        if why:
            out[name] = why
    return out


def releases(case: str) -> list[str]:
    """The HelmRelease names rendered for a case."""
    return sorted(p.stem for p in (RENDERED / case).glob("*.yaml"))


def rendered(case: str, release: str | None = None) -> list[dict]:
    """The rendered objects of one HelmRelease, or of all of them, of a golden case (fresh copies)."""
    names = [release] if release else releases(case)
    import copy

    return [copy.deepcopy(d) for name in names for d in _load(RENDERED / case / f"{name}.yaml")]


def golden(case: str) -> list[dict]:
    """The function's own output for the case (tests/golden/<case>/stack.yaml)."""
    return [dict(d) for d in _load(GOLDEN / case / "stack.yaml")]


def find(objects: list[dict], kind: str, name: str | None = None) -> dict:
    """The one object of `kind` (and `name`); fails with what there is otherwise."""
    found = [o for o in objects if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]
    if len(found) != 1:
        there = sorted(o["metadata"]["name"] for o in objects if o.get("kind") == kind)
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(found)}; {kind} objects: {there}")
    return found[0]


def of_kind(objects: list[dict], *kinds: str) -> list[dict]:
    return [o for o in objects if o.get("kind") in kinds]


# --- the release matrix: the default config at the first and last release of each major ----------


@functools.cache
def _matrix_texts() -> dict[str, str]:
    from scripts import release_matrix

    return release_matrix.fixtures()


def matrix_fixture(chart: str, version: str) -> tuple[dict[str, str], list[dict]]:
    """The header and the rendered objects (fresh copies) of one release of the matrix."""
    import copy

    text = _matrix_texts()[f"{chart}-{version}.yaml"]
    return header_of(text), [copy.deepcopy(d) for d in _parsed(text)]


@functools.cache
def _parsed(text: str) -> tuple[dict, ...]:
    return tuple(d for d in yaml.safe_load_all(text) if isinstance(d, dict))


# --- a chart of our own for plumbing tests (no upstream code) ---------------------------------------

ECHO = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-echo
  namespace: {{ .Release.Namespace }}
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  servicemonitors: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
  values: {{ toJson .Values | quote }}
"""


def echo_chart(base: Path, name: str, version: str) -> Path:
    """A tiny chart of our own, `name` at `version`, whose template echoes what helm was given."""
    chart = base / f"{name}-{version}" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (chart / "templates" / "echo.yaml").write_text(ECHO)
    return chart
