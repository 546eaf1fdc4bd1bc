"""A home-ops repository (tests/fixtures/home-ops/, our files in onedr0p/home-ops's layout) whose `o11y`
folder runs the function: External Secrets, grafana-operator, the Flux Operator and silence-operator.

As its user would: `observability-fn render` writes `app/rendered/`, then `observability-fn check .`
walks the repository as Flux builds it. It checks clean; and each mistake the new rules exist for,
made in a copy, is reported on the object or field that holds it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from krm_fn import validation
from tests.helpers import REPO, objects, run_cli

pytestmark = pytest.mark.e2e

FIXTURE = REPO / "tests" / "fixtures" / "home-ops"
APP = Path("kubernetes/apps/o11y/observability/app")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "home-ops"
    shutil.copytree(FIXTURE, root)
    proc = run_cli("render", "observability.yaml", "--output", "rendered", cwd=root / APP)
    assert proc.returncode == 0, proc.stderr.decode()
    return root


def check(root: Path) -> tuple[int, dict]:
    proc = run_cli("check", ".", "--format", "json", cwd=root)
    assert b"Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def findings(doc: dict) -> list[tuple[str, str, str]]:
    """(severity, rule, file) of each error and warning."""
    return [(r["severity"], r["rule"], r["file"] or "") for r in doc["results"] if r["severity"] != "info"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_the_o11y_folder_switched_to_the_function_checks_clean(repo: Path):
    code, doc = check(repo)
    assert findings(doc) == []
    assert code == 0
    assert doc["summary"]["fluxKustomizations"] >= 10  # the walk followed cluster-apps into every ks.yaml
    assert doc["summary"]["counts"]["info"].get("external-secret") == 1  # the SOPS rules skip that Secret


def test_what_was_rendered_validates_against_the_operators_crds(repo: Path):
    rendered = [o for p in sorted((repo / APP / "rendered").rglob("*.yaml")) for o in objects(p.read_text())]
    kinds = {o["kind"] for o in rendered}
    assert {"ExternalSecret", "GrafanaDatasource", "GrafanaFolder", "GrafanaDashboard", "Silence"} <= kinds
    assert {"PodMonitor", "ServiceMonitor"} <= kinds
    for obj in rendered:
        if obj["kind"] in ("ExternalSecret", "GrafanaDatasource", "GrafanaFolder", "GrafanaDashboard", "Silence"):
            assert validation.schema_for(obj["apiVersion"], obj["kind"], "1.32") is not None
            assert list(validation.validate(obj, "1.32")) == [], f"{obj['kind']} {obj['metadata']['name']}"
    assert len([o for o in rendered if o["kind"] == "Silence"]) == 2
    assert "Secret" not in kinds  # External Secrets makes it
    # The Gatus heartbeat's bearer token: an entry of the ExternalSecret, a file Alertmanager mounts.
    (external,) = [o for o in rendered if o["kind"] == "ExternalSecret"]
    entries = {d["secretKey"]: d["remoteRef"] for d in external["spec"]["data"]}
    assert entries["heartbeat-token"] == {"key": "gatus", "property": "heartbeat-token"}
    (kps,) = [o for o in rendered if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"]
    (volume,) = kps["spec"]["values"]["alertmanager"]["alertmanagerSpec"]["volumes"]
    assert volume["secret"]["secretName"] == external["spec"]["target"]["name"]
    mounted = sorted(i["key"] for i in volume["secret"]["items"])
    assert mounted == ["heartbeat-token", "heartbeat-url", "pushover-api-token", "pushover-user-key"]
    assert set(mounted) <= set(entries)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (  # the instance's Service is main-service, not the route's grafana-service
            "kubernetes/apps/o11y/grafana-operator/instance/grafana.yaml",
            "name: grafana\n",
            "name: main\n",
            ("error", "grafana-operator", "kubernetes/apps/o11y/observability/app/observability.yaml"),
        ),
        (
            "kubernetes/apps/flux-system/flux-operator/app/helmrelease.yaml",
            "create: false",
            "create: true",
            ("warning", "flux-operator", "kubernetes/apps/flux-system/flux-operator/app/helmrelease.yaml"),
        ),
        (
            "kubernetes/apps/external-secrets/onepassword/app/clustersecretstore.yaml",
            "name: onepassword\n",
            "name: onepassword-connect\n",
            ("error", "external-secret", "kubernetes/apps/o11y/observability/app/observability.yaml"),
        ),
        (
            "kubernetes/apps/o11y/observability/app/observability.yaml",
            "value: KubeHpaMaxedOut",
            "value: KubeHPAMaxedOut",
            ("error", "silences", "kubernetes/apps/o11y/observability/app/observability.yaml"),
        ),
        (
            "kubernetes/apps/o11y/silence-operator/app/helmrelease.yaml",
            "alertmanager-operated.o11y.svc",
            "alertmanager-operated.monitoring.svc",
            ("warning", "silences", "kubernetes/apps/o11y/silence-operator/app/helmrelease.yaml"),
        ),
    ],
)
def test_each_mistake_is_reported_where_it_is(repo: Path, file: str, old: str, new: str, expected: tuple):
    edit(repo / file, old, new)
    code, doc = check(repo)
    assert findings(doc) == [expected]
    assert code == (1 if expected[0] == "error" else 0)


def test_a_committed_copy_of_the_secret_external_secrets_makes_is_an_error(repo: Path):
    (repo / APP / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: monitoring-secrets\n  namespace: o11y\n"
        "stringData:\n  pushover-user-key: op://Kubernetes/pushover/user-key\n"
    )
    edit(repo / APP / "kustomization.yaml", "  - ./rendered/stack\n", "  - ./rendered/stack\n  - ./secret.yaml\n")
    code, doc = check(repo)
    assert findings(doc) == [("error", "external-secret", str(APP / "secret.yaml"))]
    assert code == 1
