"""A stand-in for a cluster running the generated stack, for `verify` tests: real kubectl talks to it.

A small HTTPS server answers the API paths `verify` reads: the Flux and Gateway objects (with
status), pods, ConfigMaps, and the API server's service proxy. Behind the proxy, Prometheus and
Alertmanager are the real Debian binaries running the generated rules and config; Loki, Grafana
and Alloy answer from fixtures (tests/fixtures/verify/README.md says where each shape comes from).
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from krm_fn import components
from krm_fn.config import Config

FIXTURES = Path(__file__).parent / "fixtures" / "verify"
TOKEN = "verify-test-token"
PROXY = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/services/(?P<svc>[^/:]+):(?P<port>[^/]+)/proxy(?P<rest>/.*)?$")
PLURALS = {
    "HelmRepository": "helmrepositories",
    "OCIRepository": "ocirepositories",
    "HelmRelease": "helmreleases",
    "HTTPRoute": "httproutes",
}
GROUP_PATHS = {
    "source.toolkit.fluxcd.io/v1": "/apis/source.toolkit.fluxcd.io/v1",
    "helm.toolkit.fluxcd.io/v2": "/apis/helm.toolkit.fluxcd.io/v2",
    "gateway.networking.k8s.io/v1": "/apis/gateway.networking.k8s.io/v1",
}


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ready(status: str = "True", message: str = "Release reconciliation succeeded") -> dict:
    return {"conditions": [{"type": "Ready", "status": status, "reason": "Test", "message": message}]}


class ClusterState:
    """What the fake API server answers; tests break one piece of it at a time."""

    def __init__(self, config: Config, case: str = "default"):
        self.config = config
        self.objects: dict[str, dict] = {}  # API path -> object
        self.lists: dict[str, dict] = {}  # API path -> list
        self.backends: dict[str, str] = {}  # "service:port" -> "http://127.0.0.1:N" (a real process)
        self.fixtures: dict[str, dict[str, object]] = {}  # "service:port" -> {path: answer}
        self.posted: list[tuple[str, str, bytes]] = []  # (path, content type, body) of each POST
        ns = config.namespace
        generated = components.generate(config)
        for obj in generated:
            prefix = GROUP_PATHS.get(obj["apiVersion"])
            if prefix is None or obj["kind"] not in PLURALS:
                continue
            meta = obj["metadata"]
            path = f"{prefix}/namespaces/{meta['namespace']}/{PLURALS[obj['kind']]}/{meta['name']}"
            obj = copy.deepcopy(obj)
            if obj["kind"] == "HTTPRoute":
                parent = obj["spec"]["parentRefs"][0]
                conditions = [
                    {"type": "Accepted", "status": "True", "reason": "Accepted"},
                    {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"},
                ]
                obj["status"] = {"parents": [{"parentRef": parent, "controllerName": "test", "conditions": conditions}]}
            else:
                obj["status"] = ready()
            self.objects[path] = obj
        self.lists["/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"] = {
            "kind": "KustomizationList",
            "items": [
                {"metadata": {"namespace": "flux-system", "name": "flux-system"}, "status": ready()},
                {"metadata": {"namespace": "flux-system", "name": "monitoring"}, "status": ready()},
            ],
        }
        keys = [{"key": k, "path": k} for k in ("pushover-api-token", "pushover-user-key")]
        secret_volumes = [{"name": "stack-secret-keys", "secret": {"secretName": config.secret_name, "items": keys}}]
        self.lists[f"/api/v1/namespaces/{ns}/pods?labelSelector=app.kubernetes.io%2Fname%3Dalertmanager"] = {
            "kind": "PodList",
            "items": [
                {
                    "metadata": {"name": "alertmanager-kube-prometheus-stack-alertmanager-0", "namespace": ns},
                    "spec": {"volumes": [{"name": "config-volume", "secret": {"secretName": "x"}}, *secret_volumes]},
                }
            ],
        }
        datasources = [o for o in generated if o["kind"] == "ConfigMap"]
        chart_datasource = {
            "metadata": {"name": "kube-prometheus-stack-grafana-datasource", "namespace": ns},
            "data": {
                "datasource.yaml": yaml.safe_dump(
                    {
                        "apiVersion": 1,
                        "datasources": [{"name": "Prometheus", "type": "prometheus", "uid": "prometheus"}],
                    }
                )
            },
        }
        self.lists[f"/api/v1/namespaces/{ns}/configmaps?labelSelector=grafana_datasource%3D1"] = {
            "kind": "ConfigMapList",
            "items": [chart_datasource, *datasources],
        }
        self._workloads(case)
        self.fixtures["loki:3100"] = {"/loki/api/v1/query": _fixture("loki-query.json")}
        self.fixtures["thanos-query:10902"] = {"/api/v1/stores": _fixture("thanos-stores.json")}
        self.fixtures["kube-prometheus-stack-grafana:80"] = {"/api/health": _fixture("grafana-health.json")}
        self.fixtures["alloy:12345"] = {"/api/v0/web/components": _fixture("alloy-components.json")}

    def _workloads(self, case: str) -> None:
        """The Deployments and StatefulSets helm renders for the golden `case`, all replicas ready; the
        operator's StatefulSet for each Prometheus and Alertmanager (`prometheus-<name>`, `alertmanager-<name>`)."""
        from tests.helm_render import of_kind, rendered

        for obj in of_kind(rendered(case), "Deployment", "StatefulSet", "Prometheus", "Alertmanager"):
            kind, name = obj["kind"], obj["metadata"]["name"]
            if kind in ("Prometheus", "Alertmanager"):
                kind, name = "StatefulSet", f"{kind.lower()}-{name}"
            replicas = obj["spec"].get("replicas", 1)
            namespace = obj["metadata"].get("namespace", self.config.namespace)
            path = f"/apis/apps/v1/namespaces/{namespace}/{kind.lower()}s/{name}"
            self.objects[path] = {
                "kind": kind,
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"replicas": replicas},
                "status": {"replicas": replicas, "readyReplicas": replicas},
            }


def _fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


class _Handler(BaseHTTPRequestHandler):
    state: ClusterState

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code: int, body: object) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._send(401, {"kind": "Status", "status": "Failure", "message": "Unauthorized", "code": 401})
        return False

    def do_GET(self) -> None:
        if not self._authorized():
            return
        state = self.state
        if self.path == "/version":
            return self._send(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.4"})
        if self.path in state.objects:
            return self._send(200, state.objects[self.path])
        if self.path in state.lists:
            return self._send(200, state.lists[self.path])
        match = PROXY.match(self.path)
        if match:
            return self._proxy(match, None)
        self._send(
            404,
            {
                "kind": "Status",
                "status": "Failure",
                "reason": "NotFound",
                "code": 404,
                "message": "the server could not find the requested resource",
            },
        )

    def do_POST(self) -> None:
        if not self._authorized():
            return
        body = self._body()
        self.state.posted.append((self.path, self.headers.get("Content-Type", ""), body))
        match = PROXY.match(self.path)
        if match:
            return self._proxy(match, body)
        self._send(405, {"kind": "Status", "code": 405})

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    def _proxy(self, match: re.Match, body: bytes | None) -> None:
        key = f"{match['svc']}:{match['port']}"
        rest = match["rest"] or "/"
        path_only = rest.split("?", 1)[0]
        if key in self.state.backends:
            request = urllib.request.Request(
                self.state.backends[key] + rest, data=body, method="POST" if body is not None else "GET"
            )
            if body is not None and self.headers.get("Content-Type"):
                # the API server's proxy forwards the client's headers as they are
                request.add_header("Content-Type", self.headers["Content-Type"])
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return self._send(answer.status, answer.read())
            except urllib.error.HTTPError as err:
                return self._send(err.code, err.read())
            except OSError:
                return self._send(
                    503,
                    {
                        "kind": "Status",
                        "code": 503,
                        "message": "error trying to reach service: dial tcp: connection refused",
                    },
                )
        answers = self.state.fixtures.get(key)
        if answers is None:
            return self._send(
                503, {"kind": "Status", "code": 503, "message": f'no endpoints available for service "{match["svc"]}"'}
            )
        if path_only not in answers:
            return self._send(404, b"404 page not found")
        return self._send(200, answers[path_only])


class FakeCluster:
    """The HTTPS server, its certificate and a kubeconfig that points kubectl at it."""

    def __init__(self, state: ClusterState, workdir: Path):
        self.state = state
        self.workdir = workdir
        cert, key = workdir / "apiserver.crt", workdir / "apiserver.key"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        handler = type("Handler", (_Handler,), {"state": state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "fake",
                            "cluster": {"server": f"https://127.0.0.1:{self.port}", "certificate-authority": str(cert)},
                        }
                    ],
                    "users": [{"name": "tester", "user": {"token": TOKEN}}],
                    "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester"}}],
                    "current-context": "fake",
                }
            )
        )
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCluster:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
