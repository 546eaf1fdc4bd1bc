"""`observability-fn check` over a 2,000-object Flux + kustomize repository (issue 8: under 1 s).

    .venv/bin/python bench/check_repo.py [--reps 7] [--objects 2000] [--fn PATH]

Builds `clusters/home` (a flux-system kustomization and Flux Kustomizations with postBuild
substitution), `infrastructure/` (the stack's ObservabilityConfig, its Secret, the Gateway) and
`apps/<app>/` kustomizations (`namespace:`, a shared component, a patch, a configMapGenerator
input), about ten objects per app from bench/packages.py, then times whole `check` runs
(a new process each, as CI runs it) and prints the median. Not a unit test: timings belong here.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages

REPO = Path(__file__).resolve().parent.parent
_NAMESPACE = re.compile(r"^ +namespace: apps\n", re.M)  # the app kustomizations' `namespace:` gives one

FLUX_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      DOMAIN: catinthehack.ca
"""

GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: traefik-gateway
  namespace: traefik
spec:
  gatewayClassName: traefik
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.${DOMAIN}"
    allowedRoutes:
      namespaces:
        from: All
    tls:
      certificateRefs:
      - name: wildcard-tls
"""

COMPONENT = """\
apiVersion: v1
kind: Namespace
metadata:
  name: _
"""

PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  replicas: 2
"""


def build(root: Path, objects: int) -> Path:
    """Write the repository; about `objects` Kubernetes objects in all."""
    (root / "clusters/home/flux-system").mkdir(parents=True)
    (root / "clusters/home/flux-system/kustomization.yaml").write_text("resources:\n- gotk-sync.yaml\n")
    (root / "clusters/home/flux-system/gotk-sync.yaml").write_text(
        FLUX_KS.format(name="flux-system", path="./clusters/home")
    )
    (root / "clusters/home/infrastructure.yaml").write_text(FLUX_KS.format(name="infra", path="./infrastructure"))
    (root / "clusters/home/apps.yaml").write_text(FLUX_KS.format(name="apps", path="./apps"))
    infra = root / "infrastructure"
    infra.mkdir()
    (infra / "kustomization.yaml").write_text(
        "resources:\n- monitoring-secrets.enc.yaml\n- gateway.yaml\ngenerators:\n- obs.yaml\n"
    )
    (infra / "obs.yaml").write_text(packages.CONFIG.read_text())
    (infra / "monitoring-secrets.enc.yaml").write_text(packages.STACK_SECRET.read_text())
    (infra / "gateway.yaml").write_text(GATEWAY)
    component = root / "apps/components/namespace"
    component.mkdir(parents=True)
    (component / "kustomization.yaml").write_text("kind: Component\nresources:\n- namespace.yaml\n")
    (component / "namespace.yaml").write_text(COMPONENT)
    count, i, app_dirs = 4, 0, []
    while count < objects:
        docs = [_NAMESPACE.sub("", d).replace(".catinthehack.ca", ".${DOMAIN}") for d in packages._app(i)]
        app = root / f"apps/app-{i:04d}"
        app.mkdir()
        (app / "app.yaml").write_text("---\n".join(docs))
        (app / "patch.yaml").write_text(PATCH.format(i=i))
        (app / "settings.yaml").write_text("greeting: !env_var GREETING\n")
        (app / "kustomization.yaml").write_text(
            f"namespace: app-{i}\nresources:\n- app.yaml\ncomponents:\n- ../components/namespace\n"
            "patches:\n- path: patch.yaml\nconfigMapGenerator:\n- name: settings\n  files:\n  - settings.yaml\n"
        )
        app_dirs.append(app.name)
        count += len(docs) + 1  # and the component's Namespace, renamed
        i += 1
    (root / "apps/kustomization.yaml").write_text("resources:\n" + "".join(f"- {d}\n" for d in app_dirs))
    return root


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--fn", default=str(REPO / ".venv" / "bin" / "observability-fn"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = build(Path(tmp) / "repo", args.objects)
        first = subprocess.run([args.fn, "check", str(root)], capture_output=True, text=True, check=False)
        print(first.stderr.strip())
        if first.returncode != 0:
            print(first.stdout[:2000], file=sys.stderr)
            print("bench/check_repo.py: the repository does not pass check; fix the generator", file=sys.stderr)
            return 1
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            subprocess.run([args.fn, "check", str(root)], capture_output=True, check=True)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"check over {args.objects} objects: median {median * 1000:.0f} ms of {args.reps} runs")
    print(f"{'ok' if median < 1.0 else 'MISSED'}: target < 1 s (issue 8)")
    return 0 if median < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
