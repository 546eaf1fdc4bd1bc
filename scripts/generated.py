"""Shared by the gen_*.py scripts: make a folder of derived files match what the script computes."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def sync(wanted: dict[Path, str], existing: list[Path], check: bool, script: str, repo: Path) -> int:
    """Write what changed and delete what is no longer derived; with `check`, only report (exit 1 if stale)."""
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]
    extra = sorted(set(existing) - set(wanted))
    if check:
        for path in [*stale, *extra]:
            print(f"stale: {path.relative_to(repo)} (run scripts/{script})", file=sys.stderr)
        return 1 if stale or extra else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted[path])
    for path in extra:
        path.unlink()
    for path, text in sorted(wanted.items()):
        print(f"{path.relative_to(repo)}: {len(text)} bytes")
    return 0


def write_block(page: Path, start: str, end: str, block: str) -> None:
    """Replace the text from the `start` marker to the `end` marker in `page` with `block` (markers included)."""
    text = page.read_text()
    page.write_text(re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S))
