"""spec.secret.externalSecret: the ExternalSecret the function writes, and the `external-secret` rule.

A passing and a failing case for each thing the rule checks; the SOPS rules leave the stack Secret
alone in this mode, and SOPS users' output does not change (tests/test_golden.py holds that).
"""

from __future__ import annotations

import pytest

from krm_fn import components, validation
from krm_fn.checks import secrets, stack_secret
from krm_fn.checks.external_secret import check_external_secret, seconds
from krm_fn.components.secret import required_keys
from tests.helpers import REPO, config_with, context, load, protected_config, rule_run

STORE = {"kind": "ClusterSecretStore", "name": "onepassword"}
SOPS_SECRET = (REPO / "third_party/upstream/sops/monitoring-secrets.enc.yaml").read_text()


def es_config(**external) -> dict:
    """tests.helpers.protected_config with Pushover back on: its two keys are among those the store holds."""
    config = protected_config()
    del config["spec"]["alerting"]
    config["spec"]["secret"] = {"name": "monitoring-secrets", "externalSecret": {"storeRef": STORE, **external}}
    return config


def external_secret(config: dict) -> dict:
    (obj,) = [o for o in components.generate(load(config)) if o["kind"] == "ExternalSecret"]
    return obj


def findings(config: dict, files: dict[str, str] | None = None, check_all: bool = False) -> list[tuple[str, str]]:
    ctx = context(files, config)
    ctx.check_all_kinds = check_all
    return [(r.severity.value, r.field or "") for r in check_external_secret(ctx) if r.severity.value != "info"]


# --- what is generated ----------------------------------------------------------------------------


def test_one_item_holds_every_key_as_a_property_of_its_own_name():
    obj = external_secret(es_config(remoteKey="observability"))
    assert obj["apiVersion"] == "external-secrets.io/v1"
    assert obj["metadata"]["name"] == obj["spec"]["target"]["name"] == "monitoring-secrets"
    assert obj["spec"]["secretStoreRef"] == STORE
    assert obj["spec"]["refreshInterval"] == "1h"
    assert obj["spec"]["data"] == [
        {"secretKey": key, "remoteRef": {"key": "observability", "property": key}}
        for key in required_keys(load(es_config(remoteKey="observability")))
    ]


def test_a_mapped_key_is_read_from_its_own_item_and_property_or_whole_value():
    keys = {"pushover-user-key": {"key": "pushover", "property": "user-key"}, "grafana-admin-user": {"key": "admin"}}
    obj = external_secret(es_config(remoteKey="o11y", keys=keys))
    data = {d["secretKey"]: d["remoteRef"] for d in obj["spec"]["data"]}
    assert data["pushover-user-key"] == {"key": "pushover", "property": "user-key"}
    assert data["grafana-admin-user"] == {"key": "admin"}
    assert data["pushover-api-token"] == {"key": "o11y", "property": "pushover-api-token"}


def test_the_keys_follow_what_the_stack_reads():
    config = es_config(remoteKey="o11y")
    config["spec"]["alerting"] = {"heartbeat": {}, "pushover": {"enabled": False}}
    keys = [d["secretKey"] for d in external_secret(config)["spec"]["data"]]
    assert keys == ["heartbeat-url", "grafana-admin-user", "grafana-admin-password"]


def test_a_heartbeat_bearer_token_is_an_entry_and_a_file_alertmanager_mounts():
    """Gatus' token (spec.alerting.heartbeat.tokenKey): External Secrets writes it into the Secret, and
    Alertmanager's key volume mounts it where the webhook's credentials_file points."""
    config = es_config(remoteKey="o11y", keys={"gatus-token": {"key": "gatus", "property": "token"}})
    config["spec"]["alerting"] = {"heartbeat": {"tokenKey": "gatus-token"}}
    generated = components.generate(load(config))
    (obj,) = [o for o in generated if o["kind"] == "ExternalSecret"]
    data = {d["secretKey"]: d["remoteRef"] for d in obj["spec"]["data"]}
    assert data["gatus-token"] == {"key": "gatus", "property": "token"}
    assert data["heartbeat-url"] == {"key": "o11y", "property": "heartbeat-url"}
    (kps,) = [o for o in generated if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"]
    alertmanager = kps["spec"]["values"]["alertmanager"]
    (volume,) = alertmanager["alertmanagerSpec"]["volumes"]
    assert volume["secret"]["secretName"] == obj["spec"]["target"]["name"]
    mounted = [item["key"] for item in volume["secret"]["items"]]
    assert mounted == ["gatus-token", "heartbeat-url", "pushover-api-token", "pushover-user-key"]
    assert set(mounted) <= set(data)
    (mount,) = alertmanager["alertmanagerSpec"]["volumeMounts"]
    (heartbeat,) = [r for r in alertmanager["config"]["receivers"] if r["name"] == "heartbeat"]
    (webhook,) = heartbeat["webhook_configs"]
    assert webhook["http_config"]["authorization"]["credentials_file"] == f"{mount['mountPath']}/gatus-token"
    assert findings(config) == []


def test_an_unmapped_heartbeat_token_is_an_error_naming_it():
    keys = {k: {"key": "item", "property": k} for k in required_keys(load(es_config(remoteKey="x")))}
    config = es_config(keys={**keys, "heartbeat-url": {"key": "gatus", "property": "url"}})
    config["spec"]["alerting"] = {"heartbeat": {"tokenKey": "gatus-token"}}
    results = [r for r in rule_run(check_external_secret, config=config) if r.is_error]
    assert [r.field for r in results] == ["spec.secret.externalSecret.keys"]
    assert "key 'gatus-token' (Alertmanager's heartbeat bearer token" in results[0].message


def test_the_external_secret_validates_against_external_secrets_v2_9_crd():
    obj = external_secret(es_config(remoteKey="observability", refreshInterval="15m"))
    assert validation.schema_for(obj["apiVersion"], obj["kind"], "1.32") is not None
    assert list(validation.validate(obj, "1.32")) == []


def test_sops_mode_generates_no_external_secret():
    assert not [o for o in components.generate(load(protected_config())) if o["kind"] == "ExternalSecret"]


# --- the rule -------------------------------------------------------------------------------------


def test_a_complete_mapping_has_no_finding_and_one_info_line():
    results = rule_run(check_external_secret, config=es_config(remoteKey="observability"))
    assert [(r.severity.value, r.field) for r in results] == [("info", "spec.secret.externalSecret")]
    assert "SOPS rules" in results[0].message


def test_without_remote_key_every_unmapped_key_is_an_error():
    keys = {"pushover-user-key": {"key": "pushover", "property": "user"}}
    got = findings(es_config(keys=keys))
    assert got == [("error", "spec.secret.externalSecret.keys")] * 3  # api token, grafana user, grafana password


def test_without_remote_key_a_full_mapping_passes():
    keys = {k: {"key": "item", "property": k} for k in required_keys(load(es_config(remoteKey="x")))}
    assert findings(es_config(keys=keys)) == []


def test_a_mapping_of_a_key_the_stack_does_not_read_is_a_warning_with_the_nearest_name():
    results = rule_run(check_external_secret, config=es_config(remoteKey="o", keys={"pushover-userkey": {"key": "p"}}))
    (warning,) = [r for r in results if r.severity.value == "warning"]
    assert warning.field == "spec.secret.externalSecret.keys.pushover-userkey"
    assert "did you mean 'pushover-user-key'" in warning.message


@pytest.mark.parametrize(
    ("interval", "expected"),
    [("1h", []), ("5m", []), ("1m", []), ("12h", []), ("30s", ["warning"]), ("0", ["warning"]), ("0s", ["warning"])],
)
def test_refresh_interval(interval: str, expected: list[str]):
    got = findings(es_config(remoteKey="o", refreshInterval=interval))
    assert [severity for severity, _ in got] == expected


def test_go_durations():
    assert seconds("1h0m0s") == 3600
    assert seconds("1.5m") == 90
    assert seconds("500ms") == 0.5
    assert seconds("0") == 0


def test_a_bad_refresh_interval_is_a_config_error():
    from krm_fn import config as config_model

    _, errors = config_model.load(es_config(remoteKey="o", refreshInterval="1 hour"))
    assert [e.field for e in errors] == ["spec.secret.externalSecret.refreshInterval"]


CLUSTER_STORE = """
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: {name}
spec:
  provider:
    onepassword: {{connectHost: http://onepassword-connect:8080}}
"""
NAMESPACED_STORE = """
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata:
  name: vault
  namespace: {namespace}
spec:
  provider:
    vault: {{server: http://vault:8200}}
"""


def test_the_named_store_in_the_pipeline_passes():
    assert findings(es_config(remoteKey="o"), {"store.yaml": CLUSTER_STORE.format(name="onepassword")}) == []


def test_no_store_in_the_pipeline_is_not_a_finding():
    """The stores are often in another Flux Kustomization or repository: nothing to compare with."""
    assert findings(es_config(remoteKey="o"), {}) == []


def test_another_store_in_the_pipeline_names_the_nearest():
    files = {"store.yaml": CLUSTER_STORE.format(name="onepassword-connect")}
    results = rule_run(check_external_secret, files, es_config(remoteKey="o"))
    results = [r for r in results if r.severity.value != "info"]
    assert [(r.severity.value, r.field) for r in results] == [("warning", "spec.secret.externalSecret.storeRef.name")]
    assert "did you mean 'onepassword-connect'?" in results[0].message
    # `check` sees the whole cluster: there it is an error.
    assert findings(es_config(remoteKey="o"), files, check_all=True) == [
        ("error", "spec.secret.externalSecret.storeRef.name")
    ]


def test_a_secret_store_must_be_in_the_stack_namespace():
    config = es_config(remoteKey="o")
    config["spec"]["secret"]["externalSecret"]["storeRef"] = {"name": "vault"}  # kind: SecretStore, the default
    assert findings(config, {"s.yaml": NAMESPACED_STORE.format(namespace="monitoring")}) == []
    results = rule_run(check_external_secret, {"s.yaml": NAMESPACED_STORE.format(namespace="vault")}, config)
    (problem,) = [r for r in results if r.severity.value != "info"]
    assert "is in namespace vault" in problem.message


def test_a_committed_stack_secret_competes_with_external_secrets():
    results = rule_run(check_external_secret, {"secret.yaml": SOPS_SECRET}, es_config(remoteKey="o"))
    (error,) = [r for r in results if r.severity.value == "error"]
    assert error.resource is not None and error.resource.name == "monitoring-secrets"
    assert "delete this file" in error.message


def test_the_sops_rules_leave_the_stack_secret_alone_in_external_secret_mode():
    plaintext = """
apiVersion: v1
kind: Secret
metadata: {name: monitoring-secrets, namespace: monitoring}
stringData: {pushover-user-key: plain}
"""
    config = es_config(remoteKey="o")
    for check in (stack_secret.secret_present, stack_secret.secret_required_keys, secrets.secret_encrypted):
        assert rule_run(check, {"s.yaml": plaintext}, config) == []
        assert rule_run(check, {}, config) == []
    assert rule_run(secrets.secret_plaintext, {"s.yaml": plaintext}, config) == []
    # ...but still check the other Secrets.
    other = plaintext.replace("monitoring-secrets", "other")
    assert [r.rule for r in rule_run(secrets.secret_plaintext, {"s.yaml": other}, config)] == ["secret-plaintext"]


def test_in_sops_mode_the_rule_says_nothing():
    assert rule_run(check_external_secret, {}, config_with()) == []
