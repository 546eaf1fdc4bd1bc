#!/usr/bin/env bash
# Regenerate the golden files that tests/test_golden.py compares the function's output with.
#
#   scripts/update-golden.sh
#
# Each directory under tests/golden/ holds stack.yaml: the stdout of
# `observability-fn render CONFIG`, where CONFIG is the directory's config.yaml, or for
# tests/golden/default/ (which has none) function-config/observability.yaml. Review the diff
# (`git diff tests/golden`) before committing it: it is the change users will see. Then
# `make rendered` re-renders tests/rendered/ (what helm makes of the HelmReleases) from them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FN=${OBSERVABILITY_FN:-$ROOT/.venv/bin/observability-fn}
[[ -x $FN ]] || { echo "update-golden: $FN not found; run 'make dev' first" >&2; exit 1; }
export OBSERVABILITY_FN_CACHE=off

for dir in "$ROOT"/tests/golden/*/; do
    dir=${dir%/}
    config=$dir/config.yaml
    [[ -f $config ]] || config=$ROOT/function-config/observability.yaml
    # stderr carries info results (e.g. "Secret could not be checked"); only stdout is golden.
    "$FN" render "$config" >"$dir/stack.yaml.tmp" 2>/dev/null || {
        rm -f "$dir/stack.yaml.tmp"
        echo "update-golden: render failed for ${config#"$ROOT"/}:" >&2
        "$FN" render "$config" >/dev/null
        exit 1
    }
    mv "$dir/stack.yaml.tmp" "$dir/stack.yaml"
    echo "update-golden: ${dir#"$ROOT"/}/stack.yaml <- ${config#"$ROOT"/}"
done
