"""Extra alert rules, for kube-prometheus-stack's top-level `additionalPrometheusRulesMap`.

The chart renders each entry as a PrometheusRule `kube-prometheus-stack-<key>` with `toYaml`
and no `tpl` (docs/reference/charts.md#4-kube-prometheus-stack-audit), so `{{ $labels.x }}` reaches
Prometheus unchanged.
"""

from __future__ import annotations

from krm_fn.components import flux_operator, thanos_rules
from krm_fn.config import Config

FLUX_NOT_READY_FOR = "10m"
CERT_EXPIRY_WINDOW_SECONDS = 7 * 24 * 3600
# The metric alerts about one Flux object; alerting.flux_inhibit_rule holds them back while the
# object's own Flux event is active, so one failure pushes once.
FLUX_OBJECT_ALERTS = ("FluxResourceNotReady", "FluxResourceStuck")


def flux_object_alerts(config: Config) -> tuple[str, ...]:
    """The alerts about one Flux object in this config's Flux monitoring (ours, or the Flux Operator's)."""
    return flux_operator.OBJECT_ALERTS if flux_operator.enabled(config) else FLUX_OBJECT_ALERTS


def _flux_objects(selector: str) -> str:
    """One series per Flux object matching `selector`, labelled kind/namespace/name as Flux events are.

    gotk_resource_info comes from kube-state-metrics customResourceState (see flux_metrics), with the
    object's namespace in `exported_namespace` (`namespace` is kube-state-metrics' own). `max by`
    keeps one series per object when labels such as `revision` change; `suspended!="true"` also
    matches objects without the label (spec.suspend unset). docs/reference/charts.md#8-flux-metrics.
    """
    relabelled = (
        f'label_replace(label_replace(gotk_resource_info{{{selector}}}, "kind", "$1", "customresource_kind", "(.+)"),'
        ' "namespace", "$1", "exported_namespace", "(.+)")'
    )
    return f"max by (kind, namespace, name) ({relabelled}) == 1"


FLUX_NOT_READY = _flux_objects('ready="False", suspended!="true"')
# Ready=Unknown: a reconcile still in progress (or a controller that stopped updating the object).
FLUX_UNKNOWN = _flux_objects('ready="Unknown", suspended!="true"')
CERT_EXPIRY = f"certmanager_certificate_expiration_timestamp_seconds - time() < {CERT_EXPIRY_WINDOW_SECONDS}"
FLUX_OBJECT = "{{ $labels.kind }} {{ $labels.namespace }}/{{ $labels.name }}"


def _flux_stuck_rule(config: Config) -> dict:
    """Ready=Unknown for `spec.flux.unknownFor`: a reconcile that never finishes never sets Ready=False."""
    return {
        "alert": "FluxResourceStuck",
        "expr": FLUX_UNKNOWN,
        "for": config.flux.unknown_for,
        "labels": {"severity": "warning"},
        "annotations": {
            "summary": f"Flux {FLUX_OBJECT} has been reconciling for more than {config.flux.unknown_for}",
            "description": (
                f"{FLUX_OBJECT} has reported Ready=Unknown (reconciliation in progress) for more than "
                f"{config.flux.unknown_for}. Run: flux get all -A --status-selector ready=unknown"
            ),
        },
    }


def _flux_rules(config: Config) -> dict:
    return {
        "groups": [
            {
                "name": "flux.rules",
                "rules": [
                    {
                        "alert": "FluxResourceNotReady",
                        "expr": FLUX_NOT_READY,
                        "for": FLUX_NOT_READY_FOR,
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"Flux {FLUX_OBJECT} is not ready",
                            "description": (
                                f"{FLUX_OBJECT} has reported Ready=False for more than {FLUX_NOT_READY_FOR}. "
                                "Run: flux get all -A --status-selector ready=false"
                            ),
                        },
                    },
                    _flux_stuck_rule(config),
                ],
            }
        ]
    }


def _cert_manager_rules() -> dict:
    # cert-manager's metrics name the Certificate's namespace `namespace`, or `exported_namespace`
    # when the scrape does not honour labels; the templates take whichever is there.
    where = "{{ or $labels.exported_namespace $labels.namespace }}/{{ $labels.name }}"
    return {
        "groups": [
            {
                "name": "cert-manager.rules",
                "rules": [
                    {
                        "alert": "CertManagerCertExpirySoon",
                        "expr": CERT_EXPIRY,
                        "for": "1h",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"Certificate {where} expires in less than 7 days",
                            "description": f"Certificate {where} expires in {{{{ $value | humanizeDuration }}}}.",
                        },
                    }
                ],
            }
        ]
    }


# The log path, Alloy -> Loki -> volume. Metric names: Alloy's controller
# (grafana/alloy operations/alloy-mixin/alerts/controller.libsonnet, UnhealthyComponents) and
# loki.write client (internal/component/common/loki/client/metrics.go at helm-chart/1.11.1:
# loki_write_dropped_entries_total{reason}, loki_write_request_duration_seconds{status_code});
# Loki's distributor validation (loki_discarded_samples_total{reason}) and HTTP server
# (loki_request_duration_seconds{route,status_code}, the loki-mixin's LokiRequestErrors);
# kubelet volume stats for Loki's claims: `storage-loki-<n>` of the single binary, `data-loki-write-<n>`
# and `data-loki-backend-<n>` in SimpleScalable (the volumeClaimTemplates of the chart's StatefulSets,
# as helm renders loki 6.55.0 and 18.11.0).
LOG_PATH_FOR = "15m"
LOKI_VOLUME_FREE_RATIO = 0.2
REQUEST_ERROR_RATIO = 0.1
# Entries older than Loki's reject_old_samples_max_age are refused by design (an Alloy restart
# re-reads week-old logs of long-running pods); every other reason is a line lost.
DISCARD_REASONS_EXPECTED = "greater_than_max_sample_age"
LOKI_CLAIMS = "storage-loki-[0-9]+|data-loki-(write|backend)-[0-9]+"
# Lost lines are counted over 10m and must go on for LOG_PATH_FOR: a burst shorter than 5 minutes
# (a Loki or Alloy restart) does not push; loss that keeps coming back does.


def _warning(alert: str, expr: str, summary: str, description: str, duration: str | None = LOG_PATH_FOR) -> dict:
    """A warning alert (routed to the Pushover warning receiver like every other warning)."""
    rule: dict = {"alert": alert, "expr": expr}
    if duration:
        rule["for"] = duration
    rule["labels"] = {"severity": "warning"}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


def _log_path_rules(config: Config) -> dict:
    pvc = f'namespace="{config.namespace}", persistentvolumeclaim=~"{LOKI_CLAIMS}"'
    volume_free = (
        f"kubelet_volume_stats_available_bytes{{{pvc}}} / kubelet_volume_stats_capacity_bytes{{{pvc}}}"
        f" < {LOKI_VOLUME_FREE_RATIO}"
    )
    push_errors = (
        'sum by (namespace, pod) (rate(loki_write_request_duration_seconds_count{status_code!~"2.."}[5m]))'
        " / sum by (namespace, pod) (rate(loki_write_request_duration_seconds_count[5m]))"
        f" > {REQUEST_ERROR_RATIO}"
    )
    loki_errors = (
        'sum by (namespace, job, route) (rate(loki_request_duration_seconds_count{status_code=~"5.."}[5m]))'
        " / sum by (namespace, job, route) (rate(loki_request_duration_seconds_count[5m]))"
        f" > {REQUEST_ERROR_RATIO}"
    )
    discarded = (
        f'sum by (namespace, reason) (increase(loki_discarded_samples_total{{reason!="{DISCARD_REASONS_EXPECTED}"}}'
        "[10m])) > 0"
    )
    rules = [
        _warning(
            "AlloyUnhealthyComponents",
            'sum by (namespace, pod) (alloy_component_controller_running_components{health_type!="healthy"}) > 0',
            "Alloy {{ $labels.pod }} has unhealthy components",
            "{{ $value }} component(s) of Alloy pod {{ $labels.namespace }}/{{ $labels.pod }} are not healthy: "
            "the logs it tails may not be shipped. Open the Alloy UI (component graph) or its logs for the error.",
        ),
        _warning(
            "AlloyLokiEntriesDropped",
            "sum by (namespace, pod, reason) (increase(loki_write_dropped_entries_total[10m])) > 0",
            "Alloy {{ $labels.pod }} is dropping log lines ({{ $labels.reason }})",
            "Alloy pod {{ $labels.namespace }}/{{ $labels.pod }} has been giving up on log lines for "
            f"{LOG_PATH_FOR} (reason {{{{ $labels.reason }}}}): they are lost. rate_limited/stream_limited: Loki's "
            "limits_config; ingester_error: Loki is failing.",
        ),
        _warning(
            "AlloyLokiWriteErrors",
            push_errors,
            "Alloy {{ $labels.pod }} fails to push logs to Loki",
            "More than 10% of the pushes of Alloy pod {{ $labels.namespace }}/{{ $labels.pod }} to Loki "
            f"failed for {LOG_PATH_FOR}; Alloy retries, then drops. Check the loki pod.",
        ),
        _warning(
            "LokiDiscardingLogs",
            discarded,
            "Loki rejects log lines ({{ $labels.reason }})",
            f"Loki has been discarding log lines for {LOG_PATH_FOR} (reason {{{{ $labels.reason }}}}): they are lost. "
            "rate_limited, per_stream_rate_limit, stream_limit: raise limits_config (spec.values.loki); "
            "line_too_long: max_line_size; too_far_behind: a log re-read from the start (Alloy lost its positions).",
        ),
        _warning(
            "LokiRequestErrors",
            loki_errors,
            "Loki answers {{ $labels.route }} with errors",
            "More than 10% of Loki's {{ $labels.route }} requests failed with a 5xx for "
            f"{LOG_PATH_FOR}. Check the loki pod's logs.",
        ),
        _warning(
            "LokiVolumeFillingUp",
            volume_free,
            "Loki's volume {{ $labels.persistentvolumeclaim }} is almost full",
            "Only {{ $value | humanizePercentage }} of Loki's volume {{ $labels.persistentvolumeclaim }} is free; "
            f"when it is full Loki stops ingesting. Lower spec.loki.retention (now {config.loki.retention}) or raise "
            "spec.loki.storageSize. (On NFS the kubelet reports the whole export, not the claim.)",
            duration="30m",
        ),
    ]
    return {"groups": [{"name": "log-path.rules", "rules": rules}]}


def rules_map(config: Config) -> dict:
    """key -> PrometheusRule spec; the chart names each rule object kube-prometheus-stack-<key>."""
    out = {"flux-rules": flux_operator.rules(config) if flux_operator.enabled(config) else _flux_rules(config)}
    if config.alerting.cert_manager:
        # Only when cert-manager's metrics are scraped (its chart's ServiceMonitor): a rule with no
        # series behind it never fires, and says nothing about certificates.
        out["cert-manager-rules"] = _cert_manager_rules()
    out["log-path-rules"] = _log_path_rules(config)
    if config.topology.thanos:
        out["thanos-rules"] = thanos_rules.rules(config)
    return out
