"""The documentation site: generated pages up to date, a strict build, and a README that stays short.

The site is MkDocs with the Material theme (mkdocs.yml); `make docs` builds it into site/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO
from tests.tools import missing

README = REPO / "README.md"
README_MAX_LINES = 250


def test_generated_pages_are_up_to_date():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_the_site_builds_in_strict_mode(tmp_path: Path):
    """A broken link, a missing anchor or a page left out of the navigation fails the build."""
    mkdocs = Path(sys.executable).parent / "mkdocs"
    if not mkdocs.exists():
        missing("mkdocs is not installed in the test venv; run pip install -e '.[test]'")
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    problems = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0 and not problems, "\n".join(problems) or proc.stderr[-3000:]


def test_the_readme_is_short_and_its_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) <= README_MAX_LINES, "the README is the front door: move detail into docs/"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (REPO / target).exists(), f"README links to {target}, which does not exist"
