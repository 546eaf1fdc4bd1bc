#!/usr/bin/env python3
"""Print the README's rule table from the rule registry.

`--write` updates README.md in place, and the rule ids `spec.checks.rules` accepts in the
ObservabilityConfig JSON Schema (krm_fn/schema/observabilityconfig.json): run it after adding a rule.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import krm_fn.checks  # noqa: F401 - registers the check rules after the pipeline's own
from krm_fn.rules import RULES

README = Path(__file__).resolve().parent.parent / "README.md"
SCHEMA = Path(__file__).resolve().parent.parent / "krm_fn" / "schema" / "observabilityconfig.json"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def table() -> str:
    rows = ["| rule | what it catches | severity | `spec.checks.rules` |", "| --- | --- | --- | --- |"]
    rows += [f"| `{r.id}` | {r.summary} | {r.severity.value} | {'yes' if r.configurable else 'no'} |" for r in RULES]
    return "\n".join(rows)


def write_schema() -> None:
    """spec.checks.rules: one property per configurable rule id, in the registry's order."""
    schema = json.loads(SCHEMA.read_text())
    node = schema["properties"]["spec"]["properties"]["checks"]["properties"]["rules"]
    node["properties"] = {r.id: {"$ref": "#/$defs/ruleSeverity"} for r in RULES if r.configurable}
    SCHEMA.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")


def main() -> int:
    block = f"{START}\n{table()}\n{END}"
    if "--write" in sys.argv:
        text = README.read_text()
        README.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S))
        write_schema()
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
