"""Properties over generated configs of the operator modes: every combination renders objects valid for
the vendored CRDs and known to the charts, the ExternalSecret covers exactly the keys the stack reads
(Alertmanager's key volume among them), the chart's Grafana gets no sidecar Role in operator mode,
and the silences rule agrees with a plain reading of the alerts the stack defines."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn import components, validation
from krm_fn import config as config_model
from krm_fn.charts import alerts, paths
from krm_fn.checks.external_secret import check_external_secret
from krm_fn.checks.silences import check_silences
from krm_fn.components.secret import required_keys
from tests.helpers import context, protected_config

OPERATOR_GROUPS = ("external-secrets.io/", "grafana.integreatly.org/", "observability.giantswarm.io/")
DEFAULT_ALERTS = sorted(alerts.catalog("88.5.3"))
label_value = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


@st.composite
def modes(draw) -> dict:
    spec: dict = {}
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["SecretStore", "ClusterSecretStore"]))
        external: dict = {"storeRef": {"kind": kind, "name": "store"}}
        if draw(st.booleans()):
            external["remoteKey"] = "item"
        stack_keys = ["pushover-user-key", "pushover-api-token", "grafana-admin-user", "heartbeat-url", "gatus-token"]
        mapped = draw(st.lists(st.sampled_from(stack_keys), unique=True))
        external["keys"] = {}
        for key in mapped:
            source = {"key": draw(label_value)}
            if draw(st.booleans()):
                source["property"] = "p"
            external["keys"][key] = source
        spec["secret"] = {"name": "monitoring-secrets", "externalSecret": external}
    if draw(st.booleans()):
        labels = draw(st.dictionaries(label_value, label_value, min_size=1, max_size=2))
        spec["grafana"] = {"mode": "operator", "operator": {"instanceSelector": {"matchLabels": labels}}}
    spec["flux"] = {"distribution": draw(st.sampled_from(["auto", "upstream", "flux-operator"]))}
    alerting: dict = {}
    if draw(st.booleans()):
        alerting["heartbeat"] = {"tokenKey": "gatus-token"} if draw(st.booleans()) else {}
    if draw(st.booleans()):
        alerting["pushover"] = {"enabled": False}
    silences = []
    for index in range(draw(st.integers(min_value=0, max_value=3))):
        name = draw(st.sampled_from([*DEFAULT_ALERTS, "NoSuchAlert", "FluxResourceNotReady", "FluxInstanceAbsent"]))
        matchers = [{"name": "alertname", "value": name}]
        if draw(st.booleans()):
            matchers.append({"name": "severity", "value": draw(st.sampled_from(["warning", "critical", "info"]))})
        silences.append({"name": f"s{index}", "matchers": matchers, "comment": "c"})
    alerting["silences"] = silences
    spec["alerting"] = alerting
    if draw(st.booleans()):
        spec["controlPlane"] = {"distribution": "kubeadm", "metricsExposed": True}
    return spec


def config_of(spec: dict) -> dict:
    config = protected_config()
    config["spec"].update(spec)
    return config


@settings(max_examples=40, deadline=None)
@given(modes())
def test_every_combination_renders_valid_objects_the_charts_know(spec: dict):
    loaded, errors = config_model.load(config_of(spec))
    assert loaded is not None, [e.message for e in errors]
    generated = components.generate(loaded)
    (kps,) = [o for o in generated if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"]
    values = kps["spec"]["values"]
    # Alertmanager mounts keys of the stack Secret the stack reads, whoever makes it (External Secrets or you).
    for volume in values["alertmanager"]["alertmanagerSpec"].get("volumes", []):
        assert volume["secret"]["secretName"] == loaded.secret_name
        assert {item["key"] for item in volume["secret"]["items"]} <= set(required_keys(loaded))
        if loaded.alerting.heartbeat is not None and loaded.alerting.heartbeat.token_key:
            assert loaded.alerting.heartbeat.token_key in {item["key"] for item in volume["secret"]["items"]}
    if loaded.grafana_operator is not None:  # the chart's Grafana is off: no sidecar Role, no values for it
        assert not [o for o in generated if o["kind"] in ("Role", "RoleBinding")]
        assert values["grafana"]["enabled"] is False and "rbac" not in values["grafana"]
    for obj in generated:
        if obj["apiVersion"].startswith(OPERATOR_GROUPS):
            assert list(validation.validate(obj, loaded.kubernetes_version)) == [], obj["kind"]
        if obj["kind"] == "HelmRelease":
            chart = obj["spec"]["chart"]["spec"]
            assert paths.unknown_paths(chart["chart"], chart["version"], obj["spec"]["values"]) == []
        if obj["kind"] == "ExternalSecret":
            secret = loaded.external_secret
            assert secret is not None
            assert obj["spec"]["target"]["name"] == loaded.secret_name
            written = [d["secretKey"] for d in obj["spec"]["data"]]
            wanted = [k for k in required_keys(loaded) if secret.source(k) is not None]
            assert written == wanted
            unmapped = {k for k in required_keys(loaded) if secret.source(k) is None}
            errors_on = [r for r in check_external_secret(context(config=config_of(spec))) if r.is_error]
            assert len(errors_on) == len(unmapped)


@settings(max_examples=40, deadline=None)
@given(modes())
def test_a_silence_is_an_error_exactly_when_no_defined_alert_matches_it(spec: dict):
    loaded, errors = config_model.load(config_of(spec))
    assert loaded is not None, [e.message for e in errors]
    generated = components.generate(loaded)
    (kps,) = [o for o in generated if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"]
    values = kps["spec"]["values"]
    defined = dict(alerts.default_alerts(loaded.chart_data["kube-prometheus-stack"], values))
    for rule_set in values["additionalPrometheusRulesMap"].values():
        for group in rule_set["groups"]:
            defined.update({r["alert"]: r["labels"]["severity"] for r in group["rules"] if "alert" in r})
    results = [r for r in check_silences(context(config=config_of(spec))) if r.is_error]
    flagged = {r.field for r in results}
    for index, silence in enumerate(loaded.alerting.silences):
        wanted = {m.name: m.value for m in silence.matchers}
        severity = defined.get(wanted["alertname"])
        matched = severity is not None and wanted.get("severity", severity) == severity
        field = f"spec.alerting.silences[{index}].matchers"
        assert (field in flagged) == (not matched), (silence, severity)
