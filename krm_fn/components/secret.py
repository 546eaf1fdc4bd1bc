"""The stack Secret: which keys the stack reads from it, and, in ExternalSecret mode, the ExternalSecret.

By default the Secret is the user's, SOPS-encrypted, and nothing is generated for it. With
spec.secret.externalSecret, External Secrets Operator creates it: one `ExternalSecret`
(external-secrets.io/v1, the version external-secrets v2.9.0 serves) named like the Secret, with a
`data` entry per key the stack reads. Field names and defaults: docs/reference/operators.md#1-external-secrets.
"""

from __future__ import annotations

from krm_fn.components import alerting, profile
from krm_fn.components.common import metadata
from krm_fn.components.routes import basic_auth_key
from krm_fn.config import Config

API_VERSION = "external-secrets.io/v1"
KIND = "ExternalSecret"

# The Secret keys Grafana reads its admin login from (grafana-11.3.7 values.yaml:503-507).
GRAFANA_ADMIN_USER_KEY = "grafana-admin-user"
GRAFANA_ADMIN_PASSWORD_KEY = "grafana-admin-password"


def required_keys(config: Config) -> dict[str, str]:
    """The keys the stack reads from its Secret, each with what reads it."""
    keys = {}
    if config.alerting.pushover.enabled:
        keys[alerting.USER_KEY] = "Alertmanager's Pushover user_key_file"
        keys[alerting.API_TOKEN] = "Alertmanager's Pushover token_file"
    if config.alerting.heartbeat is not None:
        keys[config.alerting.heartbeat.url_key] = "Alertmanager's heartbeat webhook url_file"
        if config.alerting.heartbeat.token_key:
            keys[config.alerting.heartbeat.token_key] = "Alertmanager's heartbeat bearer token (credentials_file)"
    htpasswd = basic_auth_key(config)
    if htpasswd:
        keys[htpasswd] = f"the {config.access_implementation} basic auth of the exposed UIs (htpasswd lines)"
    if config.grafana_operator is None:  # grafana-operator's instance has its own admin Secret
        keys[GRAFANA_ADMIN_USER_KEY] = "Grafana's admin.existingSecret userKey"
        keys[GRAFANA_ADMIN_PASSWORD_KEY] = "Grafana's admin.existingSecret passwordKey"
    keys.update(profile.secret_keys(config))  # object storage, when the topology needs it
    return keys


def external_secret(config: Config) -> dict:
    """The ExternalSecret that makes External Secrets create the stack Secret, one data entry per key read.

    A key neither mapped in spec.secret.externalSecret.keys nor covered by remoteKey is left out
    (the `external-secret` rule reports it), so the object stays valid while the config is wrong.
    """
    spec = config.external_secret
    assert spec is not None
    data = []
    for key in required_keys(config):
        source = spec.source(key)
        if source is None:
            continue
        remote: dict = {"key": source.key}
        if source.property is not None:
            remote["property"] = source.property
        data.append({"secretKey": key, "remoteRef": remote})
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata(config.secret_name, config.namespace),
        "spec": {
            "refreshInterval": spec.refresh_interval,
            "secretStoreRef": {"kind": spec.store_kind, "name": spec.store_name},
            # Owner: the Secret is External Secrets' own and goes when the ExternalSecret goes (the CRD's default).
            "target": {"name": config.secret_name, "creationPolicy": "Owner"},
            "data": data,
        },
    }


def resources(config: Config) -> list[dict]:
    """The ExternalSecret in ExternalSecret mode; nothing when the Secret is the user's."""
    return [external_secret(config)] if config.external_secret is not None else []
