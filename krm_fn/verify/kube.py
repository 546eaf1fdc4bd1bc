"""The cluster as `verify` sees it: the user's own `kubectl`, their kubeconfig and their permissions.

Every read is `kubectl get --raw PATH`, so `verify` needs nothing installed in the cluster and no
client library: the API server's service proxy (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/...`)
reaches Prometheus, Alertmanager, Grafana, Loki and Alloy from outside the cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from urllib.parse import quote

TIMEOUT_SECONDS = 30


class KubeError(Exception):
    """kubectl failed: one line, already stripped of anything but kubectl's own message."""


class Kube:
    """`kubectl` with a fixed context; every call returns parsed JSON or raises KubeError."""

    def __init__(self, kubectl: str = "kubectl", context: str | None = None):
        self.kubectl = kubectl
        self.context = context

    def _argv(self, *args: str) -> list[str]:
        argv = [self.kubectl]
        if self.context:
            argv += ["--context", self.context]
        return [*argv, *args]

    def _run(self, argv: list[str]) -> str:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except FileNotFoundError as err:
            raise KubeError(f"{self.kubectl} not found; install kubectl or pass --kubectl PATH") from err
        except subprocess.TimeoutExpired as err:
            raise KubeError(f"kubectl timed out after {TIMEOUT_SECONDS} s") from err
        if proc.returncode != 0:
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            raise KubeError(lines[-1] if lines else f"kubectl exited {proc.returncode}")
        return proc.stdout

    def get(self, path: str) -> object:
        """GET an API path (`/apis/...`) and parse the JSON answer."""
        text = self._run(self._argv("get", "--raw", path))
        try:
            return json.loads(text)
        except ValueError as err:
            raise KubeError(f"{path} did not answer JSON") from err

    def post(self, path: str, body: object) -> str:
        """POST JSON to an API path; the answer as text.

        Through a short-lived `kubectl proxy` on loopback rather than `kubectl create --raw`: the
        latter sends no Content-Type, and Alertmanager's API answers 415 to a body without
        `application/json`. The proxy adds the user's credentials and forwards our headers.
        """
        proc = subprocess.Popen(
            self._argv("proxy", "--port=0", "--address=127.0.0.1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            port = _proxy_port(proc)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                    return answer.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as err:
                raise KubeError(f"HTTP {err.code}: {err.read().decode('utf-8', 'replace').strip()[:200]}") from err
            except OSError as err:
                raise KubeError(f"kubectl proxy did not answer ({err.__class__.__name__})") from err
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


def _proxy_port(proc: subprocess.Popen) -> int:
    """The port `kubectl proxy --port=0` chose, from its first line ("Starting to serve on 127.0.0.1:N")."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r":(\d+)\s*$", line)
    if match is None:
        error = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        lines = [x for x in error.splitlines() if x.strip()]
        raise KubeError(lines[-1] if lines else "kubectl proxy did not start")
    return int(match.group(1))


def service_proxy(namespace: str, service: str, port: int | str, path: str, query: str = "") -> str:
    """The API server path that proxies `path` to a Service port."""
    base = f"/api/v1/namespaces/{quote(namespace)}/services/{quote(service)}:{port}/proxy{path}"
    return f"{base}?{query}" if query else base


def condition(obj: object, kind: str) -> dict | None:
    """The condition of one type in `status.conditions` (or, for a route's parent status, `conditions`)."""
    status = obj.get("status") if isinstance(obj, dict) else None
    if isinstance(obj, dict) and "conditions" in obj and status is None:
        status = obj
    conditions = status.get("conditions") if isinstance(status, dict) else None
    for cond in conditions if isinstance(conditions, list) else []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None
