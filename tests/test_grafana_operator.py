"""spec.grafana.mode: operator: what is written for a grafana-operator instance, the `grafana-operator` rule,
and `verify`'s Grafana checks in that mode. kube-prometheus-stack rendered by real Helm with these values:
tests/test_helm_grafana_operator.py."""

from __future__ import annotations

import json

import pytest

from krm_fn import components, validation
from krm_fn import config as config_model
from krm_fn.checks.grafana_operator import check_grafana_operator, service_of
from krm_fn.checks.route_backend import check_backends
from krm_fn.checks.topology import check_topology
from krm_fn.components.secret import required_keys
from krm_fn.verify import logs as verify_logs
from krm_fn.verify.kube import KubeError
from krm_fn.verify.stack import Expected
from tests.helpers import context, items_from, load, protected_config, rule_run, user_route

SELECTOR = {"matchLabels": {"dashboards": "grafana"}}


def operator_config(**operator) -> dict:
    config = protected_config()
    config["spec"]["grafana"] = {"mode": "operator", "operator": {"instanceSelector": SELECTOR, **operator}}
    return config


def generated(config: dict) -> list[dict]:
    return components.generate(load(config))


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def kps_values(objects: list[dict]) -> dict:
    (kps,) = [o for o in of_kind(objects, "HelmRelease") if o["metadata"]["name"] == "kube-prometheus-stack"]
    return kps["spec"]["values"]


# --- what is written ------------------------------------------------------------------------------


def test_the_chart_grafana_is_off_and_its_dashboards_go_to_the_operator():
    grafana = kps_values(generated(operator_config()))["grafana"]
    assert grafana == {
        "enabled": False,
        "forceDeployDashboards": True,
        "operator": {
            "dashboardsConfigMapRefEnabled": True,
            "matchLabels": {"dashboards": "grafana"},
            "folder": None,
            "folderRef": "observability-fn",
        },
    }


def test_datasources_folder_and_dashboards_for_the_instance_and_no_sidecar_configmaps():
    objects = generated(operator_config())
    datasources = {o["metadata"]["name"]: o["spec"] for o in of_kind(objects, "GrafanaDatasource")}
    assert sorted(datasources) == ["alertmanager", "loki", "prometheus"]
    assert datasources["prometheus"]["datasource"]["uid"] == "prometheus"
    assert datasources["prometheus"]["datasource"]["isDefault"] is True
    assert (
        datasources["prometheus"]["datasource"]["url"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    )
    assert datasources["loki"]["datasource"]["url"] == "http://loki.monitoring.svc:3100"
    (folder,) = of_kind(objects, "GrafanaFolder")
    assert folder["spec"]["title"] == "Observability"
    dashboards = of_kind(objects, "GrafanaDashboard")
    assert sorted(d["metadata"]["name"] for d in dashboards) == ["dashboard-flux", "dashboard-logs"]
    for obj in [*dashboards, folder, *of_kind(objects, "GrafanaDatasource")]:
        assert obj["spec"]["instanceSelector"] == SELECTOR
        assert obj["metadata"]["namespace"] == "monitoring"
    for dashboard in dashboards:
        assert dashboard["spec"]["folderRef"] == folder["metadata"]["name"]
        assert json.loads(dashboard["spec"]["json"])["uid"].startswith("observability-fn-")
    assert of_kind(objects, "ConfigMap") == []  # neither dashboards nor the Loki datasource for a sidecar


def test_every_grafana_object_validates_against_grafana_operator_v5_24_crds():
    for obj in generated(operator_config()):
        if obj["apiVersion"].startswith("grafana.integreatly.org/"):
            assert validation.schema_for(obj["apiVersion"], obj["kind"], "1.32") is not None, obj["kind"]
            assert list(validation.validate(obj, "1.32")) == [], obj["metadata"]["name"]


def test_the_route_goes_to_the_operator_service():
    objects = generated(operator_config(service={"name": "main-service", "port": 8080}))
    (route,) = [o for o in of_kind(objects, "HTTPRoute") if o["metadata"]["name"] == "grafana"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "main-service", "port": 8080}]


def test_the_service_defaults_to_grafana_operators_name_for_an_instance_named_grafana():
    cfg = load(operator_config())
    assert cfg.grafana_operator is not None
    assert (cfg.grafana_operator.service.name, cfg.grafana_operator.service.port) == ("grafana-service", 3000)


def ha_operator_config(**spec) -> dict:
    config = operator_config()
    store = {"endpoint": "minio:9000", "buckets": {"lokiChunks": "c", "lokiRuler": "r"}}
    config["spec"].update(profile="ha", objectStorage=store, **spec)
    return config


@pytest.mark.parametrize(
    ("loki", "loki_url"),
    [({}, "http://loki.monitoring.svc:3100"), ({"mode": "SimpleScalable"}, "http://loki-gateway.monitoring.svc:80")],
)
def test_the_ha_profile_points_the_prometheus_datasource_at_thanos_query(loki: dict, loki_url: str):
    objects = generated(ha_operator_config(loki=loki))
    (prometheus,) = [o for o in of_kind(objects, "GrafanaDatasource") if o["metadata"]["name"] == "prometheus"]
    assert prometheus["spec"]["datasource"]["url"] == "http://thanos-query.monitoring.svc:10902"
    (source,) = [o for o in of_kind(objects, "GrafanaDatasource") if o["metadata"]["name"] == "loki"]
    assert source["spec"]["datasource"]["url"] == loki_url
    assert "sidecar" not in kps_values(objects)["grafana"]


def test_the_charts_grafana_settings_do_not_apply_to_the_instance():
    """spec.grafana.replicas, .database and .persistence size the chart's Grafana, which is off: no values
    for it, no database key to read, no ha-topology finding about it (persistence in ha is an error only for
    the chart's Grafana), no Grafana Deployment for verify to wait for, and no Role for the chart Grafana's
    sidecars (least privilege: krm_fn/components/privilege.py)."""
    config = ha_operator_config(nodes=1)
    config["spec"]["grafana"].update(replicas=3, database={"urlKey": "grafana-database-url"}, persistence=True)
    loaded = load(config)
    objects = components.generate(loaded)
    grafana = kps_values(objects)["grafana"]
    assert not {"replicas", "envValueFrom", "persistence", "rbac", "sidecar"} & set(grafana)
    assert "grafana-database-url" not in required_keys(loaded)
    assert not [o for o in objects if o["kind"] in ("Role", "RoleBinding")]
    topology = [r for r in rule_run(check_topology, config=config) if r.field.startswith("spec.grafana")]
    assert topology == []
    assert "Grafana" not in [w.what for w in Expected(loaded).workloads]
    assert "Grafana" in [w.what for w in Expected(load(protected_config())).workloads]


def test_the_instance_keeps_its_own_admin_login():
    assert "grafana-admin-password" not in required_keys(load(operator_config()))
    assert "grafana-admin-password" in required_keys(load(protected_config()))


def test_dashboards_off_leaves_the_folder_for_the_charts_dashboards():
    config = operator_config()
    config["spec"]["dashboards"] = {"enabled": False}
    objects = generated(config)
    assert of_kind(objects, "GrafanaDashboard") == []
    assert len(of_kind(objects, "GrafanaFolder")) == 1


def test_operator_mode_needs_an_instance_selector():
    config = protected_config()
    config["spec"]["grafana"] = {"mode": "operator"}
    cfg, errors = config_model.load(config)
    assert cfg is None
    assert "instanceSelector" in errors[0].message


# --- the rule -------------------------------------------------------------------------------------


def grafana(name: str = "grafana", namespace: str = "monitoring", labels: str = "{dashboards: grafana}", **config):
    body = f"\n  config: {json.dumps(config)}" if config else "\n  config: {}"
    return f"""
apiVersion: grafana.integreatly.org/v1beta1
kind: Grafana
metadata:
  name: {name}
  namespace: {namespace}
  labels: {labels}
spec:{body}
"""


def findings(files: dict[str, str], config: dict | None = None, check_all: bool = False) -> list[tuple[str, str]]:
    ctx = context(files, config or operator_config())
    ctx.check_all_kinds = check_all
    return [(r.severity.value, r.field or "") for r in check_grafana_operator(ctx)]


def test_a_matching_instance_serving_the_route_passes():
    assert findings({"g.yaml": grafana()}) == []


def test_no_instance_in_the_pipeline_is_not_a_finding():
    assert findings({}) == []


def test_no_instance_with_the_selected_labels():
    files = {"g.yaml": grafana(labels="{app: grafana}")}
    assert findings(files) == [("warning", "spec.grafana.operator.instanceSelector.matchLabels")]
    assert findings(files, check_all=True) == [("error", "spec.grafana.operator.instanceSelector.matchLabels")]


def test_the_route_names_another_service_than_the_instance_gets():
    assert findings({"g.yaml": grafana(name="main")}, check_all=True) == [("error", "spec.grafana.operator.service")]
    results = rule_run(check_grafana_operator, {"g.yaml": grafana(name="main")}, operator_config())
    assert "main-service:3000 (Grafana main)" in results[0].message


def test_the_instance_http_port_moves_the_service_port():
    files = {"g.yaml": grafana(server={"http_port": "8080"})}
    assert findings(files) == [("warning", "spec.grafana.operator.service")]
    assert findings(files, operator_config(service={"port": 8080})) == []


def test_an_instance_in_another_namespace_cannot_serve_the_route():
    results = rule_run(check_grafana_operator, {"g.yaml": grafana(namespace="grafana")}, operator_config())
    assert "runs in namespace grafana" in results[0].message
    config = operator_config()
    config["spec"]["ui"] = {"grafana": {"enabled": False}}
    assert findings({"g.yaml": grafana(namespace="grafana")}, config) == []


def test_root_url_other_than_the_route_is_a_warning():
    ok = {"g.yaml": grafana(server={"root_url": "https://grafana.catinthehack.ca/"})}
    assert findings(ok) == []
    wrong = {"g.yaml": grafana(server={"root_url": "https://grafana.example.com"})}
    assert findings(wrong) == [("warning", "spec.config.server.root_url")]


def test_sidecar_mode_says_nothing():
    assert findings({"g.yaml": grafana(labels="{app: x}")}, protected_config()) == []


def test_route_backend_accepts_the_operator_service_and_names_it_for_a_user_route():
    assert rule_run(check_backends, {}, operator_config()) == []
    body = "hostnames: [dash.catinthehack.ca]\nrules:\n  - backendRefs: [{name: grafana, port: 80}]"
    route = user_route("dash", body)
    (warning,) = rule_run(check_backends, {"r.yaml": route}, operator_config())
    assert "grafana-operator" in warning.message and "grafana-service" in warning.message


def test_service_of_reads_http_port():
    (item,) = items_from({"g.yaml": grafana(name="x", server={"http_port": 9000})})
    assert service_of(item) == ("x-service", 9000)


# --- verify ---------------------------------------------------------------------------------------


class StubKube:
    def __init__(self, answers: dict[str, object]):
        self.answers = answers

    def get(self, path: str) -> object:
        if path not in self.answers:
            raise KubeError(f"{path}: not found")
        return self.answers[path]


def datasource(kind: str, synced: str = "True") -> dict:
    return {
        "spec": {"datasource": {"type": kind}},
        "status": {"conditions": [{"type": "DatasourceSynchronized", "status": synced}]},
    }


@pytest.mark.parametrize(
    ("items", "ok"),
    [
        ([datasource("prometheus"), datasource("loki"), datasource("alertmanager")], True),
        ([datasource("prometheus"), datasource("loki", synced="False")], False),
        ([datasource("prometheus")], False),
    ],
)
def test_verify_reads_the_instance_health_and_the_grafana_datasources(items: list, ok: bool):
    expected = Expected(load(operator_config()))
    kube = StubKube(
        {
            "/api/v1/namespaces/monitoring/services/grafana-service:3000/proxy/api/health": {
                "database": "ok",
                "version": "12.4.2",
            },
            "/apis/grafana.integreatly.org/v1beta1/namespaces/monitoring/grafanadatasources": {"items": items},
        }
    )
    health, sources = verify_logs.grafana(kube, expected)  # type: ignore[arg-type]
    assert health.ok
    assert sources.ok is ok
