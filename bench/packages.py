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


def build(root: Path, resources: int, files: int, name: str = "pkg") -> Path:
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
    build(target, count, nfiles)
    print(target)
