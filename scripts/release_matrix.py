"""The release matrix: the default config at the first and last published release of each major of
each chart, rendered through helm besides the golden cases (scripts/update-rendered.py), so what the
function writes is checked against every major it supports, not only the newest and the seed pins.

    from scripts.release_matrix import MATRIX, stack, fixtures
    MATRIX                                  # [("loki", "6.57.0"), ...]
    stack("loki", "6.57.0")                 # the function's output for that config, in-process
    fixtures()                              # {"loki-6.57.0.yaml": "<header + helm render>", ...}

Releases the golden cases already render (the defaults, the seed pins) are left out. Each fixture
holds only the HelmRelease of the chart whose version moved (the others are the default case's).
They are kept in one compressed store per chart, tests/rendered/matrix/<chart>.tar.xz
(scripts/values_store.py's format): the renders are near copies of each other.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts import values_store  # noqa: E402

DEFAULT_CONFIG = REPO / "function-config" / "observability.yaml"
MATRIX_DIR = REPO / "tests" / "rendered" / "matrix"
CHARTS = ("kube-prometheus-stack", "loki", "alloy")
# Rendered by the golden cases already: tests/rendered/default and tests/rendered/seed-pins.
SEED_PINS = {"kube-prometheus-stack": "82.18.0", "loki": "6.55.0", "alloy": "1.11.1"}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def first_and_last_of_each_major(versions: list[str]) -> list[str]:
    majors: dict[str, list[str]] = {}
    for version in sorted(versions, key=_key):
        majors.setdefault(version.split(".")[0], []).append(version)
    return sorted({v for found in majors.values() for v in (found[0], found[-1])}, key=_key)


def matrix() -> list[tuple[str, str]]:
    """(chart, version) of every matrix release, from the release data (published releases only)."""
    releases = json.loads((REPO / "krm_fn" / "charts" / "releases.json").read_text())
    out = []
    for chart in CHARTS:
        versions = [version for version, _ in releases[chart]]
        newest = max(versions, key=_key)
        for version in first_and_last_of_each_major(versions):
            if version not in (newest, SEED_PINS[chart]):
                out.append((chart, version))
    return out


MATRIX = matrix()


def config(chart: str, version: str) -> dict:
    """The default config with one chart's version set."""
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text())
    doc["spec"].setdefault("charts", {})[chart] = {"version": version}
    return doc


def stack(chart: str, version: str) -> list[dict]:
    """What `observability-fn render` writes for the matrix config, rendered in-process."""
    from krm_fn.render import render_items

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "observability.yaml"
        path.write_text(yaml.safe_dump(config(chart, version)))
        items, _, _ = render_items([str(path)], None)
    return [item.data for item in items]


def fixture_name(chart: str, version: str) -> str:
    return f"{chart}-{version}.yaml"


def store_path(chart: str) -> Path:
    return MATRIX_DIR / f"{chart}.tar.xz"


def fixtures() -> dict[str, str]:
    """Every matrix fixture: file name -> text."""
    out: dict[str, str] = {}
    for chart in CHARTS:
        out.update(values_store.read(store_path(chart)))
    return out


def write(files: dict[str, str]) -> list[Path]:
    """Store the fixtures, one archive per chart; the archives that changed."""
    MATRIX_DIR.mkdir(parents=True, exist_ok=True)
    changed = []
    for chart in CHARTS:
        mine = {name: text for name, text in files.items() if name.startswith(f"{chart}-")}
        path = store_path(chart)
        if not mine:
            if path.exists():
                path.unlink()
                changed.append(path)
            continue
        if values_store.write(mine, path):
            changed.append(path)
    return changed
