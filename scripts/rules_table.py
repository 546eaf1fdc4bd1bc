#!/usr/bin/env python3
"""Print the README's rule table from the rule registry (`--write` updates README.md in place)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from krm_fn.checks import RULES
from krm_fn.engine import CONFIG_RULE, CONFLICT_RULE, PARSE_RULE

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"

# Checks the engine and the config loader make before any rule runs.
BUILT_IN = [
    (
        "config-schema",
        "error",
        "The ObservabilityConfig against its JSON Schema: unknown fields (with the nearest known one), "
        "missing fields, bad names, durations, quantities, unsupported chart versions",
    ),
    (CONFIG_RULE, "error", "No ObservabilityConfig, several, or a functionConfig of another kind"),
    (PARSE_RULE, "error", "YAML that does not parse, duplicate keys (named, with both lines), alias bombs"),
    (
        CONFLICT_RULE,
        "error",
        "An object of yours with the identity of a generated one (one would silently replace the other)",
    ),
]


def table() -> str:
    rows = ["| rule | what it catches | severity |", "| --- | --- | --- |"]
    rows += [f"| `{rid}` | {summary} | {severity} |" for rid, severity, summary in BUILT_IN]
    rows += [f"| `{r.id}` | {r.summary} | {r.severity.value} |" for r in RULES]
    return "\n".join(rows)


def main() -> int:
    block = f"{START}\n{table()}\n{END}"
    if "--write" in sys.argv:
        text = README.read_text()
        README.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S))
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
