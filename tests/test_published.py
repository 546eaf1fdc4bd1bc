"""Published, not tagged: every chart version we generate is one its publisher's index lists.

The evidence is committed: third_party/upstream/charts/indexes/<publisher>.yaml holds the index
entries the release data names (scripts/published.py), releases/<chart>.yaml records each
release's publication, and the supported-versions table of docs/reference/chart-versions.md is generated from them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import published, values_store
from scripts.chart_sources import PUBLISHERS, SOURCES
from tests.helm_render import GOLDEN, golden, of_kind
from tests.helpers import REPO

CHARTS_DIR = REPO / "third_party" / "upstream" / "charts"
# HelmReleases whose chart release is known not to be published, and the work that replaces it.
NOT_PUBLISHED: dict[tuple[str, str], str] = {}  # (golden case, HelmRelease) -> why its chart is not published


def _excerpt(publisher: str) -> dict[str, dict[str, dict]]:
    path = published.excerpt_path(publisher)
    return published.parse(yaml.safe_load(path.read_text())) if path.is_file() else {}


def _publisher_of(url: str) -> str | None:
    """The publisher whose https repository or OCI registry path a source URL names."""
    url = url.rstrip("/")
    for name, spec in PUBLISHERS.items():
        if url == spec["url"] or url == spec["oci"] or url.rsplit("/", 1)[0] == spec["oci"]:
            return name
    return None


def _chart_versions(stack: list[dict]) -> list[tuple[str, str, str, str]]:
    """(HelmRelease, chart, version, source URL) for every HelmRelease of a stack."""
    sources = {(o["kind"], o["metadata"]["name"]): o for o in of_kind(stack, "HelmRepository", "OCIRepository")}
    out = []
    for release in of_kind(stack, "HelmRelease"):
        spec = release["spec"]
        if "chartRef" in spec:
            source = sources[(spec["chartRef"]["kind"], spec["chartRef"]["name"])]
            url = source["spec"]["url"]
            out.append((release["metadata"]["name"], url.rsplit("/", 1)[1], source["spec"]["ref"]["tag"], url))
        else:
            chart = spec["chart"]["spec"]
            source = sources[(chart["sourceRef"]["kind"], chart["sourceRef"]["name"])]
            out.append((release["metadata"]["name"], chart["chart"], str(chart["version"]), source["spec"]["url"]))
    return out


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_every_generated_helm_release_names_a_published_release(case: str):
    for name, chart, version, url in _chart_versions(golden(case)):
        publisher = _publisher_of(url)
        assert publisher, f"{case}/{name}: {url} is no publisher of scripts/chart_sources.py PUBLISHERS"
        listed = _excerpt(publisher).get(chart, {})
        if (case, name) in NOT_PUBLISHED:
            assert version not in listed, f"{case}/{name} is published now: drop it from NOT_PUBLISHED"
            continue
        assert version in listed, f"{case}/{name}: {chart} {version} is not in {publisher}'s index ({url})"


def test_the_release_data_is_what_the_indexes_list():
    for path in sorted((CHARTS_DIR / "releases").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for release in doc["releases"]:
            entry = _excerpt(release["publisher"]).get(doc["chart"], {}).get(release["version"])
            if entry is None:
                assert not release.get("published"), f"{path.name} {release['version']}: published, but in no index"
                continue
            assert release["published"] == {"created": entry["created"], "digest": entry["digest"]}, path.name
        for tag in doc.get("unpublished", []):
            assert tag["version"] not in _excerpt(tag["publisher"]).get(doc["chart"], {})


def test_every_supported_release_of_our_charts_is_published_and_the_seed_pins_first():
    for chart, sources in SOURCES.items():
        doc = yaml.safe_load((CHARTS_DIR / "releases" / f"{chart}.yaml").read_text())
        assert all(r.get("published") for r in doc["releases"]), chart
        assert doc["releases"][0]["version"] == sources[0]["min"]


def test_the_docs_table_comes_from_the_release_data():
    expected = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "charts_table.py")], capture_output=True, text=True, check=True
    ).stdout.strip()
    page = REPO / "docs" / "reference" / "chart-versions.md"
    assert expected in page.read_text(), "the supported-versions table is stale: make charts"


def test_saved_pages_become_index_entries():
    text = (
        "source: library read_file o/r index.yaml 0123\n"
        "url: https://example.test/{chart}-{version}.tgz\n"
        "chart: demo\n# a comment\n"
        f"1.2.3 2026-01-02T03:04:05Z {'a' * 64} v9\n"
    )
    document, source = published.from_pages(text)
    assert source == "library read_file o/r index.yaml 0123"
    assert published.parse(document) == {
        "demo": {
            "1.2.3": {
                "version": "1.2.3",
                "created": "2026-01-02T03:04:05Z",
                "digest": "a" * 64,
                "appVersion": "v9",
                "urls": ["https://example.test/demo-1.2.3.tgz"],
            }
        }
    }
    with pytest.raises(ValueError, match="not an entry line"):
        published.from_pages("chart: demo\n1.2 2026 nodigest v1\n")


def test_pre_releases_are_not_releases():
    doc = {"entries": {"loki": [{"version": "6.24.0-weekly.232"}, {"version": "6.23.0"}]}}
    assert list(published.parse(doc)["loki"]) == ["6.23.0"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_a_tag_never_published_is_listed_and_an_unpublished_first_release_is_an_error(tmp_path: Path, monkeypatch):
    """update-charts' choice over a real git repository: releases are the published tags."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_charts", REPO / "scripts" / "update-charts.py")
    update = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update)
    repo = tmp_path / "acme+charts" / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        chart = repo / "charts" / "demo"
        chart.mkdir(parents=True, exist_ok=True)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: demo\nversion: {version}\n")
        (chart / "values.yaml").write_text(f"image: {{tag: {version}}}\n")
        _git(repo, "add", ".")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", version)
        _git(repo, "tag", f"demo-{version}")
    source = {"mirror": "acme+charts", "tag": "demo-{}", "path": "charts/demo", "min": "1.0.0", "publisher": "acme"}
    monkeypatch.setitem(update.SOURCES, "demo", [source])
    monkeypatch.setitem(update.UPSTREAM_URL, "acme+charts", "https://github.com/acme/charts")
    monkeypatch.setitem(
        update.PUBLISHERS, "acme", {"url": "https://acme.test/charts", "oci": "oci://ghcr.io/acme", "mirror": None}
    )
    entry = {"created": "2026-01-01T00:00:00Z", "digest": "d" * 64}
    index = published.Index("acme", {"demo": {"1.1.0": {"version": "1.1.0", **entry}}}, "test")
    errors: list[str] = []
    store: dict[str, str] = {}
    releases, unpublished = update.chart_releases(tmp_path, "demo", {"acme": index}, store, errors)
    assert [r["version"] for r in releases] == ["1.1.0"]
    assert releases[0]["published"] == entry
    assert [u["version"] for u in unpublished] == ["1.0.0", "1.2.0"]
    assert errors == [
        "demo 1.0.0 (the first release of acme/charts tag demo-1.0.0) is not published: it would have to be at "
        "https://acme.test/charts/index.yaml or oci://ghcr.io/acme/demo"
    ]
    assert list(store) == ["values/demo/1.1.0.yaml"]


def test_the_values_store_is_small_and_canonical():
    files = values_store.read()
    assert len(files) > 50 and sum(map(len, files.values())) > 10_000_000
    assert values_store.STORE.stat().st_size < 200_000
    assert values_store.pack(files) == values_store.STORE.read_bytes(), "re-pack: scripts/update-charts.py"
    releases = [yaml.safe_load(p.read_text()) for p in (CHARTS_DIR / "releases").glob("*.yaml")]
    named = {r["values"] for doc in releases for r in doc["releases"] if r["values"].startswith("values/")}
    assert named == set(files), "every member is some release's values, and every release's values are there"
