"""The ObservabilityConfig model: `load()` validates a config (krm_fn/config_schema.py, against the
JSON Schema that is the single source of truth for validity and defaults), resolves its chart
versions (krm_fn/charts/versions.py) and builds the typed, frozen `Config` the components read.
"""

from __future__ import annotations

from collections.abc import Callable

from krm_fn.charts import Service, versions
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
from krm_fn.record import Record
from krm_fn.results import Location, ResourceRef, Result, Severity
from krm_fn.rules import CONFIG_SCHEMA

# The schema layer's names, as the rest of the package and the tests know them.
__all__ = ["SCHEMA_FILE", "apply_defaults", "schema", "schema_text"]
_resolve_ref = resolve_ref

API_VERSION = "observability.catinthehack.ca/v1alpha1"
KIND = "ObservabilityConfig"
UI_NAMES = ("grafana", "prometheus", "alertmanager", "alloy")
CHART_NAMES = ("kube-prometheus-stack", "loki", "alloy", "thanos")
RULE = CONFIG_SCHEMA


# --- the model -----------------------------------------------------------------------------


class Resources(Record):
    requests: dict[str, str]
    limits: dict[str, str]

    def to_values(self) -> dict:
        """As a container `resources` block (empty sections left out)."""
        out: dict[str, dict[str, str]] = {}
        if self.requests:
            out["requests"] = dict(self.requests)
        if self.limits:
            out["limits"] = dict(self.limits)
        return out


class Workload(Record):
    """Sizing of one component; retention and storage only where the component has them."""

    resources: Resources
    storage_size: str | None = None
    retention: str | None = None
    storage_class: str | None = None  # its own class, else spec.storageClass (Config.storage_class_of)
    persistence: bool = True  # Grafana only: spec.grafana.persistence


class Gateway(Record):
    name: str
    namespace: str
    section_name: str | None = None
    scheme: str = "https"


class AccessPolicy(Record):
    allow_networks: tuple[str, ...] = ()
    basic_auth: bool = False
    forward_auth: dict | None = None  # {"address": ..., "authResponseHeaders": [...]}
    filters: tuple[dict, ...] = ()

    @property
    def is_open(self) -> bool:
        """True when the policy restricts nothing (filters count only with implementation: filters)."""
        return not (self.allow_networks or self.basic_auth or self.forward_auth)


class UI(Record):
    name: str
    enabled: bool
    hostname: str  # explicit, or <name>.<domain>
    access: AccessPolicy | None = None  # its own policy; None: spec.access.all


class PushoverLevel(Record):
    priority: int
    retry: str | None = None
    expire: str | None = None
    sound: str | None = None


class Pushover(Record):
    enabled: bool
    critical: PushoverLevel
    warning: PushoverLevel
    flux: PushoverLevel
    resolved_priority: int = -1
    ttl: str | None = None
    link: str = "silence"  # silence | source | alertmanager
    labels: tuple[str, ...] = ()


class Heartbeat(Record):
    url_key: str  # key of the stack Secret holding the webhook URL
    repeat_interval: str
    token_key: str | None = None  # key of the stack Secret holding a bearer token (Gatus)


class SilenceMatcher(Record):
    name: str
    value: str
    match_type: str  # = != =~ !~


class Silence(Record):
    """One of spec.alerting.silences: a silence-operator Silence."""

    name: str
    matchers: tuple[SilenceMatcher, ...]
    comment: str
    expires: str | None = None  # YYYY-MM-DD or RFC 3339
    external: bool = False  # matches alerts defined outside the stack


class Alerting(Record):
    group_by: tuple[str, ...]
    group_wait: str
    group_interval: str
    repeat_interval: str
    resolve_timeout: str
    pushover: Pushover
    heartbeat: Heartbeat | None
    cert_manager: bool = False
    disabled_rules: tuple[str, ...] = ()
    silences: tuple[Silence, ...] = ()


class NamespaceMetadata(Record):
    pod_security: str  # privileged | baseline | restricted | none
    labels: dict[str, str]
    annotations: dict[str, str]


class ControlPlane(Record):
    distribution: str  # generic | talos | k3s | kubeadm | managed
    metrics_exposed: bool


class Flux(Record):
    namespace: str
    event_severity: str
    event_sources: tuple[str, ...]
    distribution: str  # auto, upstream or flux-operator: which Flux CRD schemas apply
    unknown_for: str = "1h"
    event_namespaces: tuple[str, ...] = ()  # besides the Flux and the stack namespace


class GrafanaOperator(Record):
    """spec.grafana.operator: the grafana-operator instance that runs Grafana (spec.grafana.mode: operator)."""

    match_labels: dict[str, str]  # instanceSelector.matchLabels of every object written for it
    service: Service  # the Service the operator makes for the instance, in spec.namespace


class ExternalSecretKey(Record):
    """Where External Secrets reads one stack key: the store's key and, optionally, a property of it."""

    key: str
    property: str | None = None


class ExternalSecret(Record):
    """spec.secret.externalSecret: External Secrets Operator creates the stack Secret from a store."""

    store_kind: str  # SecretStore | ClusterSecretStore
    store_name: str
    remote_key: str | None
    refresh_interval: str
    keys: dict[str, ExternalSecretKey]  # stack key -> where it is read, for the keys mapped explicitly

    def source(self, stack_key: str) -> ExternalSecretKey | None:
        """Where `stack_key` is read: its mapping, else the property of its name in remoteKey; None if neither."""
        if stack_key in self.keys:
            return self.keys[stack_key]
        return ExternalSecretKey(self.remote_key, stack_key) if self.remote_key else None


class Dashboards(Record):
    enabled: bool
    folder: str


class ThanosRetention(Record):
    raw: str
    downsampled_5m: str
    downsampled_1h: str


class ObjectStorage(Record):
    """S3-compatible object storage for Loki (Monolithic and SimpleScalable)."""

    endpoint: str
    region: str
    path_style: bool
    insecure: bool
    loki_chunks_bucket: str
    loki_ruler_bucket: str


# What each profile picks for the fields a user may leave out (spec.<component>.replicas,
# spec.loki.mode, spec.thanos.enabled). The schema cannot hold these: they depend on spec.profile.
PROFILE_DEFAULTS: dict[str, dict] = {
    "single-node": {
        "prometheus_replicas": 1,
        "alertmanager_replicas": 1,
        "loki_mode": "SingleBinary",
        "loki_replicas": 1,
        "thanos": False,
    },
    "ha": {
        "prometheus_replicas": 2,
        "alertmanager_replicas": 3,
        "loki_mode": "Monolithic",
        "loki_replicas": 3,
        "thanos": True,
    },
}
# Loki's modes that keep the logs in object storage (spec.objectStorage).
OBJECT_STORAGE_MODES = ("Monolithic", "SimpleScalable")


class Topology(Record):
    """How many of each component run, and where: spec.profile with the per-component overrides applied."""

    profile: str  # single-node | ha
    nodes: int | None
    prometheus_replicas: int
    alertmanager_replicas: int
    grafana_replicas: int
    loki_mode: str  # SingleBinary | Monolithic | SimpleScalable
    loki_replicas: int
    loki_replication_factor: int
    thanos: bool  # Thanos sidecar, Query, Store Gateway and Compactor (spec.thanos.enabled)
    object_storage: ObjectStorage | None

    @property
    def ha(self) -> bool:
        return self.profile == "ha"

    def spread(self, replicas: int) -> bool:
        """Keep `replicas` on separate nodes (required anti-affinity): when the nodes allow it, or are not declared."""
        return replicas > 1 and (self.nodes is None or self.nodes >= replicas)


class GrafanaDatabase(Record):
    url_key: str  # key of the stack Secret holding the database URL


class Config(Record):
    """A validated ObservabilityConfig with every default applied."""

    name: str
    cluster: str
    domain: str
    namespace: str
    namespace_metadata: NamespaceMetadata
    storage_class: str | None
    kubernetes_version: str
    control_plane: ControlPlane
    gateway: Gateway | None
    secret_name: str
    ui: tuple[UI, ...]
    charts: dict[str, str]  # chart name -> exact version, as the user wrote it
    chart_data: dict[str, str]  # chart name -> the known release whose values knowledge applies
    chart_source: str  # "https" or "oci"
    values: dict[str, dict]  # chart name -> user overrides
    prometheus: Workload
    thanos: Workload
    thanos_retention: ThanosRetention
    alertmanager: Workload
    grafana: Workload
    grafana_database: GrafanaDatabase | None
    node_exporter: Workload
    kube_state_metrics: Workload
    loki: Workload
    alloy: Workload
    alerting: Alerting
    flux: Flux
    plaintext_secrets_severity: Severity
    topology: Topology
    rule_severities: tuple[tuple[str, str], ...] = ()  # spec.checks.rules: (rule id, severity or "off")
    dashboards: Dashboards = Dashboards(True, "Observability")
    access_implementation: str = "traefik"
    access_all: AccessPolicy | None = None
    external_secret: ExternalSecret | None = None  # None: the stack Secret is the user's (SOPS)
    grafana_operator: GrafanaOperator | None = None  # None: kube-prometheus-stack's Grafana (mode: sidecar)
    location: Location | None = None

    @property
    def exposed_uis(self) -> tuple[UI, ...]:
        return tuple(ui for ui in self.ui if ui.enabled)

    def external_url(self, name: str) -> str | None:
        """The public URL of UI `name` when it is exposed through the Gateway; else None."""
        for ui in self.exposed_uis:
            if ui.name == name and self.gateway is not None:
                return f"{self.gateway.scheme}://{ui.hostname}"
        return None

    def storage_class_of(self, workload: Workload) -> str | None:
        """The StorageClass of a component's volumes: its own, else spec.storageClass (None: the cluster's default)."""
        return workload.storage_class or self.storage_class

    def access_for(self, ui: UI) -> AccessPolicy | None:
        """The access policy of an exposed UI: its own, else spec.access.all; None when it has none."""
        policy = ui.access if ui.access is not None else self.access_all
        if policy is None:
            return None
        if self.access_implementation == "filters":
            return policy if policy.filters else None
        return None if policy.is_open else policy

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(API_VERSION, KIND, self.name)


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
