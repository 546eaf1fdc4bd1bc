"""What kustomize hands the function, judged as `check` judges it (real `kustomize build --enable-alpha-plugins
--enable-exec`, the function as transformer and as validator).

Placeholders Flux resolves later (substitution `${...}`, a component's Namespace `_`, objects without a
namespace): no finding, and a planted real problem still fails the build. Existing monitoring and chart-rendered
hostnames: warnings that do not fail it. The Flux distribution picks the Alert schema. Messages name the object,
and its file when kustomize's origin annotations say it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import FUNCTION, UPSTREAM, findings, kustomize_build, protected_config, run_cli

pytestmark = pytest.mark.e2e

SECRET_FILE = UPSTREAM / "sops" / "monitoring-secrets.enc.yaml"

# A shared component as homelab repositories write it: the including kustomization's `namespace:`
# renames `_`, Flux's postBuild.substitute fills the ${...}.
COMPONENT = {
    "namespace.yaml": """
apiVersion: v1
kind: Namespace
metadata:
  name: _
""",
    "gateway.yaml": """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw-external
spec:
  gatewayClassName: cilium
  listeners:
    - name: https
      port: 443
      protocol: HTTPS
      hostname: "*.example.com"
      allowedRoutes:
        namespaces:
          from: Same
""",
    "route.yaml": """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${APP}
spec:
  parentRefs:
    - name: gw-external
      namespace: network
      sectionName: https
  hostnames:
    - "${APP}.example.com"
  rules:
    - backendRefs:
        - name: ${APP}
          port: ${PORT:=8080}
""",
    "deployment.yaml": """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${APP}-proxy
  namespace: ${NAMESPACE:-default}
spec:
  replicas: ${REPLICAS:=1}
  selector:
    matchLabels: {app: "${APP}"}
  template:
    metadata:
      labels: {app: "${APP}"}
    spec:
      containers:
        - name: proxy
          image: ghcr.io/example/${APP}:${VERSION}
""",
}


def layout(root: Path, field: str, files: dict[str, str]) -> Path:
    """A kustomization with `files` and the stack's Secret as resources, the function under `field`."""
    root.mkdir(parents=True)
    config = protected_config()
    annotations = config["metadata"].setdefault("annotations", {})
    annotations["config.kubernetes.io/function"] = yaml.safe_dump({"exec": {"path": FUNCTION}})
    if field == "validators":
        annotations["observability.catinthehack.ca/mode"] = "validate"
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    files = {**files, "secret.yaml": SECRET_FILE.read_text()}
    for name, text in files.items():
        (root / name).write_text(text.lstrip("\n"))
    kustomization = {"resources": sorted(files), field: ["observability.yaml"]}
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return root


@pytest.mark.parametrize("field", ["transformers", "validators"])
def test_placeholders_and_namespaces_set_later_give_no_finding(tmp_path: Path, field: str) -> None:
    proc = kustomize_build(layout(tmp_path / "k", field, COMPONENT))
    assert proc.returncode == 0, proc.stderr
    assert findings(proc.stderr) == [], proc.stderr
    built = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    assert {"Namespace", "Gateway", "HTTPRoute", "Deployment"} <= {doc["kind"] for doc in built}


@pytest.mark.parametrize("field", ["transformers", "validators"])
def test_a_real_problem_next_to_placeholders_still_fails_the_build(tmp_path: Path, field: str) -> None:
    files = {**COMPONENT, "route.yaml": COMPONENT["route.yaml"].replace("${APP}.example.com", "${APP}.Example.com")}
    proc = kustomize_build(layout(tmp_path / "k", field, files))
    assert proc.returncode != 0
    errors = findings(proc.stderr)
    assert len(errors) == 1 and "[hostname]" in errors[0] and "uppercase letters" in errors[0], proc.stderr


# --- messages name the object, and the file when kustomize says it --------------------------------

APP_SECRET = """
apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: apps
stringData:
  password: hunter2-not-shown
"""


@pytest.mark.parametrize("origin", [False, True])
def test_kustomize_mode_errors_name_the_object_and_its_file_when_known(tmp_path: Path, origin: bool) -> None:
    root = layout(tmp_path / "k", "transformers", {"app.yaml": APP_SECRET})
    if origin:
        kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
        kustomization["buildMetadata"] = ["originAnnotations"]
        (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    proc = kustomize_build(root)
    assert proc.returncode != 0
    errors = findings(proc.stderr)
    assert (
        len(errors) == 1
        and "[secret-plaintext] Secret apps/app stringData.password: value stringData.password is in clear" in errors[0]
    ), proc.stderr
    if origin:
        assert errors[0].startswith("app.yaml: error") and "--in-place app.yaml`" in errors[0]
    else:
        assert "--in-place <the file of Secret apps/app>`" in errors[0]
    assert "FILE" not in errors[0] and "hunter2" not in proc.stderr


# --- what already runs, and the Flux distribution, through kustomize and `check` ------------------

KPS_ELSEWHERE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: kps
  namespace: observability
spec:
  interval: 1h
  chart:
    spec:
      chart: kube-prometheus-stack
      sourceRef: {kind: HelmRepository, name: prometheus-community, namespace: flux-system}
"""
MEDIA = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: media
  namespace: apps
spec:
  interval: 1h
  chart:
    spec:
      chart: app-template
      sourceRef: {kind: HelmRepository, name: bjw-s, namespace: flux-system}
  values:
    route:
      main:
        hostnames: [grafana.catinthehack.ca]
"""
OPERATOR_ALERT = """
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: flux-operator
  namespace: flux-system
spec:
  providerRef: {name: alertmanager}
  eventSources:
    - kind: FluxInstance
      name: flux
"""
FLUX_INSTANCE = """
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution: {version: "2.x", registry: ghcr.io/fluxcd}
"""


@pytest.mark.parametrize("field", ["transformers", "validators"])
def test_existing_monitoring_and_chart_hostnames_are_warnings_that_do_not_fail_the_build(tmp_path, field) -> None:
    proc = kustomize_build(layout(tmp_path / "k", field, {"kps.yaml": KPS_ELSEWHERE, "media.yaml": MEDIA}))
    assert proc.returncode == 0, proc.stderr
    found = findings(proc.stderr)
    assert len(found) == 2, proc.stderr
    assert any("warning [existing-monitoring] HelmRelease observability/kps" in line for line in found)
    assert any(
        "warning [route-overlap] HelmRelease apps/media spec.values.route.main.hostnames[0]" in line for line in found
    )


@pytest.mark.parametrize("field", ["transformers", "validators"])
def test_flux_operator_alert_kinds_pass_with_a_flux_instance_and_fail_under_upstream(tmp_path, field) -> None:
    files = {"alert.yaml": OPERATOR_ALERT, "flux.yaml": FLUX_INSTANCE}
    ok = kustomize_build(layout(tmp_path / "ok", field, files))
    assert ok.returncode == 0 and findings(ok.stderr) == [], ok.stderr
    root = layout(tmp_path / "upstream", field, files)
    config = yaml.safe_load((root / "observability.yaml").read_text())
    config["spec"].setdefault("flux", {})["distribution"] = "upstream"
    (root / "observability.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    failed = kustomize_build(root)
    assert failed.returncode != 0
    assert [line for line in findings(failed.stderr) if "[schema] Alert flux-system/flux-operator" in line], (
        failed.stderr
    )


def test_check_over_a_directory_judges_the_same(tmp_path: Path) -> None:
    repo = layout(
        tmp_path / "repo", "transformers", {**COMPONENT, "kps.yaml": KPS_ELSEWHERE, "alert.yaml": OPERATOR_ALERT}
    )
    proc = run_cli("check", str(repo))
    out = proc.stdout.decode()
    assert proc.returncode == 0, (out, proc.stderr.decode())
    assert [line for line in out.splitlines() if " error [" in line] == []
    assert len([line for line in out.splitlines() if "warning [existing-monitoring]" in line]) == 1, out
