"""Benchmark packages: a kpt package of N resources in F files, a realistic homelab mix.

Each package has a Kptfile, a kustomization.yaml with no apiVersion (kpt passes it as an
item), the ObservabilityConfig `obs.yaml`, the encrypted stack Secret from the SOPS
fixtures, and user objects spread over `apps/appNNN.yaml`: ConfigMaps, Deployments,
Services, SOPS-shaped Secrets and a few HTTPRoutes on the config's Gateway. The function
passes every one of them with no error, so kpt writes its output as a real run would.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "function-config" / "observability.yaml"
STACK_SECRET = REPO / "third_party" / "upstream" / "sops" / "monitoring-secrets.enc.yaml"

KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
  annotations:
    config.kubernetes.io/local-config: "true"
info:
  description: observability-fn benchmark package
"""

KUSTOMIZATION = """\
# kpt passes this file to the function too, although it has no apiVersion or kind.
resources:
- obs.yaml
"""


def _b64(seed: str, size: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.b64encode((digest * (size // 32 + 1))[:size]).decode()


def _enc(seed: str, length: int) -> str:
    """A value shaped like a SOPS ciphertext (not decryptable; the keyless checks accept it)."""
    return f"ENC[AES256_GCM,data:{_b64(seed, length)},iv:{_b64(seed + 'iv', 32)},tag:{_b64(seed + 'tag', 16)},type:str]"


def config_map(i: int) -> str:
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}-settings
  namespace: apps
  labels:
    app.kubernetes.io/name: app-{i}
data:
  LOG_LEVEL: info
  VERSION: "1.10"
  MODE: "0777"
  settings.yaml: |
    listen: 0.0.0.0:8080
    feature: on   # YAML 1.1 would say true
    retries: 3
"""


def deployment(i: int) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: apps
  labels:
    app.kubernetes.io/name: app-{i}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{i}
    spec:
      containers:
      - name: app
        image: ghcr.io/example/app:1.{i % 7}.0
        ports:
        - name: http
          containerPort: 8080
        envFrom:
        - configMapRef:
            name: app-{i}-settings
        resources:
          requests:
            cpu: 10m
            memory: 32Mi
          limits:
            memory: 128Mi
"""


def service(i: int) -> str:
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: apps
spec:
  selector:
    app.kubernetes.io/name: app-{i}
  ports:
  - name: http
    port: 80
    targetPort: http
"""


def secret(i: int) -> str:
    return f"""\
apiVersion: v1
kind: Secret
metadata:
    name: app-{i}-credentials
    namespace: apps
type: Opaque
stringData:
    username: {_enc(f"user{i}", 8)}
    password: {_enc(f"password{i}", 24)}
sops:
    age:
        - recipient: age14g9u6ydpcpptvt4hjd0ep6j6x5g0uyey03tyra66g8cjdvwrxdks8y40tl
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            {_b64(f"age{i}", 48)}
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-11-27T02:15:29Z"
    mac: {_enc(f"mac{i}", 128)}
    encrypted_regex: ^(data|stringData)$
    version: 3.11.0
"""


def http_route(i: int) -> str:
    return f"""\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app-{i}
  namespace: apps
spec:
  parentRefs:
  - name: traefik-gateway
    namespace: traefik
  hostnames:
  - app-{i}.catinthehack.ca
  rules:
  - backendRefs:
    - name: app-{i}
      port: 80
"""


# One file holds resources of one app after another: settings, workload, service, then
# every tenth app a route and every fifth a Secret, so 2,000 resources are ~88% plain kinds.
def _app(i: int) -> list[str]:
    docs = [config_map(i), deployment(i), service(i)]
    if i % 5 == 0:
        docs.append(secret(i))
    if i % 10 == 0:
        docs.append(http_route(i))
    return docs


# --- authoring styles ------------------------------------------------------------------------
# The same objects as different tools and people write them. kpt keeps each scalar's style
# when it rewrites a file, so these reach the function as they are written here.


def _objects(docs: list[str]) -> list[dict]:
    import yaml

    return [yaml.safe_load(doc) for doc in docs]


def _pyyaml(docs: list[str]) -> list[str]:
    """`yaml.dump` defaults: sorted keys, multi-line strings single-quoted over several lines
    (kpt then writes the closing quote at column 0)."""
    import yaml

    return [yaml.dump(obj) for obj in _objects(docs)]


def _kubectl(docs: list[str]) -> list[str]:
    """`kubectl create ... --dry-run=client -o yaml`: sorted keys, `creationTimestamp: null`,
    empty `{}` fields, literal blocks for multi-line strings, lists at their key's indentation."""
    import yaml

    class KubectlDumper(yaml.SafeDumper):
        def represent_str(self, data: str):
            style = "|" if "\n" in data else None
            return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    KubectlDumper.add_representer(str, KubectlDumper.represent_str)
    out = []
    for obj in _objects(docs):
        obj.setdefault("metadata", {})["creationTimestamp"] = None
        if obj.get("kind") in ("Deployment", "Service"):
            obj["status"] = {"loadBalancer": {}} if obj["kind"] == "Service" else {}
        out.append(yaml.dump(obj, Dumper=KubectlDumper, sort_keys=True, width=1 << 20))
    return out


def _helm(docs: list[str]) -> list[str]:
    """`helm template`: a `# Source:` comment, chart labels, lists indented under their key,
    values double-quoted, multi-line strings as `|-` blocks."""
    import yaml

    class HelmDumper(yaml.SafeDumper):
        def increase_indent(self, flow: bool = False, indentless: bool = False):
            return super().increase_indent(flow, False)

        def represent_str(self, data: str):
            if "\n" in data:
                return self.represent_scalar("tag:yaml.org,2002:str", data.rstrip("\n"), style="|")
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"' if data[:1].isdigit() else None)

    HelmDumper.add_representer(str, HelmDumper.represent_str)
    out = []
    for obj in _objects(docs):
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        labels.update({"helm.sh/chart": "app-1.2.3", "app.kubernetes.io/managed-by": "Helm"})
        kind = obj.get("kind", "x").lower()
        body = yaml.dump(obj, Dumper=HelmDumper, sort_keys=False, width=1 << 20)
        out.append(f"# Source: app/templates/{kind}.yaml\n{body}")
    return out


def _commented(docs: list[str]) -> list[str]:
    """Hand-written with comments everywhere, a flow list over two lines and a double-quoted
    string continued on the next line."""
    out = []
    for n, doc in enumerate(docs):
        lines = doc.splitlines(keepends=True)
        lines.insert(0, f"# object {n}: owned by the apps team\n")
        lines.insert(min(4, len(lines)), "  # the name is what the route points at\n")
        text = "".join(lines)
        if "kind: ConfigMap" in text:
            text += '  NOTE: "a long note that an editor wrapped \\\n    onto a second line"\n'
            text += '  # flow lists over two lines\n  LIST: "[a, b,\n    c]"\n'
        if "kind: Deployment" in text:
            text = text.replace(
                "      - name: app\n", "      - name: app # main container\n        args: [--port,\n          '8080']\n"
            )
        out.append(text + "# end\n")
    return out


def files_config_map(i: int) -> str:
    """A ConfigMap holding an app's files, in the quoting kpt sends them in (issue 25): a config file
    as a single-quoted scalar over several lines (as YAML dumpers write multi-line strings; kpt
    folds it with blank lines and puts the closing quote at column 0), a script and a dashboard as
    double-quoted scalars with escapes (as kyaml writes a generated file holding a tab or trailing
    spaces), and an ini file as a literal block. The name carries a generator's hash suffix."""
    suffix = hashlib.sha256(f"files{i}".encode()).hexdigest()[:10]
    script = (
        r'"#!/bin/sh\nset -eu\n# start the app\t(with its config)\n'
        r'exec /app --config /etc/app/config.yaml \"$@\"  \n"'
    )
    dashboard = (
        r'"{\n  \"title\": \"app-' + str(i) + r"\",\n  \"panels\": [\n    {\"type\": \"graph\", \"targets\": "
        r"[{\"expr\": \"rate(http_requests_total{app=\\\"app-" + str(i) + r'\\\"}[5m])\"}]}\n  ]\n}\n"'
    )
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}-files-{suffix}
  namespace: apps
  labels:
    app.kubernetes.io/name: app-{i}
data:
  config.yaml: 'listen: 0.0.0.0:8080

    level: info   # kept: a comment only to the app

    format: json

    retries: 3

    upstream: "http://app-{i + 1}.apps.svc:80"

    '
  run.sh: {script}
  dashboard.json: {dashboard}
  settings.ini: |
    [server]
    port = 8080
    ; comment
"""


def _files(docs: list[str]) -> list[str]:
    """ConfigMaps holding files (files_config_map) in place of the plain ones; the rest as written."""
    out = []
    for doc in docs:
        if "kind: ConfigMap" in doc:
            i = int(doc.split("name: app-", 1)[1].split("-", 1)[0])
            doc = files_config_map(i)
        out.append(doc)
    return out


STYLES = {
    "block": None,  # the objects above as written: literal blocks, compact lists
    "pyyaml": _pyyaml,
    "kubectl": _kubectl,
    "helm": _helm,
    "commented": _commented,
    "files": _files,
}


def build(root: Path, resources: int, files: int, name: str = "pkg", style: str = "block") -> Path:
    """Write a package of about `resources` objects (config and stack Secret included) in `files` app files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Kptfile").write_text(KPTFILE.format(name=name))
    (root / "kustomization.yaml").write_text(KUSTOMIZATION)
    (root / "obs.yaml").write_text(CONFIG.read_text())
    (root / "monitoring-secrets.enc.yaml").write_text(STACK_SECRET.read_text())
    docs: list[str] = []
    i = 0
    while len(docs) < resources - 2:
        docs.extend(_app(i))
        i += 1
    docs = docs[: resources - 2]
    restyle = STYLES[style]
    if restyle is not None:
        # SOPS Secrets keep their own layout (any change would break their MAC in real life).
        sops = [j for j, doc in enumerate(docs) if "\nsops:\n" in doc]
        styled = restyle([doc for j, doc in enumerate(docs) if j not in set(sops)])
        it = iter(styled)
        docs = [doc if j in set(sops) else next(it) for j, doc in enumerate(docs)]
    apps = root / "apps"
    apps.mkdir(exist_ok=True)
    per_file = -(-len(docs) // files)
    for f in range(files):
        chunk = docs[f * per_file : (f + 1) * per_file]
        if chunk:
            (apps / f"app{f:03d}.yaml").write_text("---\n".join(chunk))
    return root


if __name__ == "__main__":
    import sys

    target, count, nfiles = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    build(target, count, nfiles, style=sys.argv[4] if len(sys.argv) > 4 else "block")
    print(target)
