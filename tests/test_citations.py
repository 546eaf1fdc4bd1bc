"""Every "why" the repository cites can be followed from a clone.

Code, tests, scripts and docs cite the project's research notes as `docs/reference/<file>.md#<anchor>`.
A citation of a file or heading that does not exist fails here, and so does any citation of the
team's shared folder (`shared/reference/...`, `shared/seed/...`), which a clone does not have.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import REPO

CITATION = re.compile(r"docs/reference/([\w.-]+\.md)(?:#([\w-]+))?")
OUTSIDE = re.compile(r"shared/(?:reference|seed)/")
TEXT_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".sh", ".json", ".toml", ".cfg", "Makefile", "Dockerfile")


def tracked_text_files() -> list[str]:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in files if f.endswith(TEXT_SUFFIXES) and not f.startswith("third_party/")]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lowercase, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path) -> set[str]:
    found = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def citations() -> list[tuple[str, int, str, str | None]]:
    out = []
    for name in tracked_text_files():
        path = REPO / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            out.extend((name, number, m.group(1), m.group(2)) for m in CITATION.finditer(line))
    return out


def test_the_code_cites_the_reference_notes():
    assert len({(f, n) for f, n, _, _ in citations()}) >= 30


@pytest.mark.parametrize("where, number, target, anchor", citations(), ids=lambda v: str(v))
def test_every_citation_resolves(where: str, number: int, target: str, anchor: str | None):
    path = REPO / "docs" / "reference" / target
    assert path.is_file(), f"{where}:{number}: cites docs/reference/{target}, which does not exist"
    if anchor is not None:
        assert anchor in anchors(path), f"{where}:{number}: no heading #{anchor} in docs/reference/{target}"


def test_nothing_cites_the_shared_folder():
    offending = []
    for name in tracked_text_files():
        path = REPO / name
        if path.is_file() and name != "tests/test_citations.py":
            offending += [
                f"{name}:{n}"
                for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
                if OUTSIDE.search(line)
            ]
    assert not offending, f"citations a clone cannot follow: {offending}"


def test_a_broken_anchor_is_caught():
    path = REPO / "docs" / "reference" / "charts.md"
    assert "6-loki-audit" in anchors(path)
    assert "6-loki" not in anchors(path)
