#!/usr/bin/env bash
# Copy the upstream data files (chart values, CRDs, Flux monitoring example, SOPS fixtures)
# into third_party/upstream, unchanged, so that CI and the generator scripts work from a
# fresh clone. The source is the team's shared research folder; each subfolder's README
# records the upstream repository, path and commit of every file.
set -euo pipefail
src=${1:-"$(cd "$(dirname "$0")/../.." && pwd)/shared/upstream"}
dst="$(cd "$(dirname "$0")/.." && pwd)/third_party/upstream"
[ -d "$src" ] || { echo "no upstream data at $src" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst"
cp -R "$src"/. "$dst"/
chmod -R u+w "$dst"
find "$dst" -type f | sort | sed "s|$dst/||"
