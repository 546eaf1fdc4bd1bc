"""Charts the function no longer installs, and what a config that still names them should change.

Until issue 22 the ha profile's Thanos came from Bitnami's thanos chart 17.6.0, which was never
published (bitnami/charts#36310: Bitnami stopped publishing its charts in October 2025; 17.4.0 to
17.6.0 are git tags only). It is now stevehipwell/helm-charts' thanos chart (docs/ha.md). A config
that pins a Bitnami release, or overrides one of its values, fails with what to write instead.
"""

from __future__ import annotations

# chart -> (the former publisher's major version, what to do): versions.chart_versions reports it.
FORMER_RELEASES: dict[str, tuple[int, str]] = {
    "thanos": (
        17,
        "thanos {version} is a release of Bitnami's thanos chart, which was never published "
        "(bitnami/charts#36310) and is no longer used: the ha profile installs stevehipwell's thanos chart; "
        "set spec.charts.thanos.version: {newest} or delete the field (docs/ha.md, From Bitnami's thanos chart)",
    ),
}

# chart -> {the path the values rule reports (the first unknown key of a branch): what to write instead}.
# The Bitnami 17.6.0 paths the function generated, and the ones a user was most likely to override.
FORMER_VALUES: dict[str, dict[str, str]] = {
    "thanos": {
        "global": "Bitnami's global settings have no counterpart; delete them",
        "image.registry": "the image is image.repository (default quay.io/thanos/thanos) and image.tag",
        "existingObjstoreSecret": (
            "the object store configuration comes from the stack Secret's key thanos-objstore.yaml "
            "(generated as objstoreConfig); delete it"
        ),
        "existingObjstoreSecretItems": "generated as objstoreConfig.key; delete it",
        "query.replicaCount": "query.replicas",
        "query.replicaLabel": "additionalReplicaLabels (generated: prometheus_replica)",
        "query.dnsDiscovery": "additionalEndpoints (generated: the Prometheus sidecars' Service)",
        "query.pdb": "query.podDisruptionBudget (generated: maxUnavailable 1)",
        "query.extraFlags": "query.extraArgs",
        "queryFrontend.replicaCount": "queryFrontend.replicas",
        "storegateway": "storeGateway (replicaCount is replicas, pdb is podDisruptionBudget, extraFlags is extraArgs)",
        "compactor": (
            "compact (extraFlags is extraArgs); the retention is spec.thanos.retention "
            "(raw, downsampled5m, downsampled1h)"
        ),
        "metrics": "serviceMonitor.enabled (generated: true)",
    },
}


def release_message(chart: str, version: str, newest: str) -> str | None:
    """What to say about a pinned release of a former publisher's chart, or None."""
    former = FORMER_RELEASES.get(chart)
    if former is None or not version.split(".")[0].isdigit() or int(version.split(".")[0]) != former[0]:
        return None
    return former[1].format(version=version, newest=newest)


def values_hint(chart: str, dotted_path: str) -> str | None:
    """What to write instead of a former publisher's values path, or None."""
    return FORMER_VALUES.get(chart, {}).get(dotted_path)
