"""Facts about the pinned charts that more than one module needs.

Release names are the HelmRelease names (the function never sets `targetNamespace`,
`releaseName` or `fullnameOverride`), so the Services below are what the charts create.
Evidence for each name and port: docs/reference/charts.md#2-service-names-and-ports.
"""

from __future__ import annotations

from krm_fn.charts import paths
from krm_fn.record import Record


class Repository(Record):
    name: str
    url: str


class Publisher(Record):
    """Who publishes a chart: its HTTPS Helm repository, and the OCI registry path its charts are under."""

    repository: Repository
    oci: str  # oci://<registry>/<path>; a chart is at <oci>/<chart name>


class Chart(Record):
    name: str
    repository: Repository  # the seed pin's publisher (the one for a release: publisher_of)
    release: str  # the HelmRelease name, which is also the Helm release name


class Service(Record):
    name: str
    port: int


PROMETHEUS_COMMUNITY = Repository("prometheus-community", "https://prometheus-community.github.io/helm-charts")
GRAFANA = Repository("grafana", "https://grafana.github.io/helm-charts")
# The ha profile's Thanos (docs/ha.md, Thanos): stevehipwell/helm-charts publishes an
# HTTPS index (gh-pages index.yaml) and cosign-signed OCI artifacts (charts/thanos/README.md at thanos-1.24.1).
STEVEHIPWELL = Repository("stevehipwell", "https://stevehipwell.github.io/helm-charts")

# Where each publisher's charts are. OCI: prometheus-community/helm-charts README ("OCI artifacts of all
# Prometheus Helm charts are available in ghcr.io"), grafana-community/helm-charts README ("OCI
# Registry": oci://ghcr.io/grafana-community/helm-charts/<chart-name>); grafana's charts are under
# oci://ghcr.io/grafana/helm-charts (loki is pulled from there by public Flux repositories).
PUBLISHERS: dict[str, Publisher] = {
    "stevehipwell": Publisher(STEVEHIPWELL, "oci://ghcr.io/stevehipwell/helm-charts"),
    "prometheus-community": Publisher(PROMETHEUS_COMMUNITY, "oci://ghcr.io/prometheus-community/charts"),
    "grafana": Publisher(GRAFANA, "oci://ghcr.io/grafana/helm-charts"),
    "grafana-community": Publisher(
        Repository("grafana-community", "https://grafana-community.github.io/helm-charts"),
        "oci://ghcr.io/grafana-community/helm-charts",
    ),
}

CHARTS: dict[str, Chart] = {
    "kube-prometheus-stack": Chart("kube-prometheus-stack", PROMETHEUS_COMMUNITY, "kube-prometheus-stack"),
    "loki": Chart("loki", GRAFANA, "loki"),
    "alloy": Chart("alloy", GRAFANA, "alloy"),
    "thanos": Chart("thanos", STEVEHIPWELL, "thanos"),
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

# Where Alertmanager finds the stack Secret's keys its receivers read: <dir>/<secret name>/<key>, a
# volume of those keys only (components/privilege.py), where prometheus-operator would mount the
# whole Secret were it listed in `alertmanager.alertmanagerSpec.secrets` (operator v0.89.0
# statefulset.go; docs/reference/charts.md#4-kube-prometheus-stack-audit).
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"

# kube-prometheus-stack labels its own PrometheusRules and monitors `release: <release name>`, which
# its default selectors match (docs/reference/charts.md#8-flux-metrics); objects we add for it carry the same label.
KPS_RELEASE_LABEL = {"release": CHARTS["kube-prometheus-stack"].release}


def publisher_of(chart: str, version: str) -> Publisher:
    """Who publishes this release of a chart (from the release data; the seed pin's publisher otherwise)."""
    key = paths.publisher(chart, version)
    return PUBLISHERS[key] if key else next(p for p in PUBLISHERS.values() if p.repository == CHARTS[chart].repository)
