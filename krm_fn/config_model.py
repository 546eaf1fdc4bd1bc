"""The typed, frozen ObservabilityConfig the components read: one record per part of `spec`.

krm_fn/config.py builds it from a validated config (`load`); nothing here reads YAML or a schema.
"""

from __future__ import annotations

from krm_fn.charts import Service
from krm_fn.record import Record
from krm_fn.results import Location, ResourceRef, Severity

API_VERSION = "observability.catinthehack.ca/v1alpha1"
KIND = "ObservabilityConfig"
UI_NAMES = ("grafana", "prometheus", "alertmanager", "alloy")
CHART_NAMES = ("kube-prometheus-stack", "loki", "alloy", "thanos")


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
