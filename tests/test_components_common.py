"""Building blocks: deep_merge, volume claims, HelmReleases, HelmRepositories, the Namespace."""

from __future__ import annotations

import copy

from krm_fn import components
from krm_fn.charts import CHARTS, UI_SERVICES
from krm_fn.components.common import deep_merge, helm_release, service_url, volume_claim_spec
from tests.helpers import config_with, default_config, load


def test_deep_merge_maps_merge_lists_and_scalars_replace():
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": "x"}
    override = {"a": {"b": 2, "c": [3], "d": {"g": 2}}, "h": None}
    assert deep_merge(base, override) == {"a": {"b": 2, "c": [3], "d": {"e": 1, "g": 2}}, "f": "x", "h": None}


def test_deep_merge_leaves_its_inputs_untouched():
    base = {"a": {"b": {"c": 1}}}
    override = {"a": {"b": {"d": 2}}}
    before = copy.deepcopy((base, override))
    deep_merge(base, override)
    assert (base, override) == before


def test_deep_merge_a_map_over_a_scalar_replaces_it():
    assert deep_merge({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert deep_merge({"a": {"b": 2}}, {"a": 1}) == {"a": 1}


def test_volume_claim_with_and_without_a_storage_class():
    assert volume_claim_spec("nfs", "3Gi") == {
        "storageClassName": "nfs",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "3Gi"}},
    }
    assert "storageClassName" not in volume_claim_spec(None, "3Gi")


def test_a_component_class_replaces_the_stack_class():
    config = load(config_with(loki={"storageClass": "local-path"}))
    assert config.storage_class_of(config.loki) == "local-path"
    assert config.storage_class_of(config.prometheus) == "nfs"
    no_class = default_config()
    del no_class["spec"]["storageClass"]
    assert load(no_class).storage_class_of(load(no_class).prometheus) is None


def test_service_url():
    assert service_url(UI_SERVICES["alertmanager"], "obs", "/api/v2/alerts") == (
        "http://kube-prometheus-stack-alertmanager.obs.svc:9093/api/v2/alerts"
    )


def test_helm_release_crds_only_when_asked():
    cfg = load(default_config())
    plain = helm_release(cfg, "loki", {})
    assert "crds" not in plain["spec"]["install"] and "crds" not in plain["spec"]["upgrade"]
    with_crds = helm_release(cfg, "kube-prometheus-stack", {}, crds=True)
    assert with_crds["spec"]["install"]["crds"] == with_crds["spec"]["upgrade"]["crds"] == "CreateReplace"


def test_seed_names_and_api_versions():
    objects = components.generate(load(config_with(namespace="obs")))
    names = {(o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects}
    assert names == {
        ("v1", "Namespace", None, "obs"),
        ("v1", "Namespace", None, "obs-node-exporter"),
        ("rbac.authorization.k8s.io/v1", "Role", "obs", "grafana-sidecar"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "obs", "grafana-sidecar"),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository", "obs", "prometheus-community"),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository", "obs", "grafana"),  # alloy
        ("source.toolkit.fluxcd.io/v1", "HelmRepository", "obs", "grafana-community"),  # loki after 6.55.0
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "obs", "kube-prometheus-stack"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "obs", "loki"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "obs", "alloy"),
        ("v1", "ConfigMap", "obs", "loki-datasource"),
        ("v1", "ConfigMap", "obs", "dashboard-flux"),
        ("v1", "ConfigMap", "obs", "dashboard-logs"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute", "obs", "grafana"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute", "obs", "prometheus"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute", "obs", "alertmanager"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute", "obs", "alloy"),
        ("notification.toolkit.fluxcd.io/v1beta3", "Provider", "flux-system", "alertmanager"),
        ("notification.toolkit.fluxcd.io/v1beta3", "Alert", "flux-system", "flux-alerts"),
        ("monitoring.coreos.com/v1", "PodMonitor", "obs", "flux-system"),
    }


def test_oci_sources_one_ocirepository_per_chart_referenced_by_chartref():
    objects = components.generate(load(config_with(charts={"source": "oci", "loki": {"version": "6.55.0"}})))
    assert not [o for o in objects if o["kind"] == "HelmRepository"]
    oci = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "OCIRepository"}
    assert oci["kube-prometheus-stack"]["url"] == "oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack"
    assert oci["loki"]["url"] == "oci://ghcr.io/grafana/helm-charts/loki"  # 6.55.0: grafana's
    assert oci["loki"]["ref"] == {"tag": "6.55.0"}
    assert oci["alloy"]["url"] == "oci://ghcr.io/grafana/helm-charts/alloy"
    for release in (o for o in objects if o["kind"] == "HelmRelease"):
        assert "chart" not in release["spec"]
        assert release["spec"]["chartRef"] == {"kind": "OCIRepository", "name": release["metadata"]["name"]}
    newest = components.generate(load(config_with(charts={"source": "oci"})))
    urls = {o["metadata"]["name"]: o["spec"]["url"] for o in newest if o["kind"] == "OCIRepository"}
    assert urls["loki"] == "oci://ghcr.io/grafana-community/helm-charts/loki"


def test_every_release_points_at_a_generated_repository():
    objects = components.generate(load(default_config()))
    repositories = {o["metadata"]["name"] for o in objects if o["kind"] == "HelmRepository"}
    releases = [o for o in objects if o["kind"] == "HelmRelease"]
    assert {r["spec"]["chart"]["spec"]["sourceRef"]["name"] for r in releases} == repositories
    # Thanos only in the ha profile (tests/test_profile.py).
    assert {r["metadata"]["name"] for r in releases} == {c.release for n, c in CHARTS.items() if n != "thanos"}


def test_every_object_is_labelled_as_ours():
    for obj in components.generate(load(default_config())):
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "observability-fn"
