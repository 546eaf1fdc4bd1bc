"""`observability-fn check` over a 2,500-object Flux homelab, against one libyaml parse of the same tree.

    .venv/bin/python bench/check_repo.py [--reps 7] [--objects 2500] [--fn PATH] [--keep DIR]

Writes a repository in the layout most Flux homelabs use (issue 23): a FluxInstance whose sync
path is `kubernetes/flux/cluster`, whose Kustomization builds `kubernetes/apps` (no
kustomization there: Flux generates one), a kustomization per namespace listing each app's
`ks.yaml`, and per app a Flux Kustomization with `spec.components` (a shared component),
`targetNamespace` and `postBuild.substitute`, building `app/` (its objects from
bench/packages.py, a patch, a configMapGenerator input, and every third app an app-template
HelmRelease with a route), plus the stack's ObservabilityConfig, its Secret and the Gateway.

Then, in interleaved rounds (load on the machine hits both alike), it times whole processes as
CI runs them: `observability-fn check ROOT`, and the floor: a Python process that reads every
YAML file of the tree and parses it with libyaml (`yaml.load_all`, CSafeLoader). It prints the
median wall time and CPU time (user + system of the process) of each and their ratios; the target
is check <= 2x the floor in CPU time, which other work on the machine disturbs least.
Not a unit test: timings belong here.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import packages

REPO = Path(__file__).resolve().parent.parent
TARGET = 2.0
NAMESPACES = 10
_NAMESPACE = re.compile(r"^ +namespace: apps\n", re.M)  # targetNamespace gives one

FLOOR = """\
import os, sys, yaml
count = 0
for top, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(top, name), "rb") as handle:
                try:
                    count += sum(1 for _ in yaml.load_all(handle.read(), Loader=yaml.CSafeLoader))
                except yaml.YAMLError:
                    pass  # custom tags: libyaml stops there, as a reader that skips the file would
print(count)
"""

FLUX_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
{extra}"""

CLUSTER_EXTRA = """\
  postBuild:
    substitute:
      DOMAIN: catinthehack.ca
"""

APP_EXTRA = """\
  targetNamespace: {namespace}
  components:
    - ../../../../components/common
  postBuild:
    substitute:
      APP: app-{i}
      DOMAIN: catinthehack.ca
"""

FLUX_INSTANCE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: flux-instance
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: flux-instance
  values:
    instance:
      sync:
        kind: GitRepository
        url: https://github.com/example/home-ops
        ref: refs/heads/main
        path: kubernetes/flux/cluster
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

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${{APP}}-web
spec:
  interval: 1h
  chart:
    spec:
      chart: app-template
      version: 4.1.0
      sourceRef: {{kind: HelmRepository, name: bjw-s, namespace: flux-system}}
  values:
    controllers:
      web:
        containers:
          app:
            image: {{repository: ghcr.io/example/web, tag: 1.0.{i}}}
    service:
      app:
        controller: web
        ports:
          http:
            port: 8080
    route:
      app:
        hostnames: ["web-{i}.${{DOMAIN}}"]
        parentRefs: [{{name: traefik-gateway, namespace: traefik, sectionName: https}}]
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def build(root: Path, objects: int) -> tuple[Path, int]:
    """Write the repository; about `objects` Kubernetes objects as Flux builds them. Returns the
    root and the number written."""
    k8s = root / "kubernetes"
    write(
        k8s / "flux/cluster/ks.yaml", FLUX_KS.format(name="cluster-apps", path="./kubernetes/apps", extra=CLUSTER_EXTRA)
    )
    flux_system = k8s / "apps/flux-system"
    write(flux_system / "kustomization.yaml", "resources:\n- ./flux-instance/ks.yaml\n")
    write(
        flux_system / "flux-instance/ks.yaml",
        FLUX_KS.format(name="flux-instance", path="./kubernetes/apps/flux-system/flux-instance/app", extra=""),
    )
    write(flux_system / "flux-instance/app/kustomization.yaml", "resources:\n- helmrelease.yaml\n")
    write(flux_system / "flux-instance/app/helmrelease.yaml", FLUX_INSTANCE)
    stack = k8s / "apps/observability"
    write(stack / "kustomization.yaml", "resources:\n- ./stack/ks.yaml\n")
    write(
        stack / "stack/ks.yaml",
        FLUX_KS.format(name="stack", path="./kubernetes/apps/observability/stack/app", extra=CLUSTER_EXTRA),
    )
    write(
        stack / "stack/app/kustomization.yaml",
        "resources:\n- monitoring-secrets.enc.yaml\n- gateway.yaml\ngenerators:\n- obs.yaml\n",
    )
    write(stack / "stack/app/obs.yaml", packages.CONFIG.read_text())
    write(stack / "stack/app/monitoring-secrets.enc.yaml", packages.STACK_SECRET.read_text())
    write(stack / "stack/app/gateway.yaml", GATEWAY)
    write(k8s / "components/common/kustomization.yaml", "kind: Component\nresources:\n- namespace.yaml\n")
    write(k8s / "components/common/namespace.yaml", COMPONENT)
    count, i = 9, 0
    apps: dict[int, list[str]] = {}
    while count < objects:
        namespace = i % NAMESPACES
        docs = [_NAMESPACE.sub("", d).replace(".catinthehack.ca", ".${DOMAIN}") for d in packages._app(i)]
        app = k8s / f"apps/ns-{namespace}/app-{i:04d}"
        extra = APP_EXTRA.format(namespace=f"ns-{namespace}", i=i)
        write(
            app / "ks.yaml",
            FLUX_KS.format(name=f"app-{i}", path=f"./kubernetes/apps/ns-{namespace}/{app.name}/app", extra=extra),
        )
        resources = "- app.yaml\n"
        write(app / "app/app.yaml", "---\n".join(docs))
        if i % 3 == 0:
            write(app / "app/helmrelease.yaml", RELEASE.format(i=i))
            resources += "- helmrelease.yaml\n"
            count += 1
        write(app / "app/patch.yaml", PATCH.format(i=i))
        write(app / "app/settings.yaml", "greeting: !env_var GREETING\n")
        write(
            app / "app/kustomization.yaml",
            f"resources:\n{resources}patches:\n- path: patch.yaml\n"
            "configMapGenerator:\n- name: settings\n  files:\n  - settings.yaml\n",
        )
        apps.setdefault(namespace, []).append(app.name)
        count += len(docs) + 2  # the app's Flux Kustomization, and the component's Namespace
        i += 1
    for namespace, names in apps.items():
        write(
            k8s / f"apps/ns-{namespace}/kustomization.yaml",
            "resources:\n" + "".join(f"- ./{n}/ks.yaml\n" for n in names),
        )
    return root, count


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU time (user + system) of one process."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--objects", type=int, default=2500)
    parser.add_argument("--fn", default=str(REPO / ".venv" / "bin" / "observability-fn"))
    parser.add_argument("--keep", metavar="DIR", help="write the repository to DIR and keep it")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp()
    try:
        root, count = build(Path(args.keep or tmp) / "repo", args.objects)
        first = subprocess.run([args.fn, "check", str(root)], capture_output=True, text=True, check=False)
        print(first.stderr.strip())
        if first.returncode != 0:
            print(first.stdout[:2000], file=sys.stderr)
            print("bench/check_repo.py: the repository does not pass check; fix the generator", file=sys.stderr)
            return 1
        floor_cmd = [sys.executable, "-c", FLOOR, str(root)]
        parsed = subprocess.run(floor_cmd, capture_output=True, text=True, check=True).stdout.strip()
        check: list[tuple[float, float]] = []
        floor: list[tuple[float, float]] = []
        for rep in range(args.reps):
            pair = [(check, [args.fn, "check", str(root)]), (floor, floor_cmd)]
            for times, command in pair if rep % 2 == 0 else reversed(pair):
                times.append(timed(command))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    wall = statistics.median(t[0] for t in check), statistics.median(t[0] for t in floor)
    cpu = statistics.median(t[1] for t in check), statistics.median(t[1] for t in floor)
    load = os.getloadavg()
    print(f"{count} objects written ({parsed} YAML documents); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"check          wall {wall[0] * 1000:6.0f} ms   CPU {cpu[0] * 1000:6.0f} ms   (median of {args.reps})")
    print(f"libyaml parse  wall {wall[1] * 1000:6.0f} ms   CPU {cpu[1] * 1000:6.0f} ms")
    ratio = cpu[0] / cpu[1]
    print(f"ratio          wall {wall[0] / wall[1]:.2f}x       CPU {ratio:.2f}x")
    print(
        f"{'ok' if ratio <= TARGET else 'MISSED'}: target check <= {TARGET:.0f}x a libyaml parse of the tree (CPU time)"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
