"""The ObservabilityConfig model.

`schema/observabilityconfig.json` is the single source of truth: what is valid, and every
default (applied from its `default` keywords). This module validates a config against it,
turns each violation into a Result a person can act on ("unknown field 'retension', did you
mean 'retention'?"), and builds the typed, frozen `Config` the components read.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from functools import cache

from krm_fn import cache as validation_cache
from krm_fn import schemacheck
from krm_fn.charts import paths
from krm_fn.record import Record
from krm_fn.results import Location, ResourceRef, Result, Severity
from krm_fn.rules import CHART_VERSION, CONFIG_SCHEMA

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    from typing import Any

API_VERSION = "observability.catinthehack.ca/v1alpha1"
KIND = "ObservabilityConfig"
UI_NAMES = ("grafana", "prometheus", "alertmanager", "alloy")
CHART_NAMES = ("kube-prometheus-stack", "loki", "alloy", "thanos")
RULE = CONFIG_SCHEMA


# Next to this module (package data), not importlib.resources: start-up budget: docs/startup.md
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema", "observabilityconfig.json")


@cache
def schema() -> dict:
    """The JSON Schema of ObservabilityConfig, as shipped in the package."""
    return json.loads(schema_text())


def schema_text() -> str:
    with open(SCHEMA_FILE, encoding="utf-8") as handle:
        return handle.read()


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


class Alerting(Record):
    group_by: tuple[str, ...]
    group_wait: str
    group_interval: str
    repeat_interval: str
    resolve_timeout: str
    pushover: Pushover
    heartbeat: Heartbeat | None


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


class Dashboards(Record):
    enabled: bool
    folder: str


class ThanosRetention(Record):
    raw: str
    downsampled_5m: str
    downsampled_1h: str


class ObjectStorage(Record):
    """S3-compatible object storage shared by Loki (SimpleScalable) and the Thanos sidecar."""

    endpoint: str
    region: str
    path_style: bool
    insecure: bool
    loki_chunks_bucket: str
    loki_ruler_bucket: str


# What each profile picks for the fields a user may leave out (spec.<component>.replicas,
# spec.loki.mode, spec.alloy.clustering). The schema cannot hold these: they depend on spec.profile.
PROFILE_DEFAULTS: dict[str, dict] = {
    "single-node": {
        "prometheus_replicas": 1,
        "alertmanager_replicas": 1,
        "loki_mode": "SingleBinary",
        "loki_replicas": 1,
        "alloy_clustering": False,
    },
    "ha": {
        "prometheus_replicas": 2,
        "alertmanager_replicas": 3,
        "loki_mode": "SimpleScalable",
        "loki_replicas": 3,
        "alloy_clustering": True,
    },
}


class Topology(Record):
    """How many of each component run, and where: spec.profile with the per-component overrides applied."""

    profile: str  # single-node | ha
    nodes: int | None
    prometheus_replicas: int
    alertmanager_replicas: int
    loki_mode: str  # SingleBinary | SimpleScalable
    loki_replicas: int
    loki_replication_factor: int
    alloy_clustering: bool
    object_storage: ObjectStorage | None

    @property
    def ha(self) -> bool:
        return self.profile == "ha"

    @property
    def thanos(self) -> bool:
        """The Thanos sidecar uploads Prometheus' blocks (the ha profile)."""
        return self.ha


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
    )


def _access(spec: dict | None) -> AccessPolicy | None:
    if spec is None:
        return None
    return AccessPolicy(
        tuple(spec.get("allowNetworks", ())),
        spec.get("basicAuth", False),
        copy.deepcopy(spec.get("forwardAuth")),
        tuple(copy.deepcopy(spec.get("filters", []))),
    )


def _topology(spec: dict) -> Topology:
    profile = spec["profile"]
    chosen = PROFILE_DEFAULTS[profile]
    loki = spec["loki"]
    mode = loki.get("mode", chosen["loki_mode"])
    loki_replicas = loki.get("replicas", chosen["loki_replicas"] if mode == "SimpleScalable" else 1)
    # 3 copies where there are 3 writers (quorum 2 survives one down); 2 would need both, so 1 below 3.
    replication_factor = 3 if mode == "SimpleScalable" and loki_replicas >= 3 else 1
    store = spec.get("objectStorage")
    return Topology(
        profile=profile,
        nodes=spec.get("nodes"),
        prometheus_replicas=spec["prometheus"].get("replicas", chosen["prometheus_replicas"]),
        alertmanager_replicas=spec["alertmanager"].get("replicas", chosen["alertmanager_replicas"]),
        loki_mode=mode,
        loki_replicas=loki_replicas,
        loki_replication_factor=loki.get("replicationFactor", replication_factor),
        alloy_clustering=spec["alloy"].get("clustering", chosen["alloy_clustering"]),
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
        values={name: copy.deepcopy(spec["values"][name]) for name in CHART_NAMES},
        prometheus=_workload(spec["prometheus"]),
        thanos=_workload(spec["thanos"]),
        thanos_retention=ThanosRetention(
            spec["thanos"]["retention"]["raw"],
            spec["thanos"]["retention"]["downsampled5m"],
            spec["thanos"]["retention"]["downsampled1h"],
        ),
        alertmanager=_workload(spec["alertmanager"]),
        grafana=_workload(spec["grafana"]),
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
            heartbeat=Heartbeat(heartbeat["urlKey"], heartbeat["repeatInterval"]) if heartbeat else None,
        ),
        flux=Flux(
            flux["namespace"],
            flux["eventSeverity"],
            tuple(flux["eventSources"]),
            flux["distribution"],
            flux["unknownFor"],
        ),
        plaintext_secrets_severity=Severity(spec["checks"]["plaintextSecrets"]),
        rule_severities=tuple(sorted(spec["checks"].get("rules", {}).items())),
        dashboards=Dashboards(spec["dashboards"]["enabled"], spec["dashboards"]["folder"]),
        access_implementation=spec["access"]["implementation"],
        access_all=_access(spec["access"].get("all")),
        location=location,
        topology=_topology(spec),
    )


# --- defaults ------------------------------------------------------------------------------


def _resolve(node: dict) -> dict:
    """Follow a local `$ref` (one level is all our schema uses)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema()
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def apply_defaults(instance: Any, node: dict | None = None) -> Any:
    """A copy of `instance` with every missing property that has a schema default filled in."""
    node = _resolve(schema() if node is None else node)
    if not isinstance(instance, dict) or "properties" not in node:
        return instance
    out = dict(instance)
    for key, sub in node["properties"].items():
        sub = _resolve(sub)
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = apply_defaults(out[key], sub)
    return out


# --- validation and messages ---------------------------------------------------------------

_PATTERN_HINTS = {
    "dnsLabel": "a DNS label: lowercase letters, digits and '-', at most 63 characters",
    "dnsSubdomain": "a DNS subdomain: lowercase letters, digits, '-' and '.'",
    "hostname": "a lowercase DNS name (RFC 1123) with no trailing dot, each label at most 63 characters",
    "labelValue": "a label value: letters, digits, '-', '_' and '.', at most 63 characters",
    "qualifiedName": "a label or annotation key: [DNS prefix/]name, the name of letters, digits, '-', '_', '.'",
    "labelValueOrEmpty": "a label value: empty, or letters, digits, '-', '_' and '.', at most 63 characters",
    "promDuration": "a Prometheus duration such as 30s, 5m, 12h or 7d",
    "quantity": "a Kubernetes quantity such as 100m, 256Mi or 10Gi",
    "secretKey": "a Secret key: letters, digits, '-', '_' and '.'",
}

# Fields that were valid once, with how to move their value (looked up before any other hint).
_MOVED_FIELDS = {
    "spec.alerting.heartbeat.url": (
        "the heartbeat URL is a secret (in Git, anyone who reads it can keep pinging it and hide a dead "
        "cluster): move it into the stack Secret (spec.secret.name) under key 'heartbeat-url' with "
        "`sops edit`, as a plain scalar with no trailing newline, and delete this field "
        "(spec.alerting.heartbeat.urlKey names another key)"
    ),
}


def _all_property_paths() -> dict[str, list[str]]:
    """Every property name in the schema -> the dotted paths where it is valid."""
    found: dict[str, list[str]] = {}

    def walk(node: dict, path: str) -> None:
        node = _resolve(node)
        for key, sub in node.get("properties", {}).items():
            dotted = f"{path}.{key}" if path else key
            found.setdefault(key, []).append(dotted)
            walk(sub, dotted)

    walk(schema(), "")
    return found


def _dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pattern_hint(pattern: str) -> str:
    for name, text in _PATTERN_HINTS.items():
        if schema()["$defs"][name].get("pattern") == pattern:
            return text
    return f"a value matching {pattern}"


def _message(error) -> tuple[list, str]:
    """(field path, human message) for one jsonschema error."""
    path = _dotted(error.absolute_path)
    parts = list(error.absolute_path)
    validator = error.validator
    if isinstance(error.schema, dict) and "x-message" in error.schema:
        return parts, error.schema["x-message"]  # the schema's own words for a rule across fields
    if validator == "additionalProperties":
        import difflib  # start-up budget: docs/startup.md (only an invalid config gets here)

        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        messages = []
        for key in unknown:
            if f"{path}.{key}" in _MOVED_FIELDS:
                messages.append(f"field {key!r} is no longer accepted: {_MOVED_FIELDS[f'{path}.{key}']}")
                continue
            text = f"unknown field {key!r}"
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            elsewhere = [p for p in _all_property_paths().get(key, []) if p != f"{path}.{key}"]
            if close:
                text += f"; did you mean {close[0]!r}?"
            elif elsewhere:
                text += f"; it belongs at {' or '.join(elsewhere)}"
            else:
                text += f"; known fields here: {', '.join(known)}"
            messages.append(text)
        return parts + unknown[:1] if len(unknown) == 1 else parts, "; ".join(messages)
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        field = [*parts, missing]
        if missing == "gateway":
            return field, (
                "spec.gateway is required while any UI is exposed: set spec.gateway.name and "
                "spec.gateway.namespace, or set enabled: false on every spec.ui entry"
            )
        sub = _resolve(error.schema.get("properties", {}).get(missing, {}))
        why = f" ({sub['description'].split('. ')[0].rstrip('.')})" if sub.get("description") else ""
        return field, f"required field {missing!r} is missing{why}"
    if validator == "enum":
        choices = ", ".join(str(c) for c in error.validator_value)
        if "charts" in list(error.absolute_path):
            return parts, (
                f"version {error.instance!r} is not supported; supported: {choices} "
                "(the function ships the values paths of these versions only)"
            )
        return parts, f"{error.instance!r} is not one of: {choices}"
    if validator == "const":
        return parts, f"must be {error.validator_value!r}, not {error.instance!r}"
    if validator == "pattern":
        return parts, f"{error.instance!r} is not {_pattern_hint(error.validator_value)}"
    if validator == "type":
        expected = error.validator_value
        return parts, f"must be of type {expected if isinstance(expected, str) else ' or '.join(expected)}"
    if validator in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems"):
        return parts, error.message.replace("'", "")
    return parts, error.message


def _resolve_ref(target: str) -> tuple[dict, Callable] | None:
    """A `$ref` of the config schema (all are local: `#/$defs/...`), for schemacheck.conforms."""
    if not target.startswith("#/"):
        return None
    node = schema()
    for part in target[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return (node, _resolve_ref) if isinstance(node, dict) else None


def _validate(instance: dict) -> list:
    """The jsonschema errors of `instance`; [] when valid (known from the cache or the fast check)."""
    key = validation_cache.digest("config", json.dumps(instance, sort_keys=True, default=str).encode())
    if validation_cache.passed_before(key):
        return []
    if schemacheck.conforms(schema(), instance, _resolve_ref) is True:
        validation_cache.remember(key)
        return []
    validator = schemacheck.validator(schema())
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if not errors:
        validation_cache.remember(key)
    return errors


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
    errors = _validate(instance)
    if errors:
        results = []
        seen = set()
        for error in errors:
            parts, message = _message(error)
            if (tuple(map(str, parts)), message) in seen:
                continue  # one rule across fields (an x-message) fails once per field
            seen.add((tuple(map(str, parts)), message))
            where = locate(parts) if locate else location
            results.append(Result(RULE, Severity.ERROR, message, ref, _dotted(parts) or None, where))
        return None, results
    problems = _access_errors(instance["spec"])
    if problems:
        return None, [
            Result(RULE, Severity.ERROR, message, ref, _dotted(parts), locate(parts) if locate else location)
            for parts, message in problems
        ]
    chart_data, chart_results = chart_versions(instance, ref, locate or (lambda _: location))
    if any(r.severity == Severity.ERROR for r in chart_results):
        return None, chart_results
    return _build(instance, location, chart_data), chart_results


def chart_versions(
    instance: dict, ref: ResourceRef, locate: Callable[[list], Location | None]
) -> tuple[dict[str, str], list[Result]]:
    """For each chart, the known release whose values knowledge applies, and what to say about it.

    A known release is itself. A release newer than the newest known renders with the newest's
    knowledge and a warning (an error with spec.charts.strict). An older one, or a version between
    known releases that was never released (a typo), is an error naming the nearest known ones.
    """
    spec = instance["spec"]["charts"]
    data: dict[str, str] = {}
    results: list[Result] = []
    for name in CHART_NAMES:
        version = spec[name]["version"]
        known = paths.known_versions(name)
        field = ["spec", "charts", name, "version"]
        if version in known:
            data[name] = version
            continue
        newest = known[-1]
        key = paths.version_key(version)
        if key > paths.version_key(newest):
            data[name] = newest
            severity = Severity.ERROR if spec["strict"] else Severity.WARNING
            then = (
                "spec.charts.strict is set: use a known release, or unset strict to render it"
                if spec["strict"]
                else f"the values written and checked are those of {newest}; run `make charts` "
                "(scripts/update-charts.py) to teach the function the new release"
            )
            results.append(
                Result(
                    CHART_VERSION,
                    severity,
                    f"{name} {version} is newer than the newest release the function knows ({newest}); {then}",
                    ref,
                    _dotted(field),
                    locate(field),
                )
            )
            continue
        nearest = sorted(known, key=lambda v: _distance(paths.version_key(v), key))[:3]
        why = (
            f"older than the oldest supported release ({known[0]})"
            if key < paths.version_key(known[0])
            else "not a release of the chart"
        )
        results.append(
            Result(
                CHART_VERSION,
                Severity.ERROR,
                f"{name} {version} is {why}; nearest known: {', '.join(sorted(nearest, key=paths.version_key))}",
                ref,
                _dotted(field),
                locate(field),
            )
        )
    return data, results


def _distance(a: tuple, b: tuple) -> tuple:
    """How far apart two X.Y.Z versions are: majors first, then minors, then patches."""
    return tuple(abs(x - y) for x, y in zip(a, b, strict=False))
