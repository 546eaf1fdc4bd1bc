"""How much memory Prometheus needs at homelab scale, measured with the real Prometheus daemon.

A loopback stand-in exporter serves N synthetic series shaped like what kube-prometheus-stack
scrapes (cAdvisor, kube-state-metrics, node-exporter label sets; their label counts and value
lengths); Prometheus (.tools/bin/prometheus, the version the tests run) scrapes it every 30 s (the
chart's default interval) for `--minutes`, with the rules of tests/fixtures/kps-88.5.3/rules.yaml
loaded (the chart's default alerts), and the script prints its resident memory and Go heap then.

    .venv/bin/python bench/prometheus_memory.py --series 50000 --minutes 10

Memory keeps growing slowly until the first head compaction (2 h): the numbers are a floor for the
steady state, and the defaults in docs/operations/sizing.md leave room above them.
"""

from __future__ import annotations

import argparse
import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port  # noqa: E402

RULES = ROOT / "tests" / "fixtures" / "kps-88.5.3" / "rules.yaml"


def exposition(series: int) -> bytes:
    """N series: 40% cAdvisor-like (long container ids), 30% kube-state-metrics-like, 30% node-exporter-like."""
    lines = []
    for i in range(series):
        kind = i % 10
        pod = f"app-{i // 40:05d}-7d9f8c6b5-x{i % 7}"
        if kind < 4:
            cid = f"{i:064x}"
            lines.append(
                f'container_memory_working_set_bytes{{container="c{i % 5}",cpu="total",id="/kubepods/burstable/'
                f'pod{i:08d}-1111-2222-3333-444455556666/{cid}",image="ghcr.io/example/app:v1.{i % 9}",'
                f'name="{cid}",namespace="ns{i % 20}",pod="{pod}",metric_idx="{i}"}} {i}'
            )
        elif kind < 7:
            lines.append(
                f'kube_pod_container_status_ready{{namespace="ns{i % 20}",pod="{pod}",uid="{i:08d}-aaaa-bbbb-cccc-'
                f'ddddeeeeffff",container="c{i % 5}",metric_idx="{i}"}} 1'
            )
        else:
            lines.append(
                f'node_cpu_seconds_total{{cpu="{i % 16}",mode="user",device="dm-{i % 4}",mountpoint="/var/lib/'
                f'kubelet/pods/{i:08d}/volumes",metric_idx="{i}"}} {i}'
            )
    return ("\n".join(lines) + "\n").encode()


def serve(body: bytes) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def query(url: str, expr: str) -> float:
    with urllib.request.urlopen(f"{url}/api/v1/query?query={urllib.request.quote(expr)}", timeout=10) as answer:
        result = json.load(answer)["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--prometheus", default=str(ROOT / ".tools" / "bin" / "prometheus"))
    args = parser.parse_args()
    server, exporter_port = serve(exposition(args.series))
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        config = {
            "global": {"scrape_interval": "30s", "evaluation_interval": "30s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [
                {"job_name": "synthetic", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]},
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]},
            ],
        }
        (Path(work) / "prometheus.yml").write_text(json.dumps(config))
        proc = subprocess.Popen(
            [
                args.prometheus,
                f"--config.file={work}/prometheus.yml",
                f"--storage.tsdb.path={work}/data",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + args.minutes * 60
            while time.monotonic() < deadline:
                time.sleep(30)
            heads = query(url, "prometheus_tsdb_head_series")
            rss = query(url, 'process_resident_memory_bytes{job="prometheus"}')
            heap = query(url, 'go_memstats_heap_inuse_bytes{job="prometheus"}')
            print(
                json.dumps(
                    {
                        "series_served": args.series,
                        "head_series": int(heads),
                        "minutes": args.minutes,
                        "rss_mib": round(rss / 2**20),
                        "heap_inuse_mib": round(heap / 2**20),
                        "bytes_per_head_series": round(rss / max(heads, 1)),
                    }
                )
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            server.shutdown()


if __name__ == "__main__":
    main()
