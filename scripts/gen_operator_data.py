#!/usr/bin/env python3
"""Copy the vendored Flux Operator dashboards into the package, where the function reads them.

    scripts/gen_operator_data.py           # regenerate krm_fn/components/data/
    scripts/gen_operator_data.py --check   # exit 1 when a checked-in file is stale

Reads third_party/upstream/flux-operator/dashboards/*.json (copied unchanged from
controlplaneio-fluxcd/flux-operator by scripts/vendor-operator-data.sh; provenance in the README
there) and writes each as compact JSON with sorted keys to krm_fn/components/data/flux-operator/:
the same dashboard model, a third smaller, so the package does not ship third_party/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.generated import sync  # noqa: E402 - after the path set-up

SOURCE = REPO / "third_party" / "upstream" / "flux-operator" / "dashboards"
OUT_DIR = REPO / "krm_fn" / "components" / "data" / "flux-operator"


def outputs() -> dict[Path, str]:
    return {
        OUT_DIR / path.name: json.dumps(json.loads(path.read_text()), separators=(",", ":"), sort_keys=True) + "\n"
        for path in sorted(SOURCE.glob("*.json"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a checked-in file is stale")
    args = parser.parse_args(argv)
    return sync(outputs(), list(OUT_DIR.glob("*.json")), args.check, "gen_operator_data.py", REPO)


if __name__ == "__main__":
    sys.exit(main())
