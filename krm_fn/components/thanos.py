"""Thanos Query, Store Gateway and Compactor (spec.thanos.enabled; on in the ha profile).

The Prometheus replicas run the Thanos sidecar (krm_fn.components.profile), which uploads their
blocks to object storage and serves recent data over the StoreAPI. Query fans out to the sidecars
and the Store Gateways and deduplicates on the replica label; Grafana's default Prometheus
datasource points at it. The chart is stevehipwell/helm-charts' thanos (why: docs/ha.md); `v:` lines
are in third_party/upstream/charts/values/thanos/1.24.1.yaml. Every Thanos container, the sidecars'
included, runs the pinned release's appVersion (profile.thanos_version).
"""

from __future__ import annotations

from krm_fn.components import profile, routes
from krm_fn.components.common import deep_merge, helm_release
from krm_fn.config import UI, Config

CHART = "thanos"
# kube-prometheus-stack's headless Service in front of the sidecars' gRPC port (its prometheus.thanosService):
# Query resolves its SRV records to every sidecar, the way the chart points Query at its own Store Gateways.
SIDECAR_SERVICE = "kube-prometheus-stack-thanos-discovery"
QUERY_REPLICAS = 2
STORE_GATEWAY_REPLICAS = 2
ROUTE_NAME = "thanos"
# Each component's pods, as the chart selects them (charts/thanos/templates/_helpers.tpl and
# <component>/_helpers.tpl: thanos.selectorLabels plus app.kubernetes.io/component).
SELECTOR = {"app.kubernetes.io/name": "thanos", "app.kubernetes.io/instance": "thanos"}
# The component names of the chart: (values key, app.kubernetes.io/component, Prometheus job label).
# The chart's ServiceMonitors take the job from app.kubernetes.io/component-instance, <release>-<component> (v:46).
QUERY = ("query", "query", "thanos-query")
STORE_GATEWAY = ("storeGateway", "store-gateway", "thanos-store-gateway")
COMPACT = ("compact", "compact", "thanos-compact")


def sidecar_endpoint(config: Config) -> str:
    """Query's --endpoint for the sidecars: DNS SRV of the discovery Service's grpc port.

    `<service>.<namespace>.svc`, whatever the cluster domain: Thanos' default resolver tries the
    pod's DNS search path (thanos pkg/discovery/dns/miekgdns/lookup.go:46-53 at v0.42.4).
    """
    return f"dnssrv+_grpc._tcp.{SIDECAR_SERVICE}.{config.namespace}.svc"


def _persistence(config: Config) -> dict:
    # The chart's default class is "standard" (v:202): null drops it, for the cluster's default class.
    return {"enabled": True, "size": config.thanos.storage_size, "storageClass": config.storage_class_of(config.thanos)}


def _spread(config: Config, replicas: int, component: str) -> dict:
    """Replicas on separate nodes, and one down at a time."""
    labels = {**SELECTOR, "app.kubernetes.io/component": component}
    return {
        "affinity": profile.pod_anti_affinity(config, replicas, labels),
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
    }


def values(config: Config) -> dict:
    """The chart values, before the user's spec.values overrides."""
    resources = config.thanos.resources.to_values  # a dict per use: one shared dict would be written as a YAML anchor
    retention = config.thanos_retention
    return {
        # The same release of Thanos as the sidecars (the chart's default is its appVersion, v:18).
        "image": {"tag": profile.thanos_version(config)},
        # The user's Secret, key thanos-objstore.yaml: the same object store configuration as the sidecars.
        "objstoreConfig": {"create": False, "name": config.secret_name, "key": profile.THANOS_OBJSTORE_KEY},  # v:27
        "serviceMonitor": {"enabled": True},  # v:40; the Thanos alerts read these metrics
        # Query deduplicates the Prometheus replicas on their label (v:74).
        "additionalReplicaLabels": [profile.REPLICA_LABEL],
        "additionalEndpoints": [sidecar_endpoint(config)],  # v:68; the Store Gateways are the chart's own
        "query": {
            "enabled": True,
            "replicas": QUERY_REPLICAS,
            "resources": resources(),
            **_spread(config, QUERY_REPLICAS, QUERY[1]),
        },
        # Query serves Grafana directly; the frontend's splitting and caching pay off at larger scale.
        "queryFrontend": {"enabled": False},
        "storeGateway": {
            "enabled": True,
            "replicas": STORE_GATEWAY_REPLICAS,
            "resources": resources(),
            "persistence": _persistence(config),
            **_spread(config, STORE_GATEWAY_REPLICAS, STORE_GATEWAY[1]),
        },
        "compact": {
            # A singleton by design: two compactors on one bucket corrupt it (no PodDisruptionBudget either:
            # one for a single pod would block every node drain).
            "enabled": True,
            # The replica label would turn on vertical compaction, which merges the replicas' blocks for good
            # ("Experimental ... irreversible", thanos cmd/thanos/compact.go:809-819 at v0.42.4): off, the
            # bucket keeps each replica's blocks and Query deduplicates them at read time.
            "deduplication": {"enabled": False},
            "extraArgs": [
                f"--retention.resolution-raw={retention.raw}",
                f"--retention.resolution-5m={retention.downsampled_5m}",
                f"--retention.resolution-1h={retention.downsampled_1h}",
            ],
            "resources": resources(),
            "persistence": _persistence(config),
        },
    }


def hostname(config: Config) -> str | None:
    """Thanos Query's UI hostname: thanos.<domain>, while the Prometheus UI is exposed."""
    exposed = any(ui.name == "prometheus" for ui in config.exposed_uis)
    return f"{ROUTE_NAME}.{config.domain}" if exposed else None


def query_ui(config: Config) -> UI | None:
    """Thanos Query's UI, in the ha profile while the Prometheus UI is exposed: the same metrics over a
    longer time, so behind the Prometheus UI's access policy (spec.ui.prometheus.access or spec.access.all)."""
    prometheus = next((ui for ui in config.exposed_uis if ui.name == "prometheus"), None)
    host = hostname(config)
    if not config.topology.thanos or prometheus is None or host is None:
        return None
    return UI(ROUTE_NAME, True, host, prometheus.access)


def resources(config: Config) -> list[dict]:
    """The HelmRelease (Thanos on only), after kube-prometheus-stack (its sidecars and CRDs), and its route."""
    if not config.topology.thanos:
        return []
    merged = deep_merge(values(config), config.values[CHART])
    out = [helm_release(config, CHART, merged, depends_on="kube-prometheus-stack")]
    ui = query_ui(config)
    if ui:
        # The deduplicated, long-term view next to the Prometheus UI (each replica's own view).
        out.extend(routes.exposed(config, ui, profile.THANOS_QUERY_SERVICE))
    return out
