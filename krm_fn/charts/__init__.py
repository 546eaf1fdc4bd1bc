"""Facts about the pinned charts that more than one module needs.

Release names are the HelmRelease names (the function never sets `targetNamespace`,
`releaseName` or `fullnameOverride`), so the Services below are what the charts create.
Evidence for each name and port: shared/reference/charts.md section 2.
"""

from __future__ import annotations

from krm_fn.record import Record


class Repository(Record):
    name: str
    url: str


class Chart(Record):
    name: str
    repository: Repository
    release: str  # the HelmRelease name, which is also the Helm release name


class Service(Record):
    name: str
    port: int


PROMETHEUS_COMMUNITY = Repository("prometheus-community", "https://prometheus-community.github.io/helm-charts")
GRAFANA = Repository("grafana", "https://grafana.github.io/helm-charts")
# Bitnami publishes its charts as OCI artifacts only (the ha profile's Thanos).
BITNAMI = Repository("bitnami", "oci://registry-1.docker.io/bitnamicharts")

CHARTS: dict[str, Chart] = {
    "kube-prometheus-stack": Chart("kube-prometheus-stack", PROMETHEUS_COMMUNITY, "kube-prometheus-stack"),
    "loki": Chart("loki", GRAFANA, "loki"),
    "alloy": Chart("alloy", GRAFANA, "alloy"),
    "thanos": Chart("thanos", BITNAMI, "thanos"),
}

# The Service behind each UI, as created by the charts for the release names above.
UI_SERVICES: dict[str, Service] = {
    "grafana": Service("kube-prometheus-stack-grafana", 80),
    "prometheus": Service("kube-prometheus-stack-prometheus", 9090),
    "alertmanager": Service("kube-prometheus-stack-alertmanager", 9093),
    "alloy": Service("alloy", 12345),
}

# Loki in SingleBinary mode with the gateway disabled.
LOKI_SERVICE = Service("loki", 3100)

# prometheus-operator mounts every `alertmanager.alertmanagerSpec.secrets` entry at <dir>/<secret name>/
# (charts.md section 4: operator v0.89.0 statefulset.go).
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"

# kube-prometheus-stack labels its own PrometheusRules and monitors `release: <release name>`, which
# its default selectors match (charts.md section 8); objects we add for it carry the same label.
KPS_RELEASE_LABEL = {"release": CHARTS["kube-prometheus-stack"].release}
