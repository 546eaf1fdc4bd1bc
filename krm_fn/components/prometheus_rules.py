"""Extra alert rules, for kube-prometheus-stack's top-level `additionalPrometheusRulesMap`.

The chart renders each entry as a PrometheusRule `kube-prometheus-stack-<key>` with `toYaml`
and no `tpl` (charts.md section 4), so `{{ $labels.x }}` reaches Prometheus unchanged.
"""

from __future__ import annotations

from krm_fn.config import Config

FLUX_NOT_READY_FOR = "10m"
CERT_EXPIRY_WINDOW_SECONDS = 7 * 24 * 3600

# gotk_resource_info comes from kube-state-metrics customResourceState (see flux_metrics).
# `max by` keeps one series per object when labels such as `revision` change; `suspended!="true"`
# also matches objects without the label (spec.suspend unset). charts.md section 8.
FLUX_NOT_READY = (
    'max by (customresource_kind, exported_namespace, name) (gotk_resource_info{ready="False", suspended!="true"}) == 1'
)
# Ready=Unknown: a reconcile still in progress (or a controller that stopped updating the object).
FLUX_UNKNOWN = FLUX_NOT_READY.replace('ready="False"', 'ready="Unknown"')
CERT_EXPIRY = f"certmanager_certificate_expiration_timestamp_seconds - time() < {CERT_EXPIRY_WINDOW_SECONDS}"


def _flux_stuck_rule(config: Config) -> dict:
    """Ready=Unknown for `spec.flux.unknownFor`: a reconcile that never finishes never sets Ready=False."""
    what = "{{ $labels.customresource_kind }} {{ $labels.exported_namespace }}/{{ $labels.name }}"
    return {
        "alert": "FluxResourceStuck",
        "expr": FLUX_UNKNOWN,
        "for": config.flux.unknown_for,
        "labels": {"severity": "warning"},
        "annotations": {
            "summary": f"Flux {what} has been reconciling for more than {config.flux.unknown_for}",
            "description": (
                f"{what} has reported Ready=Unknown (reconciliation in progress) for more than "
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
                            "summary": (
                                "Flux {{ $labels.customresource_kind }} "
                                "{{ $labels.exported_namespace }}/{{ $labels.name }} is not ready"
                            ),
                            "description": (
                                "{{ $labels.customresource_kind }} {{ $labels.exported_namespace }}/{{ $labels.name }} "
                                f"has reported Ready=False for more than {FLUX_NOT_READY_FOR}. "
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


def rules_map(config: Config) -> dict:
    """key -> PrometheusRule spec; the chart names each rule object kube-prometheus-stack-<key>."""
    return {"flux-rules": _flux_rules(config), "cert-manager-rules": _cert_manager_rules()}
