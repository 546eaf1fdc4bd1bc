"""Run the real Alertmanager with the generated config and capture what it sends to Pushover.

Pushover is stood in for by a local server on 127.0.0.1: each Pushover receiver gets
`http_config.proxy_url` pointing at it (test-only, never in the generated output), Alertmanager
sends `CONNECT api.pushover.net:443`, and the stand-in terminates TLS with a certificate of a
throw-away CA that Alertmanager trusts through SSL_CERT_FILE. The same server answers the
heartbeat webhook directly (plain HTTP). Only loopback addresses; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from krm_fn.charts import ALERTMANAGER_SECRETS_DIR
from krm_fn.components import alerting
from krm_fn.components.common import deep_merge
from krm_fn.config import Config
from tests.helpers import free_port

LOOPBACK = "127.0.0.1"
PUSHOVER_HOST = "api.pushover.net"
# Loopback requests must not go through a proxy the environment may name.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def make_ca(directory: Path, openssl: str) -> tuple[Path, Path, Path]:
    """A throw-away CA and a certificate for api.pushover.net signed by it: (ca.pem, cert.pem, key.pem)."""
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem"))
    ext = directory / "leaf.ext"
    ext.write_text(f"subjectAltName=DNS:{PUSHOVER_HOST}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(ca_key), "-out", str(ca), "-days", "1", "-subj", "/CN=observability-fn test CA",
    )  # fmt: skip
    run(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={PUSHOVER_HOST}",
    )  # fmt: skip
    run(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "1", "-extfile", str(ext),
    )  # fmt: skip
    return ca, cert, key


@dataclass
class Captured:
    """Requests the stand-in received."""

    pushes: list[dict[str, str]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # CONNECT targets
    webhooks: list[str] = field(default_factory=list)  # paths of plain HTTP requests
    lock: threading.Lock = field(default_factory=threading.Lock)


def _read_request(stream) -> tuple[str, dict[str, str], bytes]:
    request_line = stream.readline(65536).decode("latin-1").strip()
    headers: dict[str, str] = {}
    while True:
        line = stream.readline(65536).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0") or 0))
    return request_line, headers, body


def _respond(stream, body: bytes) -> None:
    stream.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    stream.flush()


class StandIn(socketserver.ThreadingTCPServer):
    """api.pushover.net through a CONNECT proxy, plus the heartbeat endpoint, on one loopback port."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cert: Path, key: Path) -> None:
        self.captured = Captured()
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(str(cert), str(key))
        super().__init__((LOOPBACK, 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"


class _Handler(socketserver.StreamRequestHandler):
    timeout = 20

    def handle(self) -> None:
        server: StandIn = self.server  # type: ignore[assignment]
        captured = server.captured
        request_line, _, body = _read_request(self.rfile)
        method, target, *_ = [*request_line.split(" "), "", ""]
        if method != "CONNECT":
            with captured.lock:
                captured.webhooks.append(target)
            _respond(self.wfile, b"OK")
            return
        with captured.lock:
            captured.hosts.append(target)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        with server.tls.wrap_socket(self.connection, server_side=True) as tls:
            stream = tls.makefile("rwb")
            request_line, headers, body = _read_request(stream)
            _, path, _ = request_line.split(" ", 2)
            url = urllib.parse.urlsplit(path)
            form = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                form.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
            form["_path"] = url.path
            with captured.lock:
                captured.pushes.append(form)
            _respond(stream, b'{"status":1,"request":"00000000-0000-0000-0000-000000000000"}')
            stream.close()


def effective_config(cfg: Config, chart_values: dict, secrets_dir: Path, proxy_url: str) -> dict:
    """The chart's default alertmanager.config coalesced with ours (as Helm does), made runnable here:
    Secret files under `secrets_dir`, and every Pushover receiver through the stand-in proxy."""
    merged = deep_merge(chart_values["alertmanager"]["config"], alerting.alertmanager_config(cfg))
    text = yaml.safe_dump(merged, sort_keys=False).replace(ALERTMANAGER_SECRETS_DIR, str(secrets_dir))
    runnable = yaml.safe_load(text)
    for receiver in runnable["receivers"]:
        for entry in receiver.get("pushover_configs", []):
            entry["http_config"] = {"proxy_url": proxy_url}  # test-only
    return runnable


@dataclass
class Alertmanager:
    process: subprocess.Popen
    url: str

    def post(self, alerts: list[dict]) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with DIRECT.open(request, timeout=10) as response:
            assert response.status == 200, response.status


def start_alertmanager(binary: str, config_file: Path, workdir: Path, ca: Path, external_url: str) -> Alertmanager:
    """Start Alertmanager on a loopback port (no cluster) and wait until it is ready (at most 30 s)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["SSL_CERT_FILE"] = str(ca)
    log = (workdir / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
            f"--web.external-url={external_url}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alertmanager exited: {(workdir / 'alertmanager.log').read_text()[-3000:]}")
        try:
            with DIRECT.open(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return Alertmanager(process, url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("alertmanager was not ready within 30 s")


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


SECRET = "monitoring-secrets"
# No trailing newline: Alertmanager sends the files byte for byte (see the README).
USER_KEY = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
API_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"


@contextlib.contextmanager
def running(cfg: Config, chart_values: dict, work: Path, openssl: str, binary: str, external_url: str):
    """The real Alertmanager with `cfg`'s config, and the stand-in behind it: yields (Alertmanager, StandIn)."""
    ca, cert, key = make_ca(work, openssl)
    stand_in = StandIn(cert, key)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    secrets = work / "secrets"
    (secrets / SECRET).mkdir(parents=True)
    (secrets / SECRET / "pushover-user-key").write_bytes(USER_KEY.encode())
    (secrets / SECRET / "pushover-api-token").write_bytes(API_TOKEN.encode())
    (secrets / SECRET / "heartbeat-url").write_bytes(f"{stand_in.url}/ping/5c1d".encode())
    config_file = work / "alertmanager.yaml"
    config_file.write_text(yaml.safe_dump(effective_config(cfg, chart_values, secrets, stand_in.url), sort_keys=False))
    am = start_alertmanager(binary, config_file, work, ca, external_url)
    try:
        yield am, stand_in
    finally:
        am.process.terminate()
        try:
            am.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            am.process.kill()
        stand_in.shutdown()
        stand_in.server_close()


def get_alerts(am: Alertmanager, *matchers: str) -> list[dict]:
    """GET /api/v2/alerts with each matcher as a `filter` (Alertmanager parses them; 400 if one is invalid)."""
    query = urllib.parse.urlencode([("filter", m) for m in matchers])
    with DIRECT.open(f"{am.url}/api/v2/alerts?{query}", timeout=10) as response:
        return json.load(response)


# --- the silence link of a push -------------------------------------------------------------------

FILTER = re.compile(r'^\{(?P<body>[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(, [a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*)\}$')
PREFIX = "/#/silences/new?filter="


def silence_matchers(url: str, external_url: str) -> dict[str, str] | None:
    """The label matchers of a silence link, as Alertmanager's UI reads its filter; None for the bare form."""
    if url == f"{external_url}/#/silences/new":
        return None
    assert url.startswith(external_url + PREFIX), url
    text = urllib.parse.unquote_plus(url[len(external_url + PREFIX) :])
    match = FILTER.match(text)
    assert match, f"not a whole filter: {text!r}"
    pairs = [part.split("=", 1) for part in match["body"].split(", ")]
    return {name: value[1:-1] for name, value in pairs}
