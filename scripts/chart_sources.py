"""Where each chart's releases are tagged upstream: one table for the scripts that read fetched
chart repositories (update-charts.py learns the releases; chart-cache.py lays out a release's
sources, with its dependencies, for `helm template`).

The repositories are those the library's `fetch` brings (`owner+name/repo` git directories), or any
clone laid out the same way.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# Who publishes charts, and where: `url` is the https Helm repository, whose index.yaml is the
# `gh-pages` branch of the fetched repository `mirror` (GitHub Pages serves it); `oci` is the OCI
# registry path the publisher's docs name (a chart is at <oci>/<chart>). A release is what the index
# lists (scripts/published.py), not a tag: a tag that was never published cannot be installed.
# Evidence for the OCI paths: docs/reference/published-releases.md.
PUBLISHERS = {
    "prometheus-community": {
        "url": "https://prometheus-community.github.io/helm-charts",
        "oci": "oci://ghcr.io/prometheus-community/charts",
        "mirror": "prometheus-community+helm-charts",
    },
    "grafana": {
        "url": "https://grafana.github.io/helm-charts",
        "oci": "oci://ghcr.io/grafana/helm-charts",
        "mirror": "grafana+helm-charts",
    },
    "grafana-community": {
        "url": "https://grafana-community.github.io/helm-charts",
        "oci": "oci://ghcr.io/grafana-community/helm-charts",
        "mirror": "grafana-community+helm-charts",
    },
    "stevehipwell": {
        "url": "https://stevehipwell.github.io/helm-charts",
        "oci": "oci://ghcr.io/stevehipwell/helm-charts",
        "mirror": "stevehipwell+helm-charts",
    },
    # No index can be read here, and none is updated: Bitnami stopped publishing its charts to
    # index.yaml and registry-1.docker.io in October 2025 (bitnami/charts#36310).
    "bitnami": {
        "url": "https://charts.bitnami.com/bitnami",
        "oci": "oci://registry-1.docker.io/bitnamicharts",
        "mirror": None,
    },
}

# chart -> where its releases are tagged, oldest supported first. A chart that moved between
# repositories has several sources; `max` ends one source where the next begins.
SOURCES = {
    "kube-prometheus-stack": [
        {
            "mirror": "prometheus-community+helm-charts",
            "tag": "kube-prometheus-stack-{}",
            "path": "charts/kube-prometheus-stack",
            "min": "82.18.0",
            "publisher": "prometheus-community",
        }
    ],
    "loki": [
        {
            "mirror": "grafana+loki",
            "tag": "helm-loki-{}",
            "path": "production/helm/loki",
            "min": "6.55.0",
            "max": "6.55.0",
            "publisher": "grafana",
        },
        {
            # grafana-community forked the OSS chart at 6.55.0 (March 2026) and publishes it since.
            "mirror": "grafana-community+helm-charts",
            "tag": "loki-{}",
            "path": "charts/loki",
            "min": "6.56.0",
            "publisher": "grafana-community",
        },
    ],
    "alloy": [
        {
            "mirror": "grafana+alloy",
            "tag": "helm-chart/{}",
            "path": "operations/helm/charts/alloy",
            "min": "1.11.1",
            "publisher": "grafana",
        }
    ],
    "thanos": [
        {
            # The ha profile's Thanos: stevehipwell/helm-charts, published at
            # https://stevehipwell.github.io/helm-charts and oci://ghcr.io/stevehipwell/helm-charts (docs/ha.md).
            "mirror": "stevehipwell+helm-charts",
            "tag": "thanos-{}",
            "path": "charts/thanos",
            "min": "1.24.1",
            "publisher": "stevehipwell",
        }
    ],
}

# Subcharts of kube-prometheus-stack: where each is tagged (the repository in Chart.yaml says who
# publishes it; grafana moved to grafana-community, which kept the tags of its history).
SUBCHARTS = {
    "grafana": {
        "mirror": "grafana-community+helm-charts",
        "tag": "grafana-{}",
        "path": "charts/grafana",
        "publisher": "grafana-community",
    },
    "kube-state-metrics": {
        "mirror": "prometheus-community+helm-charts",
        "tag": "kube-state-metrics-{}",
        "path": "charts/kube-state-metrics",
        "publisher": "prometheus-community",
    },
    "prometheus-node-exporter": {
        "mirror": "prometheus-community+helm-charts",
        "tag": "prometheus-node-exporter-{}",
        "path": "charts/prometheus-node-exporter",
        "publisher": "prometheus-community",
    },
    "prometheus-windows-exporter": {
        "mirror": "prometheus-community+helm-charts",
        "tag": "prometheus-windows-exporter-{}",
        "path": "charts/prometheus-windows-exporter",
        "publisher": "prometheus-community",
    },
}

# Other dependencies of the charts above. Helm needs every dependency present to render, even one
# whose condition is false (Loki's minio, rollout-operator). `package` names a published chart
# archive kept in the repository itself (charts.min.io serves minio's from helm-releases/).
DEPENDENCIES = {
    "minio": {"mirror": "minio+minio", "package": "helm-releases/minio-{}.tgz"},
    "rollout-operator": {
        "mirror": "grafana+helm-charts",
        "tag": "rollout-operator-{}",
        "path": "charts/rollout-operator",
    },
    "grafana-agent-operator": {
        "mirror": "grafana+helm-charts",
        "tag": "grafana-agent-operator-{}",
        "path": "charts/agent-operator",
    },
}

UPSTREAM_URL = {
    "prometheus-community+helm-charts": "https://github.com/prometheus-community/helm-charts",
    "grafana-community+helm-charts": "https://github.com/grafana-community/helm-charts",
    "grafana+loki": "https://github.com/grafana/loki",
    "grafana+alloy": "https://github.com/grafana/alloy",
    "grafana+helm-charts": "https://github.com/grafana/helm-charts",
    "minio+minio": "https://github.com/minio/minio",
    "stevehipwell+helm-charts": "https://github.com/stevehipwell/helm-charts",
}


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def in_range(version: str, source: dict) -> bool:
    """Is `version` within a SOURCES entry's `min` (and `max`, when it has one)?"""
    key = version_key(version)
    return key >= version_key(source["min"]) and ("max" not in source or key <= version_key(source["max"]))


def git(mirror: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(mirror), *args], input=stdin, capture_output=True, text=True, check=True
    ).stdout


def release_tags(mirror: Path, pattern: str) -> dict[str, str]:
    """version -> tag, for the tags of one chart (plain X.Y.Z versions only)."""
    prefix, suffix = pattern.split("{}")
    out = {}
    for tag in git(mirror, "tag", "--list", pattern.replace("{}", "*")).split():
        version = tag[len(prefix) : len(tag) - len(suffix) if suffix else None]
        parts = version.split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out[version] = tag
    return out


def tag_info(mirror: Path, tag: str) -> tuple[str, str]:
    """The commit a tag points at and its date (YYYY-MM-DD)."""
    commit, date = git(mirror, "log", "-1", "--format=%H %cs", f"{tag}^{{commit}}").split()
    return commit, date
