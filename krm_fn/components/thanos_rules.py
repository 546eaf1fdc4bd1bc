"""Alerts on Thanos (spec.thanos.enabled): what stops long-term metrics from being kept or read.

Our own rules, written from what the Thanos mixin watches (thanos-io/thanos mixin/alerts/*.libsonnet,
rendered in examples/alerts/alerts.yaml at e103a81b) and fitted to this stack: each names the
job the chart's ServiceMonitors give it (thanos.py) and knows how many endpoints Query must see.
Metric names at thanos v0.42.4: thanos_store_nodes_grpc_connections{store_type} (pkg/query/
endpointset.go; a store gateway reports `store`, a sidecar `sidecar`: pkg/component/component.go),
thanos_shipper_uploads_total (pkg/shipper/shipper.go), thanos_compact_halted and
thanos_compact_iterations_total (cmd/thanos/compact.go), http_requests_total{handler, code}
(pkg/extprom/http/instrument_server.go), thanos_objstore_bucket_operation(s|_failures)_total.
"""

from __future__ import annotations

from krm_fn.components import thanos
from krm_fn.config import Config

# kube-prometheus-stack's ServiceMonitor of the sidecars names no jobLabel: the job is the Service's name.
SIDECAR_JOB = thanos.SIDECAR_SERVICE
QUERY_JOB, STORE_JOB, COMPACT_JOB = thanos.QUERY[2], thanos.STORE_GATEWAY[2], thanos.COMPACT[2]
ERROR_RATIO = 0.05  # the mixin's 5%
# Prometheus cuts a block once its head spans 3h (1.5 x the 2h block range the operator sets with the
# sidecar), then every 2h; 4h without an upload, held for 1h, is two missed blocks. Both "nothing in
# the window" rules wait until the process has run for the whole window: a counter that has just
# started at 0 has done nothing wrong yet (process_start_time_seconds: thanos cmd/thanos/main.go:88).
NO_UPLOAD_WINDOW, NO_UPLOAD_SECONDS = "4h", 4 * 3600
NO_COMPACTION_WINDOW, NO_COMPACTION_SECONDS = "6h", 6 * 3600


def _rule(alert: str, expr: str, duration: str, summary: str, description: str) -> dict:
    return {
        "alert": alert,
        "expr": expr,
        "for": duration,
        "labels": {"severity": "warning"},
        "annotations": {"summary": summary, "description": description},
    }


def _connected(ns: str, store_type: str) -> str:
    """Per Query pod that is up, how many endpoints of `store_type` it is connected to (0 when none)."""
    query = f'namespace="{ns}", job="{QUERY_JOB}"'
    return (
        f'sum by (namespace, pod) (thanos_store_nodes_grpc_connections{{{query}, store_type="{store_type}"}})'
        f" or sum by (namespace, pod) (up{{{query}}} == 1) * 0"
    )


def _absent(alert: str, ns: str, job: str, what: str, then: str) -> dict:
    rule = _rule(
        alert,
        f'absent(up{{namespace="{ns}", job="{job}"}} == 1)',
        "15m",
        f"{what} is not running",
        f"No {what} pod of {ns} has been scraped for 15 minutes: {then} "
        f"Run: kubectl -n {ns} get pods -l app.kubernetes.io/instance=thanos",
    )
    # absent() of a comparison keeps no label of the selector: the alert names its namespace and job itself.
    rule["labels"] = {"severity": "warning", "namespace": ns, "job": job}
    return rule


def rules(config: Config) -> dict:
    """The PrometheusRule spec of the Thanos alerts."""
    ns = config.namespace
    sidecars = config.topology.prometheus_replicas
    stores = thanos.STORE_GATEWAY_REPLICAS
    query = f'namespace="{ns}", job="{QUERY_JOB}", handler=~"query|query_range"'
    query_errors = (
        f'sum by (namespace, handler) (rate(http_requests_total{{{query}, code=~"5.."}}[5m]))'
        f" / sum by (namespace, handler) (rate(http_requests_total{{{query}}}[5m])) > {ERROR_RATIO}"
    )
    store = f'namespace="{ns}", job="{STORE_JOB}"'
    store_errors = (
        f"sum by (namespace) (rate(thanos_objstore_bucket_operation_failures_total{{{store}}}[5m]))"
        f" / sum by (namespace) (rate(thanos_objstore_bucket_operations_total{{{store}}}[5m])) > {ERROR_RATIO}"
    )
    sidecar = f'namespace="{ns}", job="{SIDECAR_JOB}"'
    no_upload = (
        f"sum by (namespace, pod) (increase(thanos_shipper_uploads_total{{{sidecar}}}[{NO_UPLOAD_WINDOW}])) == 0"
        f" and on (namespace, pod) (time() - process_start_time_seconds{{{sidecar}}} > {NO_UPLOAD_SECONDS})"
    )
    compact = f'namespace="{ns}", job="{COMPACT_JOB}"'
    not_compacting = (
        f"sum by (namespace, pod) (increase(thanos_compact_iterations_total{{{compact}}}[{NO_COMPACTION_WINDOW}]))"
        f" == 0 and on (namespace, pod) (time() - process_start_time_seconds{{{compact}}} > {NO_COMPACTION_SECONDS})"
    )
    return {
        "groups": [
            {
                "name": "thanos.rules",
                "rules": [
                    _rule(
                        "ThanosQueryMissingSidecars",
                        f"({_connected(ns, 'sidecar')}) < {sidecars}",
                        "15m",
                        "Thanos Query {{ $labels.pod }} reaches {{ $value }} of "
                        f"{sidecars} Prometheus sidecars",
                        "Thanos Query pod {{ $labels.namespace }}/{{ $labels.pod }} has been connected to "
                        f"{{{{ $value }}}} of the {sidecars} Prometheus sidecars for 15 minutes: the last hours "
                        "of metrics come from fewer replicas than run, or from none. Check the Prometheus "
                        f"pods and the Service {thanos.SIDECAR_SERVICE}.",
                    ),
                    _rule(
                        "ThanosQueryMissingStoreGateways",
                        f"({_connected(ns, 'store')}) < {stores}",
                        "15m",
                        f"Thanos Query {{{{ $labels.pod }}}} reaches {{{{ $value }}}} of {stores} Store Gateways",
                        "Thanos Query pod {{ $labels.namespace }}/{{ $labels.pod }} has been connected to "
                        f"{{{{ $value }}}} of the {stores} Thanos Store Gateways for 15 minutes: history "
                        "older than Prometheus' own retention may be missing from dashboards.",
                    ),
                    _rule(
                        "ThanosQueryErrors",
                        query_errors,
                        "10m",
                        "Thanos Query fails {{ $value | humanizePercentage }} of {{ $labels.handler }} requests",
                        "More than 5% of Thanos Query's {{ $labels.handler }} requests in {{ $labels.namespace }} "
                        "have failed with a 5xx for 10 minutes: Grafana's metric panels show errors. Check "
                        "the thanos-query pods' logs.",
                    ),
                    _rule(
                        "ThanosSidecarNoUpload",
                        no_upload,
                        "1h",
                        "Thanos sidecar in {{ $labels.pod }} uploads no blocks",
                        "The Thanos sidecar of Prometheus {{ $labels.namespace }}/{{ $labels.pod }} has uploaded "
                        f"no block to the bucket in the last {NO_UPLOAD_WINDOW} (one is cut every 2h): "
                        "metrics older than Prometheus' retention will be lost. Check the sidecar's logs "
                        "(container thanos-sidecar) and the Secret key thanos-objstore.yaml.",
                    ),
                    _rule(
                        "ThanosStoreBucketErrors",
                        store_errors,
                        "15m",
                        "Thanos Store Gateway fails {{ $value | humanizePercentage }} of bucket operations",
                        "More than 5% of the Thanos Store Gateways' operations on the bucket in "
                        "{{ $labels.namespace }} have failed for 15 minutes: history from the bucket is "
                        "missing or slow. Check the object storage and the Secret key thanos-objstore.yaml.",
                    ),
                    _rule(
                        "ThanosCompactHalted",
                        f"max by (namespace, pod) (thanos_compact_halted{{{compact}}}) == 1",
                        "5m",
                        "Thanos Compactor {{ $labels.pod }} has halted",
                        "Thanos Compactor {{ $labels.namespace }}/{{ $labels.pod }} stopped after an error it "
                        "cannot retry: retention and downsampling no longer run and the bucket keeps growing. "
                        "Its logs name the block; see the Thanos runbook (ThanosCompactHalted).",
                    ),
                    _rule(
                        "ThanosCompactNotRunning",
                        not_compacting,
                        "1h",
                        f"Thanos Compactor {{{{ $labels.pod }}}} has not finished a run in {NO_COMPACTION_WINDOW}",
                        "Thanos Compactor {{ $labels.namespace }}/{{ $labels.pod }} is up but has completed no "
                        f"compaction run in {NO_COMPACTION_WINDOW} (it starts one every 5 minutes): retention is "
                        "not applied. Check its logs.",
                    ),
                    _absent(
                        "ThanosQueryDown",
                        ns,
                        QUERY_JOB,
                        "Thanos Query",
                        "Grafana's default Prometheus datasource is Thanos Query, so metric panels fail.",
                    ),
                    _absent(
                        "ThanosStoreGatewayDown",
                        ns,
                        STORE_JOB,
                        "Thanos Store Gateway",
                        "metrics older than Prometheus' own retention cannot be read.",
                    ),
                    _absent(
                        "ThanosCompactDown",
                        ns,
                        COMPACT_JOB,
                        "Thanos Compactor",
                        "retention and downsampling do not run and the bucket keeps growing.",
                    ),
                ],
            }
        ]
    }
