#!/usr/bin/env python3
"""After adding or changing a rule: write what follows from the rule registry.

    scripts/rules_table.py --write

- the rule ids `spec.checks.rules` accepts in the ObservabilityConfig JSON Schema
  (krm_fn/schema/observabilityconfig.json), one property per configurable rule, in the registry's order;
- the generated documentation pages (scripts/gen_docs.py: the rule reference and the config reference).

Without `--write` it prints the rule ids the schema would list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import krm_fn.checks  # noqa: E402, F401 - registers the check rules after the pipeline's own
from krm_fn.rules import RULES  # noqa: E402

SCHEMA = ROOT / "krm_fn" / "schema" / "observabilityconfig.json"


def write_schema() -> None:
    """spec.checks.rules: one property per configurable rule id, in the registry's order."""
    schema = json.loads(SCHEMA.read_text())
    node = schema["properties"]["spec"]["properties"]["checks"]["properties"]["rules"]
    node["properties"] = {r.id: {"$ref": "#/$defs/ruleSeverity"} for r in RULES if r.configurable}
    SCHEMA.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")


def main() -> int:
    if "--write" not in sys.argv:
        print("\n".join(r.id for r in RULES if r.configurable))
        return 0
    write_schema()
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_docs.py")], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
