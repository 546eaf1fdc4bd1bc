"""Three real Alertmanager processes meshed on 127.0.0.1, with the generated config: one push per group.

In the ha profile Prometheus sends every alert to every Alertmanager replica, and the operator
meshes the replicas (--cluster.peer). The mesh's notification log is what keeps a page from
arriving three times. Each Pushover receiver of the generated config is swapped for a webhook to a
local recorder (Pushover's API address is not configurable); routes, grouping and timings are the
generated ones. The control runs the same three processes unmeshed and sees three pushes.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from tests.helpers import config_with, free_port
from tests.tools import tool

pytestmark = pytest.mark.e2e

STORE = {"endpoint": "minio.storage.svc:9000", "buckets": {"lokiChunks": "loki-chunks", "lokiRuler": "loki-ruler"}}
PEER_TIMEOUT = "2s"  # each replica waits position x peer-timeout before it notifies (default 15s)


class Recorder:
    """A local HTTP endpoint that keeps every webhook payload it receives."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.payloads.append({"path": self.path, **json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pushes(self) -> dict[str, int]:
        """receiver/alertname -> how many notifications arrived."""
        counts: dict[str, int] = {}
        for payload in self.payloads:
            key = f"{payload['receiver']}/{payload['groupLabels'].get('alertname')}"
            counts[key] = counts.get(key, 0) + 1
        return counts


def generated_config(recorder: Recorder) -> tuple[int, dict]:
    """(Alertmanager replicas, alertmanager.config) of the ha profile, Pushover swapped for the recorder."""
    cfg, errors = config_model.load(
        config_with(profile="ha", objectStorage=STORE, alerting={"groupWait": "1s", "groupInterval": "1m"})
    )
    assert cfg is not None, [e.message for e in errors]
    (kps,) = [o for o in components.generate(cfg) if o["metadata"]["name"] == "kube-prometheus-stack"]
    values = kps["spec"]["values"]
    am_config = values["alertmanager"]["config"]
    for receiver in am_config["receivers"]:
        for pushover in receiver.pop("pushover_configs", []):
            hook = {"url": f"{recorder.url}/{receiver['name']}", "send_resolved": pushover["send_resolved"]}
            receiver["webhook_configs"] = [hook]
    return values["alertmanager"]["alertmanagerSpec"]["replicas"], am_config


def start(workdir: Path, am_config: dict, count: int, meshed: bool) -> tuple[list[subprocess.Popen], list[str]]:
    workdir.mkdir(parents=True)
    (workdir / "alertmanager.yaml").write_text(yaml.safe_dump(am_config))
    cluster = [f"127.0.0.1:{free_port()}" for _ in range(count)]
    procs, urls = [], []
    for i in range(count):
        web = free_port()
        argv = [
            tool("alertmanager"),
            f"--config.file={workdir / 'alertmanager.yaml'}",
            f"--storage.path={workdir / f'data-{i}'}",
            f"--web.listen-address=127.0.0.1:{web}",
        ]
        if meshed:
            argv += [f"--cluster.listen-address={cluster[i]}", f"--cluster.peer-timeout={PEER_TIMEOUT}"]
            argv += [f"--cluster.peer={peer}" for j, peer in enumerate(cluster) if j != i]
        else:
            argv.append("--cluster.listen-address=")
        log = (workdir / f"log-{i}").open("wb")
        procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{web}")
    return procs, urls


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def wait_ready(urls: list[str], peers: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            statuses = [get(f"{url}/api/v2/status") for url in urls]
        except OSError:
            time.sleep(0.2)
            continue
        if all(len((s.get("cluster") or {}).get("peers") or []) == peers for s in statuses):
            return
        time.sleep(0.2)
    pytest.fail(f"the Alertmanagers did not see {peers} peer(s) each within 30s")


def post_alerts(urls: list[str]) -> None:
    """What each Prometheus replica does: the same alerts to every Alertmanager."""
    alerts = [
        {"labels": {"alertname": "KubePodCrashLooping", "severity": "critical", "namespace": "apps", "cluster": "c"}},
        {"labels": {"alertname": "KubeDeploymentReplicasMismatch", "severity": "warning", "namespace": "apps"}},
    ]
    body = json.dumps(alerts).encode()
    for url in urls:
        request = urllib.request.Request(
            f"{url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200


def run_scenario(tmp_path: Path, meshed: bool) -> dict[str, int]:
    recorder = Recorder()
    replicas, am_config = generated_config(recorder)
    assert replicas == 3
    procs, urls = start(tmp_path / "am", am_config, replicas, meshed)
    try:
        wait_ready(urls, replicas if meshed else 0)
        post_alerts(urls)
        # group_wait (1s) + the last replica's wait (2 x peer timeout) + margin
        time.sleep(10)
        return recorder.pushes()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        recorder.server.shutdown()


def test_three_meshed_replicas_push_once_per_alert_group(tmp_path: Path):
    assert run_scenario(tmp_path, meshed=True) == {
        "pushover-critical/KubePodCrashLooping": 1,
        "pushover-warning/KubeDeploymentReplicasMismatch": 1,
    }


def test_control_three_unmeshed_replicas_push_three_times(tmp_path: Path):
    assert run_scenario(tmp_path, meshed=False) == {
        "pushover-critical/KubePodCrashLooping": 3,
        "pushover-warning/KubeDeploymentReplicasMismatch": 3,
    }


# --- the ha golden's Alertmanager config and rules, through amtool and promtool ----------------

GOLDEN_HA = Path(__file__).resolve().parent / "golden" / "ha" / "stack.yaml"


def golden_kps_values() -> dict:
    docs = [d for d in yaml.safe_load_all(GOLDEN_HA.read_text()) if d]
    (kps,) = [d for d in docs if d["kind"] == "HelmRelease" and d["metadata"]["name"] == "kube-prometheus-stack"]
    return kps["spec"]["values"]


def test_amtool_accepts_the_ha_golden_config(tmp_path: Path):
    path = tmp_path / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(golden_kps_values()["alertmanager"]["config"]))
    proc = subprocess.run([tool("amtool"), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_accepts_the_ha_golden_rules(tmp_path: Path):
    rules = golden_kps_values()["additionalPrometheusRulesMap"]
    assert rules
    for name, rule_set in rules.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(rule_set))
        proc = subprocess.run(
            [tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
