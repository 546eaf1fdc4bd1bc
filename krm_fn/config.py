"""The ObservabilityConfig: `load()` validates a config (krm_fn/config_schema.py, against the
JSON Schema that is the single source of truth for validity and defaults), resolves its chart
versions (krm_fn/charts/versions.py) and builds the typed, frozen `Config` the components read
(its records are in krm_fn/config_model.py; this module re-exports them).
"""

from __future__ import annotations

from collections.abc import Callable

from krm_fn.charts import Service, versions
from krm_fn.config_model import (
    API_VERSION,
    CHART_NAMES,
    KIND,
    OBJECT_STORAGE_MODES,
    PROFILE_DEFAULTS,
    UI,
    UI_NAMES,
    AccessPolicy,
    Alerting,
    Config,
    ControlPlane,
    Dashboards,
    ExternalSecret,
    ExternalSecretKey,
    Flux,
    Gateway,
    GrafanaDatabase,
    GrafanaOperator,
    Heartbeat,
    NamespaceMetadata,
    ObjectStorage,
    Pushover,
    PushoverLevel,
    Resources,
    Silence,
    SilenceMatcher,
    ThanosRetention,
    Topology,
    Workload,
)
from krm_fn.config_schema import (
    SCHEMA_FILE,
    apply_defaults,
    dotted,
    message,
    resolve_ref,
    schema,
    schema_text,
    validate,
)
from krm_fn.plain import plain_copy
from krm_fn.results import Location, ResourceRef, Result, Severity
from krm_fn.rules import CONFIG_SCHEMA

__all__ = [  # the schema layer's and the model's names, as the rest of the package and the tests know them
    "SCHEMA_FILE",
    "UI",
    "AccessPolicy",
    "Alerting",
    "Config",
    "ControlPlane",
    "Dashboards",
    "ExternalSecret",
    "ExternalSecretKey",
    "Flux",
    "Gateway",
    "GrafanaDatabase",
    "GrafanaOperator",
    "Heartbeat",
    "NamespaceMetadata",
    "ObjectStorage",
    "Pushover",
    "PushoverLevel",
    "Resources",
    "Silence",
    "SilenceMatcher",
    "ThanosRetention",
    "Topology",
    "Workload",
    "apply_defaults",
    "schema",
    "schema_text",
]
_resolve_ref = resolve_ref

RULE = CONFIG_SCHEMA


def _workload(spec: dict) -> Workload:
    res = spec["resources"]
    return Workload(
        resources=Resources(dict(res.get("requests", {})), dict(res.get("limits", {}))),
        storage_size=spec.get("storageSize"),
        retention=spec.get("retention"),
        storage_class=spec.get("storageClass"),
        persistence=spec.get("persistence", True),
    )


def _access(spec: dict | None) -> AccessPolicy | None:
    if spec is None:
        return None
    return AccessPolicy(
        tuple(spec.get("allowNetworks", ())),
        spec.get("basicAuth", False),
        plain_copy(spec.get("forwardAuth")),
        tuple(plain_copy(spec.get("filters", []))),
    )


def _topology(spec: dict) -> Topology:
    profile = spec["profile"]
    chosen = PROFILE_DEFAULTS[profile]
    loki = spec["loki"]
    mode = loki.get("mode", chosen["loki_mode"])
    loki_replicas = loki.get("replicas", chosen["loki_replicas"] if mode in OBJECT_STORAGE_MODES else 1)
    # 3 copies where there are 3 writers (quorum 2 survives one down); 2 would need both, so 1 below 3.
    replication_factor = 3 if mode in OBJECT_STORAGE_MODES and loki_replicas >= 3 else 1
    # A second Grafana only with a shared database: each replica would keep its own logins otherwise.
    grafana_replicas = 2 if profile == "ha" and spec["grafana"].get("database") else 1
    store = spec.get("objectStorage")
    return Topology(
        profile=profile,
        nodes=spec.get("nodes"),
        prometheus_replicas=spec["prometheus"].get("replicas", chosen["prometheus_replicas"]),
        alertmanager_replicas=spec["alertmanager"].get("replicas", chosen["alertmanager_replicas"]),
        grafana_replicas=spec["grafana"].get("replicas", grafana_replicas),
        loki_mode=mode,
        loki_replicas=loki_replicas,
        loki_replication_factor=loki.get("replicationFactor", replication_factor),
        thanos=spec["thanos"].get("enabled", chosen["thanos"]),
        object_storage=ObjectStorage(
            store["endpoint"],
            store["region"],
            store["pathStyle"],
            store["insecure"],
            store["buckets"]["lokiChunks"],
            store["buckets"]["lokiRuler"],
        )
        if store
        else None,
    )


def _external_secret(spec: dict | None) -> ExternalSecret | None:
    if spec is None:
        return None
    return ExternalSecret(
        spec["storeRef"]["kind"],
        spec["storeRef"]["name"],
        spec.get("remoteKey"),
        spec["refreshInterval"],
        {key: ExternalSecretKey(ref["key"], ref.get("property")) for key, ref in spec["keys"].items()},
    )


def _grafana_operator(spec: dict) -> GrafanaOperator | None:
    if spec["mode"] != "operator":
        return None
    operator = spec["operator"]
    service = operator["service"]
    return GrafanaOperator(dict(operator["instanceSelector"]["matchLabels"]), Service(service["name"], service["port"]))


def _silence(spec: dict) -> Silence:
    matchers = tuple(SilenceMatcher(m["name"], m["value"], m["matchType"]) for m in spec["matchers"])
    return Silence(spec["name"], matchers, spec["comment"], spec.get("expires"), spec["external"])


def _pushover_level(spec: dict) -> PushoverLevel:
    return PushoverLevel(spec["priority"], spec.get("retry"), spec.get("expire"), spec.get("sound"))


def _build(obj: dict, location: Location | None, chart_data: dict[str, str]) -> Config:
    spec = obj["spec"]
    gateway = spec.get("gateway")
    alerting = spec["alerting"]
    pushover = alerting["pushover"]
    heartbeat = alerting.get("heartbeat")
    flux = spec["flux"]
    ns_meta = spec["namespaceMetadata"]
    control_plane = spec["controlPlane"]
    return Config(
        name=obj["metadata"]["name"],
        cluster=spec["cluster"],
        domain=spec["domain"],
        namespace=spec["namespace"],
        namespace_metadata=NamespaceMetadata(
            ns_meta["podSecurity"], dict(ns_meta["labels"]), dict(ns_meta["annotations"])
        ),
        storage_class=spec.get("storageClass"),
        kubernetes_version=spec["kubernetesVersion"],
        control_plane=ControlPlane(control_plane["distribution"], control_plane["metricsExposed"]),
        gateway=(
            Gateway(gateway["name"], gateway["namespace"], gateway.get("sectionName"), gateway["scheme"])
            if gateway
            else None
        ),
        secret_name=spec["secret"]["name"],
        ui=tuple(
            UI(
                name,
                spec["ui"][name]["enabled"],
                spec["ui"][name].get("hostname") or f"{name}.{spec['domain']}",
                _access(spec["ui"][name].get("access")),
            )
            for name in UI_NAMES
        ),
        charts={name: spec["charts"][name]["version"] for name in CHART_NAMES},
        chart_data=dict(chart_data),
        chart_source=spec["charts"]["source"],
        values={name: plain_copy(spec["values"][name]) for name in CHART_NAMES},
        prometheus=_workload(spec["prometheus"]),
        thanos=_workload(spec["thanos"]),
        thanos_retention=ThanosRetention(
            spec["thanos"]["retention"]["raw"],
            spec["thanos"]["retention"]["downsampled5m"],
            spec["thanos"]["retention"]["downsampled1h"],
        ),
        alertmanager=_workload(spec["alertmanager"]),
        grafana=_workload(spec["grafana"]),
        grafana_database=(
            GrafanaDatabase(spec["grafana"]["database"]["urlKey"]) if spec["grafana"].get("database") else None
        ),
        node_exporter=_workload(spec["nodeExporter"]),
        kube_state_metrics=_workload(spec["kubeStateMetrics"]),
        loki=_workload(spec["loki"]),
        alloy=_workload(spec["alloy"]),
        alerting=Alerting(
            group_by=tuple(alerting["groupBy"]),
            group_wait=alerting["groupWait"],
            group_interval=alerting["groupInterval"],
            repeat_interval=alerting["repeatInterval"],
            resolve_timeout=alerting["resolveTimeout"],
            pushover=Pushover(
                pushover["enabled"],
                _pushover_level(pushover["critical"]),
                _pushover_level(pushover["warning"]),
                _pushover_level(pushover["flux"]),
                pushover["resolvedPriority"],
                pushover.get("ttl"),
                pushover["link"],
                tuple(pushover["labels"]),
            ),
            heartbeat=Heartbeat(heartbeat["urlKey"], heartbeat["repeatInterval"], heartbeat.get("tokenKey"))
            if heartbeat
            else None,
            cert_manager=alerting["certManager"],
            disabled_rules=tuple(alerting["disabledRules"]),
            silences=tuple(_silence(s) for s in alerting["silences"]),
        ),
        flux=Flux(
            flux["namespace"],
            flux["eventSeverity"],
            tuple(flux["eventSources"]),
            flux["distribution"],
            flux["unknownFor"],
            tuple(flux["eventNamespaces"]),
        ),
        plaintext_secrets_severity=Severity(spec["checks"]["plaintextSecrets"]),
        rule_severities=tuple(sorted(spec["checks"].get("rules", {}).items())),
        dashboards=Dashboards(spec["dashboards"]["enabled"], spec["dashboards"]["folder"]),
        access_implementation=spec["access"]["implementation"],
        access_all=_access(spec["access"].get("all")),
        external_secret=_external_secret(spec["secret"].get("externalSecret")),
        grafana_operator=_grafana_operator(spec["grafana"]),
        location=location,
        topology=_topology(spec),
    )


# What each access implementation can write (routes.py); anything else would be silently dropped.
_ACCESS_FIELDS = {
    "traefik": ("allowNetworks", "basicAuth", "forwardAuth"),
    "envoy-gateway": ("allowNetworks", "basicAuth"),
    "filters": ("filters",),
}


def _access_errors(spec: dict) -> list[tuple[list, str]]:
    """Access fields the chosen implementation cannot enforce: (field path, message)."""
    implementation = spec["access"]["implementation"]
    policies = [(["spec", "access", "all"], spec["access"].get("all"))]
    policies += [(["spec", "ui", name, "access"], spec["ui"][name].get("access")) for name in UI_NAMES]
    out = []
    for path, policy in policies:
        for key in sorted(policy or {}):
            if key not in _ACCESS_FIELDS[implementation] and policy[key] not in (False, [], None):
                out.append(
                    (
                        [*path, key],
                        f"spec.access.implementation {implementation} cannot enforce {key!r}; it takes "
                        f"{', '.join(_ACCESS_FIELDS[implementation])} (choose another implementation, or "
                        "write the equivalent filters with implementation: filters)",
                    )
                )
    return out


def is_config(obj: object) -> bool:
    """True for an object that declares itself an ObservabilityConfig (any version)."""
    return (
        isinstance(obj, dict)
        and obj.get("kind") == KIND
        and str(obj.get("apiVersion", "")).startswith("observability.catinthehack.ca/")
    )


def load(
    obj: dict, location: Location | None = None, locate: Callable[[list], Location] | None = None
) -> tuple[Config | None, list[Result]]:
    """Validate an ObservabilityConfig and build the model; (None, errors) when invalid.

    `locate` maps a field path to its place in the user's file, when the config came from one.
    """
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ref = ResourceRef(str(obj.get("apiVersion", API_VERSION)), KIND, str(meta.get("name", "")))
    if obj.get("apiVersion") != API_VERSION:
        return None, [
            Result(
                RULE,
                Severity.ERROR,
                f"apiVersion {obj.get('apiVersion')!r} is not supported; use {API_VERSION}",
                ref,
                "apiVersion",
                location,
            )
        ]
    instance = apply_defaults(obj)
    errors = validate(instance)
    if errors:
        results = []
        seen = set()
        for error in errors:
            parts, text = message(error)
            if (tuple(map(str, parts)), text) in seen:
                continue  # one rule across fields (an x-message) fails once per field
            seen.add((tuple(map(str, parts)), text))
            where = locate(parts) if locate else location
            results.append(Result(RULE, Severity.ERROR, text, ref, dotted(parts) or None, where))
        return None, results
    problems = _access_errors(instance["spec"])
    if problems:
        return None, [
            Result(RULE, Severity.ERROR, text, ref, dotted(parts), locate(parts) if locate else location)
            for parts, text in problems
        ]
    chart_data, chart_results = versions.chart_versions(instance, ref, locate or (lambda _: location))
    if any(r.severity == Severity.ERROR for r in chart_results):
        return None, chart_results
    return _build(instance, location, chart_data), chart_results
