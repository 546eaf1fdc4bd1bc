"""What a healthy cluster shows for one ObservabilityConfig, read off the objects it generates.

`verify` never hard-codes a name, port or receiver: it asks the same components that `render`
uses, so a config change (a UI disabled, Pushover off, another namespace) changes what is expected.
"""

from __future__ import annotations

from krm_fn import components
from krm_fn.charts import UI_SERVICES, Service
from krm_fn.components import loki_scalable, profile, thanos
from krm_fn.config import Config

SOURCE_KINDS = {"HelmRepository": "helmrepositories", "OCIRepository": "ocirepositories"}
SOURCE_API = "/apis/source.toolkit.fluxcd.io/v1"
HELM_API = "/apis/helm.toolkit.fluxcd.io/v2"
KUSTOMIZE_API = "/apis/kustomize.toolkit.fluxcd.io/v1"
GATEWAY_API = "/apis/gateway.networking.k8s.io/v1"


class Named:
    """A namespaced object the stack owns: kind, namespace, name."""

    def __init__(self, kind: str, namespace: str, name: str):
        self.kind, self.namespace, self.name = kind, namespace, name

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class Workload:
    """A Deployment or StatefulSet of the stack and the replicas it must have ready."""

    def __init__(self, what: str, plural: str, name: str, replicas: int):
        self.what, self.plural, self.name, self.replicas = what, plural, name, replicas


def workloads(config: Config) -> list[Workload]:
    """Every replicated part of the stack, named as the charts and the operator name them.

    prometheus-operator names the StatefulSets of a Prometheus or Alertmanager object
    `prometheus-<name>` / `alertmanager-<name>`, and kube-prometheus-stack names the objects like their
    Services (docs/reference/charts.md#2-service-names-and-ports); tests/test_verify.py checks every
    name against the charts' rendered objects.
    """
    topology = config.topology
    out = [
        Workload(
            "Prometheus", "statefulsets", f"prometheus-{UI_SERVICES['prometheus'].name}", topology.prometheus_replicas
        ),
        Workload(
            "Alertmanager",
            "statefulsets",
            f"alertmanager-{UI_SERVICES['alertmanager'].name}",
            topology.alertmanager_replicas,
        ),
        Workload("Grafana", "deployments", UI_SERVICES["grafana"].name, topology.grafana_replicas),
    ]
    if topology.loki_mode == "SimpleScalable":
        out += [
            Workload("Loki write", "statefulsets", "loki-write", topology.loki_replicas),
            Workload("Loki read", "deployments", "loki-read", topology.loki_replicas),
            Workload("Loki backend", "statefulsets", "loki-backend", topology.loki_replicas),
            Workload("Loki gateway", "deployments", "loki-gateway", loki_scalable.GATEWAY_REPLICAS),
        ]
    else:
        out.append(Workload("Loki", "statefulsets", "loki", topology.loki_replicas))
    if topology.thanos:
        out += [
            Workload("Thanos Query", "deployments", "thanos-query", thanos.QUERY_REPLICAS),
            Workload("Thanos Store Gateway", "statefulsets", "thanos-store-gateway", thanos.STORE_GATEWAY_REPLICAS),
            Workload("Thanos Compactor", "statefulsets", "thanos-compact", 1),
        ]
    return out


class Expected:
    """Everything `verify` compares the cluster with."""

    def __init__(self, config: Config):
        objects = components.generate(config)
        self.config = config
        self.namespace = config.namespace
        self.sources = [_named(o) for o in objects if o["kind"] in SOURCE_KINDS]
        self.releases = [_named(o) for o in objects if o["kind"] == "HelmRelease"]
        self.routes = [(_named(o), list(o["spec"].get("hostnames", []))) for o in objects if o["kind"] == "HTTPRoute"]
        self.pod_monitors = [_named(o) for o in objects if o["kind"] == "PodMonitor"]
        kps = next(
            (o for o in objects if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"),
            None,
        )
        values = (kps or {}).get("spec", {}).get("values", {})
        self.alert_names = sorted(
            {
                rule["alert"]
                for rule_set in (values.get("additionalPrometheusRulesMap") or {}).values()
                for group in rule_set.get("groups", [])
                for rule in group.get("rules", [])
                if "alert" in rule
            }
        )
        am_config = (values.get("alertmanager") or {}).get("config") or {}
        self.receivers = sorted(r["name"] for r in am_config.get("receivers", []))
        am_spec = (values.get("alertmanager") or {}).get("alertmanagerSpec") or {}
        # Secrets mounted whole (`secrets`) or as a volume of some of their keys (the generated one).
        self.alertmanager_secrets = list(am_spec.get("secrets", [])) + [
            v["secret"]["secretName"] for v in am_spec.get("volumes", []) if "secretName" in (v.get("secret") or {})
        ]
        self.prometheus: Service = UI_SERVICES["prometheus"]
        self.alertmanager: Service = UI_SERVICES["alertmanager"]
        self.grafana: Service = UI_SERVICES["grafana"]
        self.alloy: Service = UI_SERVICES["alloy"]
        self.loki: Service = profile.loki_service(config)  # the single binaries, or the gateway (SimpleScalable)
        self.workloads = workloads(config)
        # Thanos Query, and the StoreAPIs it must reach: one sidecar per Prometheus, every Store Gateway.
        self.thanos_query: Service | None = profile.THANOS_QUERY_SERVICE if config.topology.thanos else None
        self.thanos_stores: dict[str, int] = {}
        if config.topology.thanos:
            self.thanos_stores = {
                "sidecar": config.topology.prometheus_replicas,
                "store": thanos.STORE_GATEWAY_REPLICAS,
            }
        self.datasource_configmaps = sorted(
            o["metadata"]["name"]
            for o in objects
            if o["kind"] == "ConfigMap" and (o["metadata"].get("labels") or {}).get("grafana_datasource")
        )


def _named(obj: dict) -> Named:
    meta = obj["metadata"]
    return Named(obj["kind"], meta.get("namespace", ""), meta["name"])
