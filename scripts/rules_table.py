#!/usr/bin/env python3
"""Print the README's rule table from the rule registry (`--write` updates README.md in place)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import krm_fn.checks  # noqa: F401 - registers the check rules after the pipeline's own
from krm_fn.rules import RULES

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def table() -> str:
    rows = ["| rule | what it catches | severity | `spec.checks.rules` |", "| --- | --- | --- | --- |"]
    rows += [f"| `{r.id}` | {r.summary} | {r.severity.value} | {'yes' if r.configurable else 'no'} |" for r in RULES]
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
