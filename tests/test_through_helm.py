"""`render --through-helm` runs real helm the way helm-controller renders each HelmRelease.

The charts here are tiny charts of our own with the names and versions of the stack's releases:
each template echoes what helm was given (release name, namespace, values, Kubernetes version,
API versions), so the plumbing is checked with the real helm binary and no network. What the real
charts render from our values is tests/test_rendered.py's subject.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from krm_fn import helm
from tests.helm_render import echo_chart
from tests.helpers import DEFAULT_CONFIG_FILE, REPO, run_cli
from tests.tools import tool

pytestmark = pytest.mark.e2e

STACK = yaml.safe_load_all((REPO / "tests" / "golden" / "default" / "stack.yaml").read_text())
RELEASES = {
    d["metadata"]["name"]: d["spec"]["chart"]["spec"]["version"]
    for d in STACK
    if isinstance(d, dict) and d["kind"] == "HelmRelease"
}


@pytest.fixture
def charts(tmp_path: Path) -> Path:
    for name, version in RELEASES.items():
        echo_chart(tmp_path / "charts", name, version)
    return tmp_path / "charts"


def _render(*extra: str) -> subprocess.CompletedProcess:
    return run_cli("render", str(DEFAULT_CONFIG_FILE), "--through-helm", "--helm", tool("helm"), *extra)


def test_each_release_is_rendered_with_its_name_namespace_values_and_kube_version(charts: Path):
    proc = _render("--charts", str(charts), "--offline")
    assert proc.returncode == 0, proc.stderr.decode()
    docs = [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict)]
    assert not [d for d in docs if d["kind"] in ("HelmRelease", "HelmRepository", "OCIRepository")]
    echoes = {d["metadata"]["name"]: d for d in docs if d["metadata"]["name"].endswith("-echo")}
    assert set(echoes) == {f"{name}-echo" for name in RELEASES}
    stack = {d["metadata"]["name"]: d for d in yaml.safe_load_all(DEFAULT_CONFIG_FILE.read_text()) if d}
    for echo in echoes.values():
        assert echo["metadata"]["namespace"] == "monitoring"
        assert echo["data"]["kube"] == "v1.32.0"  # the config's default kubernetesVersion
        assert echo["data"]["servicemonitors"] == "true"  # the stack installs prometheus-operator's CRDs
    golden = {
        d["metadata"]["name"]: d
        for d in yaml.safe_load_all((REPO / "tests/golden/default/stack.yaml").read_text())
        if isinstance(d, dict) and d["kind"] == "HelmRelease"
    }
    for name, release in golden.items():
        assert yaml.safe_load(echoes[f"{name}-echo"]["data"]["values"]) == release["spec"]["values"]
    assert stack  # the config itself is not part of the output
    assert not [d for d in docs if d["kind"] == "ObservabilityConfig"]


def test_a_missing_chart_offline_is_one_clear_line(tmp_path: Path):
    proc = _render("--charts", str(tmp_path), "--offline")
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert "no local copy of kube-prometheus-stack@" in err and "--charts" in err


def test_a_chart_that_fails_to_render_names_the_release(charts: Path):
    (charts / f"loki-{RELEASES['loki']}" / "loki" / "templates" / "bad.yaml").write_text('{{ fail "nope" }}\n')
    proc = _render("--charts", str(charts), "--offline")
    assert proc.returncode == 1
    assert "HelmRelease monitoring/loki" in proc.stderr.decode() and "nope" in proc.stderr.decode()


def test_a_chart_is_pulled_from_its_repository_into_the_cache(tmp_path: Path):
    """helm pull from an https-style chart repository (served on loopback), unpacked once into the cache."""
    helm_bin = tool("helm")
    repo = tmp_path / "repo"
    repo.mkdir()
    chart = echo_chart(tmp_path / "src", "demo", "1.2.3")
    subprocess.run([helm_bin, "package", str(chart), "-d", str(repo)], check=True, capture_output=True)
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(repo)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        subprocess.run([helm_bin, "repo", "index", str(repo), "--url", url], check=True, capture_output=True)
        ref = helm.ChartRef("demo", "1.2.3", url)
        pulled = helm.pull_chart(ref, tmp_path / "cache", helm_bin)
        assert (pulled / "Chart.yaml").read_text().startswith("apiVersion: v2\nname: demo")
        assert any(r.endswith("demo-1.2.3.tgz") for r in requests), requests
        before = len(requests)
        assert helm.pull_chart(ref, tmp_path / "cache", helm_bin) == pulled
        assert len(requests) == before  # cached: no second pull
        with pytest.raises(helm.HelmError, match=r"helm pull demo@9\.9\.9"):
            helm.pull_chart(helm.ChartRef("demo", "9.9.9", url), tmp_path / "cache", helm_bin)
    finally:
        server.shutdown()
        server.server_close()
