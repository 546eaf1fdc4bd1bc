#!/usr/bin/env python3
"""Print docs/ha.md's diagrams and resource tables from krm_fn.summary (`--write` updates docs/ha.md).

The profiles are drawn from function-config/observability.yaml (the shipped config) and the ha golden
configs, through the same Config the components read, so the picture cannot drift from the output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from krm_fn import config as config_model  # noqa: E402 - after the sys.path line
from krm_fn import summary  # noqa: E402
from scripts.generated import write_block  # noqa: E402

PAGE = ROOT / "docs" / "ha.md"
START, END = "<!-- scaling:start -->", "<!-- scaling:end -->"
PROFILES = (
    ("single-node", ROOT / "function-config" / "observability.yaml"),
    ("ha", ROOT / "tests" / "golden" / "ha" / "config.yaml"),
    ("ha without Thanos, Loki still SimpleScalable", ROOT / "tests" / "golden" / "ha-variant" / "config.yaml"),
)


def block() -> str:
    parts = [START]
    for name, path in PROFILES:
        loaded, errors = config_model.load(yaml.safe_load(path.read_text()))
        assert loaded is not None, errors
        shown = path.relative_to(ROOT)
        parts += [f"**{name}** (`{shown}`):", "", "```mermaid", summary.diagram(loaded).rstrip(), "```", ""]
        parts += ["```text", f"$ observability-fn render --summary {shown}", summary.text(loaded).rstrip(), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def main() -> int:
    text = block()
    if "--write" in sys.argv:
        write_block(PAGE, START, END, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
