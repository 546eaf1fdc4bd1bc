#!/usr/bin/env bash
# Rewrite the "what a push looks like" block of docs/operations/pushover.md with the pushes the real Alertmanager sends
# for the default config (tests/test_alertmanager_pushes.py runs it; needs scripts/install-tools.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WRITE_PUSH_EXAMPLE=1 "$ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider \
    "tests/test_alertmanager_pushes.py::test_the_docs_show_what_the_real_alertmanager_sent"
