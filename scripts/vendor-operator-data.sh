#!/usr/bin/env bash
# Copy the operators' data files this project reads (CRDs, Flux Operator's dashboards) from
# fetched git snapshots into third_party/upstream, unchanged, at the release tags below.
#
#   scripts/vendor-operator-data.sh [MIRRORS]    # MIRRORS holds owner+name/repo (default /work/.mirror)
#
# Then run scripts/gen_crd_schemas.py (schemas) and scripts/gen_operator_data.py (package copies).
# third_party/upstream/crds/README.md and third_party/upstream/flux-operator/README.md record
# repository, tag, commit and path of every file; keep them in step with the table here.
set -euo pipefail

mirrors=${1:-/work/.mirror}
root=$(cd "$(dirname "$0")/.." && pwd)

# repository  tag  path-in-repository  destination-under-third_party/upstream
files=(
    "external-secrets/external-secrets v2.9.0 config/crds/bases/external-secrets.io_externalsecrets.yaml crds/external-secrets.io_externalsecrets.yaml"
    "grafana/grafana-operator v5.24.0 config/crd/bases/grafana.integreatly.org_grafanadashboards.yaml crds/grafana.integreatly.org_grafanadashboards.yaml"
    "grafana/grafana-operator v5.24.0 config/crd/bases/grafana.integreatly.org_grafanadatasources.yaml crds/grafana.integreatly.org_grafanadatasources.yaml"
    "grafana/grafana-operator v5.24.0 config/crd/bases/grafana.integreatly.org_grafanafolders.yaml crds/grafana.integreatly.org_grafanafolders.yaml"
    "giantswarm/silence-operator v0.21.0 config/crd/bases/observability.giantswarm.io_silences.yaml crds/observability.giantswarm.io_silences.yaml"
    "controlplaneio-fluxcd/flux-operator v0.58.1 config/crd/bases/fluxcd.controlplane.io_fluxinstances.yaml crds/fluxcd.controlplane.io_fluxinstances.yaml"
    "controlplaneio-fluxcd/flux-operator v0.58.1 config/monitoring/dashboards/flux-performance.json flux-operator/dashboards/flux-performance.json"
    "controlplaneio-fluxcd/flux-operator v0.58.1 config/monitoring/dashboards/flux-k8s-api-performance.json flux-operator/dashboards/flux-k8s-api-performance.json"
)

for entry in "${files[@]}"; do
    read -r repo tag path dest <<<"$entry"
    git_dir=$mirrors/${repo/\//+}/repo
    [[ -d $git_dir ]] || { echo "vendor-operator-data: no snapshot of $repo at $git_dir (fetch it first)" >&2; exit 1; }
    mkdir -p "$(dirname "$root/third_party/upstream/$dest")"
    git -C "$git_dir" show "$tag:$path" >"$root/third_party/upstream/$dest"
    echo "$repo $tag $(git -C "$git_dir" rev-parse "$tag^{commit}") $path -> third_party/upstream/$dest"
done
