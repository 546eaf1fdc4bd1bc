"""`observability-fn verify` against a stand-in cluster: real kubectl, real Prometheus, real Alertmanager.

tests/fake_cluster.py serves the API paths verify reads; behind its service proxy, Prometheus runs
the generated rules and scrapes targets named the way prometheus-operator names them, and
Alertmanager runs the generated config. Each broken variant shows its ✗ line and the advice.
"""

from __future__ import annotations

import copy
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.charts import ALERTMANAGER_SECRETS_DIR
from tests.fake_cluster import ClusterState, FakeCluster, ready, wait_http
from tests.helpers import FUNCTION, REPO, default_config, free_port
from tests.tools import tool

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CONFIG_FILE = REPO / "function-config" / "observability.yaml"


def kps_values(config: config_model.Config) -> dict:
    release = next(
        o
        for o in components.generate(config)
        if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"
    )
    return release["spec"]["values"]


class Daemon:
    """A real Prometheus or Alertmanager on a loopback port, stopped at the end of the module."""

    def __init__(self, argv: list[str], url: str, log: Path):
        self.url = url
        self._log = log.open("w")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"{url}/-/ready")
        except OSError:
            self.stop()
            pytest.fail(f"{argv[0]} did not start: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def start_alertmanager(workdir: Path, am_config: dict, secret_name: str, heartbeat_url: str | None = None) -> Daemon:
    """Alertmanager with the generated config; the Secret's key files where the operator mounts them."""
    workdir.mkdir(parents=True)
    secrets = workdir / "secrets"
    (secrets / secret_name).mkdir(parents=True)
    for key in ("pushover-user-key", "pushover-api-token"):
        (secrets / secret_name / key).write_text("not-a-real-key")
    if heartbeat_url:
        (secrets / secret_name / "heartbeat-url").write_text(heartbeat_url)
    text = yaml.safe_dump(am_config).replace(ALERTMANAGER_SECRETS_DIR, str(secrets))
    (workdir / "alertmanager.yaml").write_text(text)
    port = free_port()
    argv = [
        tool("alertmanager"),
        f"--config.file={workdir / 'alertmanager.yaml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return Daemon(argv, f"http://127.0.0.1:{port}", workdir / "log")


def start_prometheus(workdir: Path, values: dict, extra_jobs: list[dict], flux_job: bool = True) -> Daemon:
    """Prometheus with the generated rules, scraping itself under the job names prometheus-operator uses."""
    workdir.mkdir(parents=True)
    port = free_port()
    rule_files = []
    for name, rule_set in values["additionalPrometheusRulesMap"].items():
        path = workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(rule_set))
        rule_files.append(str(path))
    me = [{"targets": [f"127.0.0.1:{port}"]}]
    jobs = [{"job_name": "serviceMonitor/monitoring/kube-prometheus-stack-prometheus/0", "static_configs": me}]
    if flux_job:
        jobs.append({"job_name": "podMonitor/monitoring/flux-system/0", "static_configs": me})
    config = {"global": {"scrape_interval": "1s"}, "rule_files": rule_files, "scrape_configs": jobs + extra_jobs}
    (workdir / "prometheus.yaml").write_text(yaml.safe_dump(config))
    argv = [
        tool("prometheus"),
        f"--config.file={workdir / 'prometheus.yaml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    daemon = Daemon(argv, f"http://127.0.0.1:{port}", workdir / "log")
    wanted = len(jobs) + len(extra_jobs)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until every target has been scraped once
        with urllib.request.urlopen(f"{daemon.url}/api/v1/targets?state=active", timeout=5) as answer:
            targets = json.load(answer)["data"]["activeTargets"]
        if len(targets) == wanted and all(t["health"] != "unknown" for t in targets):
            break
        time.sleep(0.5)
    return daemon


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The config, and real daemons: a healthy pair and the broken variants."""
    tool("kubectl")
    root = tmp_path_factory.mktemp("verify")
    config, errors = config_model.load(default_config())
    assert config is not None, errors
    values = kps_values(config)
    am_config = values["alertmanager"]["config"]
    # an Alertmanager still running an older config: the Flux receiver is missing
    old = copy.deepcopy(am_config)
    flux_receiver = next(r["name"] for r in old["receivers"] if "flux" in r["name"])
    old["receivers"] = [r for r in old["receivers"] if r["name"] != flux_receiver]
    old["route"]["routes"] = [r for r in old["route"]["routes"] if r.get("receiver") != flux_receiver]
    closed = free_port()
    daemons = {
        "alertmanager": start_alertmanager(root / "am", am_config, config.secret_name),
        "alertmanager-old": start_alertmanager(root / "am-old", old, config.secret_name),
        "prometheus": start_prometheus(root / "prom", values, []),
        "prometheus-down": start_prometheus(
            root / "prom-down",
            values,
            [{"job_name": "kube-scheduler", "static_configs": [{"targets": [f"127.0.0.1:{closed}"]}]}],
        ),
        "prometheus-no-flux": start_prometheus(root / "prom-no-flux", values, [], flux_job=False),
    }
    yield config, daemons, flux_receiver
    for daemon in daemons.values():
        daemon.stop()


def healthy_state(stack) -> ClusterState:
    config, daemons, _ = stack
    state = ClusterState(config)
    state.backends["kube-prometheus-stack-prometheus:9090"] = daemons["prometheus"].url
    state.backends["kube-prometheus-stack-alertmanager:9093"] = daemons["alertmanager"].url
    return state


def verify(
    state: ClusterState, tmp_path: Path, *args: str, config_file: Path = CONFIG_FILE
) -> subprocess.CompletedProcess:
    with FakeCluster(state, tmp_path) as cluster:
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
        return subprocess.run(
            [FUNCTION, "verify", str(config_file), "--kubectl", tool("kubectl"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )


def line(output: str, start: str) -> str:
    """The report line that starts with `start`, and its advice line when there is one."""
    lines = output.splitlines()
    for i, text in enumerate(lines):
        if text.startswith(start):
            advice = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("    →") else ""
            return f"{text}\n{advice}".rstrip()
    raise AssertionError(f"no line starting {start!r} in:\n{output}")


def test_a_healthy_stack_passes_every_check(stack, tmp_path):
    result = verify(healthy_state(stack), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✗" not in result.stdout
    for expected in (
        "✓ Cluster: API server v1.33.4",
        "✓ Flux Kustomizations: all 2 Ready",
        "✓ HelmRelease monitoring/kube-prometheus-stack: Ready",
        "✓ HelmRelease monitoring/loki: Ready",
        "✓ HelmRelease monitoring/alloy: Ready",
        "✓ HelmRepository monitoring/prometheus-community: Ready",
        "✓ Prometheus targets: all 2 up",
        "✓ PodMonitor monitoring/flux-system targets: 1 target(s)",
        "✓ Prometheus alert rules:",
        "✓ Alertmanager receivers:",
        "✓ Alertmanager key files: Secret monitoring-secrets mounted in 1 pod(s)",
        "✓ Grafana health: database ok",
        "✓ Grafana datasources: Prometheus and Loki provisioned",
        "✓ Loki logs from monitoring: 1234 lines in the last 10 minutes",
        "✓ Alloy components: all 5 healthy",
        "✓ Prometheus replicas: 1/1 ready (statefulset prometheus-kube-prometheus-stack-prometheus)",
        "✓ Alertmanager replicas: 1/1 ready (statefulset alertmanager-kube-prometheus-stack-alertmanager)",
        "✓ Grafana replicas: 1/1 ready (deployment kube-prometheus-stack-grafana)",
        "✓ Loki replicas: 1/1 ready (statefulset loki)",
        "✓ HTTPRoute monitoring/grafana: Accepted, ResolvedRefs: grafana.catinthehack.ca",
    ):
        assert expected in result.stdout, result.stdout
    assert "FluxResourceNotReady" in line(result.stdout, "✓ Prometheus alert rules")
    assert result.stdout.rstrip().endswith("failed") and ", 0 failed" in result.stdout


def test_json_format(stack, tmp_path):
    result = verify(healthy_state(stack), tmp_path, "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["failed"] == 0 and report["passed"] == len(report["checks"]) > 15
    assert {"check", "ok", "detail", "advice"} <= set(report["checks"][0])


HA_CONFIG = REPO / "tests" / "golden" / "ha" / "config.yaml"
HA_VARIANT_CONFIG = REPO / "tests" / "golden" / "ha-variant" / "config.yaml"


def ha_state(path: Path, case: str) -> ClusterState:
    config, errors = config_model.load(yaml.safe_load(path.read_text()))
    assert config is not None, errors
    return ClusterState(config, case)


def test_verify_knows_the_ha_components(tmp_path):
    output = verify(ha_state(HA_CONFIG, "ha"), tmp_path, config_file=HA_CONFIG).stdout
    for expected in (
        "✓ Prometheus replicas: 2/2 ready (statefulset prometheus-kube-prometheus-stack-prometheus)",
        "✓ Alertmanager replicas: 3/3 ready (statefulset alertmanager-kube-prometheus-stack-alertmanager)",
        "✓ Grafana replicas: 2/2 ready (deployment kube-prometheus-stack-grafana)",
        "✓ Loki replicas: 3/3 ready (statefulset loki)",
        "✓ Thanos Query replicas: 2/2 ready (deployment thanos-query)",
        "✓ Thanos Store Gateway replicas: 2/2 ready (statefulset thanos-store-gateway)",
        "✓ Thanos Compactor replicas: 1/1 ready (statefulset thanos-compact)",
        "✓ Thanos Query stores: 2/2 sidecar, 2/2 store",
    ):
        assert expected in output.splitlines(), output
    for expected in ("✓ HelmRelease monitoring/thanos: Ready", "✓ HelmRepository monitoring/stevehipwell: Ready"):
        assert expected in output, output
    variant = verify(ha_state(HA_VARIANT_CONFIG, "ha-variant"), tmp_path, config_file=HA_VARIANT_CONFIG).stdout
    for expected in ("✓ Loki write replicas: 3/3 ready", "✓ Loki gateway replicas: 2/2 ready"):
        assert expected in variant, variant
    assert "Thanos" not in variant


def test_a_replica_down_and_a_sidecar_out_of_reach(tmp_path):
    state = ha_state(HA_CONFIG, "ha")
    state.objects["/apis/apps/v1/namespaces/monitoring/statefulsets/loki"]["status"]["readyReplicas"] = 2
    stores = copy.deepcopy(state.fixtures["thanos-query:10902"]["/api/v1/stores"])
    stores["data"]["sidecar"][1]["lastError"] = "rpc error: code = Unavailable desc = connection refused"
    state.fixtures["thanos-query:10902"]["/api/v1/stores"] = stores
    output = verify(state, tmp_path, config_file=HA_CONFIG).stdout
    assert line(output, "✗ Loki replicas") == (
        "✗ Loki replicas: 2/3 ready (statefulset loki)\n    → kubectl -n monitoring describe statefulset loki"
    )
    assert line(output, "✗ Thanos Query stores") == (
        "✗ Thanos Query stores: sidecar: 1 of 2 reachable\n"
        "    → kubectl -n monitoring port-forward svc/thanos-query 10902, then open http://localhost:10902/stores"
    )


def test_a_helmrelease_not_ready(stack, tmp_path):
    state = healthy_state(stack)
    path = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/monitoring/helmreleases/loki"
    state.objects[path]["status"] = ready("False", "Helm install failed for release monitoring/loki: timed out")
    result = verify(state, tmp_path)
    assert result.returncode == 1
    assert line(result.stdout, "✗ HelmRelease monitoring/loki") == (
        "✗ HelmRelease monitoring/loki: not Ready: Helm install failed for release monitoring/loki: timed out\n"
        "    → flux get helmreleases -n monitoring; flux logs --kind HelmRelease --name loki -n monitoring"
    )
    assert "✓ HelmRelease monitoring/alloy" in result.stdout


def test_a_kustomization_not_ready(stack, tmp_path):
    state = healthy_state(stack)
    listing = state.lists["/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"]
    listing["items"][1]["status"] = ready("False", "kustomize build failed: missing resource")
    result = verify(state, tmp_path)
    assert result.returncode == 1
    assert "✗ Flux Kustomizations: 1 of 2 not Ready: flux-system/monitoring (kustomize build failed" in result.stdout
    assert "    → flux get kustomizations -A" in result.stdout


def test_a_target_down(stack, tmp_path):
    _, daemons, _ = stack
    state = healthy_state(stack)
    state.backends["kube-prometheus-stack-prometheus:9090"] = daemons["prometheus-down"].url
    result = verify(state, tmp_path)
    assert result.returncode == 1
    text = line(result.stdout, "✗ Prometheus targets")
    assert text.startswith("✗ Prometheus targets: 1 of 3 down: kube-scheduler 127.0.0.1:")
    assert "connection refused" in text
    assert "→ kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus 9090" in text


def test_the_flux_podmonitor_without_targets(stack, tmp_path):
    _, daemons, _ = stack
    state = healthy_state(stack)
    state.backends["kube-prometheus-stack-prometheus:9090"] = daemons["prometheus-no-flux"].url
    result = verify(state, tmp_path)
    assert result.returncode == 1
    assert "✗ PodMonitor monitoring/flux-system targets: no target" in result.stdout


def test_a_missing_receiver(stack, tmp_path):
    _, daemons, flux_receiver = stack
    state = healthy_state(stack)
    state.backends["kube-prometheus-stack-alertmanager:9093"] = daemons["alertmanager-old"].url
    result = verify(state, tmp_path)
    assert result.returncode == 1
    text = line(result.stdout, "✗ Alertmanager receivers")
    assert text.startswith(f"✗ Alertmanager receivers: missing: {flux_receiver}\n")
    assert "alertmanager-kube-prometheus-stack-alertmanager-generated" in text


def test_key_files_not_mounted(stack, tmp_path):
    state = healthy_state(stack)
    pods = next(v for k, v in state.lists.items() if "/pods?" in k)
    pods["items"][0]["spec"]["volumes"] = pods["items"][0]["spec"]["volumes"][:1]
    result = verify(state, tmp_path)
    pod = "alertmanager-kube-prometheus-stack-alertmanager-0"
    assert f"✗ Alertmanager key files: pod {pod} does not mount Secret monitoring-secrets" in result.stdout


def test_no_logs_in_loki(stack, tmp_path):
    state = healthy_state(stack)
    state.fixtures["loki:3100"] = {
        "/loki/api/v1/query": json.loads((Path(__file__).parent / "fixtures/verify/loki-query-empty.json").read_text())
    }
    result = verify(state, tmp_path)
    assert result.returncode == 1
    assert line(result.stdout, "✗ Loki logs from monitoring") == (
        "✗ Loki logs from monitoring: no log lines in the last 10 minutes\n"
        "    → kubectl -n monitoring logs statefulset/alloy | grep -i error; "
        "kubectl -n monitoring logs statefulset/loki"
    )


def test_an_unhealthy_alloy_component(stack, tmp_path):
    state = healthy_state(stack)
    fixture = Path(__file__).parent / "fixtures/verify/alloy-components-unhealthy.json"
    state.fixtures["alloy:12345"] = {"/api/v0/web/components": json.loads(fixture.read_text())}
    result = verify(state, tmp_path)
    assert (
        "✗ Alloy components: 1 of 5 unhealthy: loki.write.default (failed to send batch: connection refused)"
        in result.stdout
    )


def test_a_service_without_endpoints(stack, tmp_path):
    state = healthy_state(stack)
    del state.fixtures["kube-prometheus-stack-grafana:80"]
    result = verify(state, tmp_path)
    assert result.returncode == 1
    assert "✗ Grafana health: could not ask the cluster:" in result.stdout


def test_a_missing_datasource(stack, tmp_path):
    state = healthy_state(stack)
    listing = next(v for k, v in state.lists.items() if "/configmaps?" in k)
    listing["items"] = [cm for cm in listing["items"] if cm["metadata"]["name"] != "loki-datasource"]
    result = verify(state, tmp_path)
    assert "✗ Grafana datasources: no provisioned datasource of type loki" in result.stdout


def test_a_route_not_accepted(stack, tmp_path):
    state = healthy_state(stack)
    route = state.objects["/apis/gateway.networking.k8s.io/v1/namespaces/monitoring/httproutes/grafana"]
    route["status"]["parents"][0]["conditions"][0] = {
        "type": "Accepted",
        "status": "False",
        "reason": "NotAllowedByListeners",
        "message": "no listener allows routes from namespace monitoring",
    }
    result = verify(state, tmp_path)
    assert line(result.stdout, "✗ HTTPRoute monitoring/grafana") == (
        "✗ HTTPRoute monitoring/grafana: not Accepted by traefik/traefik-gateway: "
        "no listener allows routes from namespace monitoring\n"
        "    → kubectl -n monitoring describe httproute grafana"
    )


def test_an_unreachable_cluster_is_one_line(stack, tmp_path):
    state = healthy_state(stack)
    with FakeCluster(state, tmp_path) as cluster:
        text = cluster.kubeconfig.read_text().replace("verify-test-token", "wrong-token")
        cluster.kubeconfig.write_text(text)
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
        result = subprocess.run(
            [FUNCTION, "verify", str(CONFIG_FILE), "--kubectl", tool("kubectl")],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("✗ Cluster: unreachable: ")
    assert "verify: 1 checks, 0 passed, 1 failed" in result.stdout


def test_context_selects_the_cluster(stack, tmp_path):
    state = healthy_state(stack)
    with FakeCluster(state, tmp_path) as cluster:
        kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
        kubeconfig["contexts"].append({"name": "elsewhere", "context": {"cluster": "nowhere", "user": "tester"}})
        kubeconfig["clusters"].append({"name": "nowhere", "cluster": {"server": f"https://127.0.0.1:{free_port()}"}})
        kubeconfig["current-context"] = "elsewhere"
        cluster.kubeconfig.write_text(yaml.safe_dump(kubeconfig))
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
        argv = [FUNCTION, "verify", str(CONFIG_FILE), "--kubectl", tool("kubectl")]
        wrong = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
        right = subprocess.run(
            [*argv, "--context", "fake"], capture_output=True, text=True, env=env, timeout=120, check=False
        )
    assert wrong.returncode == 1 and "✗ Cluster: unreachable" in wrong.stdout
    assert "✓ Cluster: API server" in right.stdout


def test_send_test_alert_reaches_the_real_alertmanager(stack, tmp_path):
    _, daemons, _ = stack
    state = healthy_state(stack)
    result = verify(state, tmp_path, "--send-test-alert")
    assert "✓ Test alert: ObservabilityFnTestAlert posted (severity warning, ends in 5 min)" in result.stdout
    with urllib.request.urlopen(f"{daemons['alertmanager'].url}/api/v2/alerts", timeout=10) as answer:
        alerts = json.load(answer)
    test = [a for a in alerts if a["labels"].get("alertname") == "ObservabilityFnTestAlert"]
    assert len(test) == 1
    assert test[0]["labels"]["test"] == "true" and test[0]["labels"]["severity"] == "warning"
    # routed like any warning: to the warning receiver, never to the null one
    receivers = {r["name"] for r in test[0]["receivers"]}
    assert receivers and "null" not in receivers
    assert state.posted[0][1] == "application/json"


def test_dns_resolution_is_checked_with_dns(stack, tmp_path):
    state = healthy_state(stack)
    result = verify(state, tmp_path, "--dns")
    # *.catinthehack.ca does not resolve from this machine (no network): a ✗ with the advice.
    assert "DNS grafana.catinthehack.ca" in result.stdout
    without = verify(state, tmp_path)
    assert "DNS " not in without.stdout


def test_no_secret_value_in_the_report(stack, tmp_path):
    result = verify(healthy_state(stack), tmp_path, "--format", "json")
    assert "not-a-real-key" not in result.stdout + result.stderr


def test_a_bad_config_is_reported_without_asking_the_cluster(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG_FILE.read_text().replace("storageClass:", "storageClas:", 1))
    result = subprocess.run(
        [FUNCTION, "verify", str(bad), "--kubectl", "/nonexistent/kubectl"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "storageClas" in result.stderr and "Traceback" not in result.stderr


def readme_section() -> str:
    """docs/operations/verify.md, the page that shows `verify`."""
    return (REPO / "docs" / "operations" / "verify.md").read_text()


def test_readme_commands_run_as_written(stack, tmp_path):
    """Every bash block of docs/operations/verify.md, against the stand-in cluster."""
    blocks = re.findall(r"^```bash\n(.*?)^```", readme_section(), re.MULTILINE | re.DOTALL)
    assert blocks
    work = tmp_path / "repo"
    shutil.copytree(REPO / "function-config", work / "function-config")
    with FakeCluster(healthy_state(stack), tmp_path) as cluster:
        kubectl_dir = str(Path(tool("kubectl")).parent)
        env = {
            **os.environ,
            "KUBECONFIG": str(cluster.kubeconfig),
            "PATH": os.pathsep.join([str(Path(FUNCTION).parent), kubectl_dir, os.environ["PATH"]]),
        }
        for block in blocks:
            proc = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert proc.returncode == 0, block + proc.stdout + proc.stderr
    assert json.loads((work / "verify.json").read_text())["failed"] == 0


def test_readme_example_output_is_what_verify_prints(stack, tmp_path):
    example = re.search(r"^```text\n(✓ Cluster.*?)^```", readme_section(), re.MULTILINE | re.DOTALL)
    assert example
    state = healthy_state(stack)
    path = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/monitoring/helmreleases/loki"
    state.objects[path]["status"] = ready("False", "Helm install failed for release monitoring/loki: timed out")
    output = verify(state, tmp_path).stdout
    for shown in example.group(1).splitlines():
        if shown != "...":
            assert shown in output.splitlines(), f"{shown!r} not in:\n{output}"


# --- the heartbeat: pings that got through, read from Prometheus scraping Alertmanager -------------


class _Ping(http.server.BaseHTTPRequestHandler):
    """A healthchecks.io stand-in: every ping answers 200."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


def _fire_watchdog(daemon: Daemon) -> None:
    """Post the always-firing Watchdog, and wait until Alertmanager has tried its first ping."""
    watchdog = {
        "labels": {"alertname": "Watchdog", "severity": "none", "cluster": "cloudlab"},
        "annotations": {},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z",
    }
    request = urllib.request.Request(
        f"{daemon.url}/api/v2/alerts", json.dumps([watchdog]).encode(), {"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=10).close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the first ping was tried
        with urllib.request.urlopen(f"{daemon.url}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        if re.search(r'^alertmanager_notification_requests_total\{integration="webhook"\} [1-9]', text, re.MULTILINE):
            break
        time.sleep(0.5)


@pytest.fixture(scope="module")
def heartbeat_stack(tmp_path_factory):
    """A config with a heartbeat; Alertmanagers whose pings get through or fail; Prometheus scraping each."""
    tool("kubectl")
    root = tmp_path_factory.mktemp("verify-heartbeat")
    raw = yaml.safe_load(CONFIG_FILE.read_text())
    raw["spec"]["alerting"] = {"heartbeat": {}}
    config_file = root / "observability.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    config, errors = config_model.load(raw)
    assert config is not None, errors
    values = kps_values(config)
    ping = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    threading.Thread(target=ping.serve_forever, daemon=True).start()
    closed = f"http://127.0.0.1:{free_port()}/ping"
    am_config = values["alertmanager"]["config"]
    good = f"http://127.0.0.1:{ping.server_address[1]}/ping/5c1d"
    daemons = {
        "alertmanager": start_alertmanager(root / "am", am_config, config.secret_name, heartbeat_url=good),
        "alertmanager-failing": start_alertmanager(root / "am-f", am_config, config.secret_name, heartbeat_url=closed),
    }
    for name in ("alertmanager", "alertmanager-failing"):
        target = daemons[name].url.removeprefix("http://")
        job = {
            "job_name": "serviceMonitor/monitoring/kube-prometheus-stack-alertmanager/0",
            "static_configs": [{"targets": [target]}],
        }
        daemons[f"prometheus-{name}"] = start_prometheus(root / f"prom-{name}", values, [job])
    # Prometheus has seen the counters at 0; now the pings (increase() needs the counter to rise under its eyes).
    for name in ("alertmanager", "alertmanager-failing"):
        _fire_watchdog(daemons[name])
    time.sleep(3)
    yield config, config_file, daemons
    for daemon in daemons.values():
        daemon.stop()
    ping.shutdown()


def heartbeat_state(heartbeat_stack, which: str) -> ClusterState:
    config, _, daemons = heartbeat_stack
    state = ClusterState(config)
    state.backends["kube-prometheus-stack-prometheus:9090"] = daemons[f"prometheus-{which}"].url
    state.backends["kube-prometheus-stack-alertmanager:9093"] = daemons[which].url
    return state


def test_the_heartbeat_fired(heartbeat_stack, tmp_path):
    _, config_file, _ = heartbeat_stack
    result = verify(heartbeat_state(heartbeat_stack, "alertmanager"), tmp_path, config_file=config_file)
    text = line(result.stdout, "✓ Heartbeat")
    assert re.match(r"✓ Heartbeat: [1-9][0-9]* ping\(s\) got through in the last 15m$", text), text


def test_a_heartbeat_whose_pings_fail(heartbeat_stack, tmp_path):
    _, config_file, _ = heartbeat_stack
    result = verify(heartbeat_state(heartbeat_stack, "alertmanager-failing"), tmp_path, config_file=config_file)
    assert result.returncode == 1
    text = line(result.stdout, "✗ Heartbeat")
    assert re.match(r"✗ Heartbeat: [1-9][0-9]* of [1-9][0-9]* pings of the last 15m failed\n", text), text
    assert "Secret monitoring-secrets key heartbeat-url" in text


def test_no_heartbeat_configured_no_heartbeat_line(stack, tmp_path):
    """The default config has none: the render's heartbeat-missing warning says so, verify does not fail on it."""
    assert "Heartbeat" not in verify(healthy_state(stack), tmp_path).stdout
