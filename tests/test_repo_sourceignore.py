"""krm_fn.repo.sourceignore: what Flux leaves out of a repository's artifact (gitignore syntax)."""

from __future__ import annotations

from pathlib import Path

import pytest

from krm_fn.repo.sourceignore import Ignore


@pytest.fixture
def ignore(tmp_path: Path) -> Ignore:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".sourceignore").write_text("# comment\ndocs/\n*.md\n/top.yaml\n!keep.md\n")
    (tmp_path / "a" / ".sourceignore").write_text("b/*.yaml\n")
    found = Ignore(str(tmp_path))
    found.read(str(tmp_path / "a"))
    return found


@pytest.mark.parametrize(
    ("path", "left_out"),
    [
        ("docs/x.yaml", True),  # a directory pattern matches at any depth
        ("a/docs/y.yaml", True),
        ("docs", False),  # a file named docs is no directory
        ("top.yaml", True),  # anchored to the .sourceignore's directory
        ("a/top.yaml", False),
        ("r.md", True),
        ("keep.md", False),  # negation: the last matching pattern decides
        ("a/b/c.yaml", True),  # a subdirectory's .sourceignore is scoped to it
        ("a/c.yaml", False),
        ("a/b/d/c.yaml", False),  # `*` does not cross `/`
        (".sops.yaml", True),  # Flux's defaults
        ("x/y/.sops.yaml", True),
        (".github/workflows/ci.yaml", True),
        ("apps/app.yaml", False),
    ],
)
def test_left_out(ignore: Ignore, tmp_path: Path, path: str, left_out: bool):
    assert ignore.ignored(str(tmp_path / path)) is left_out


def test_paths_outside_the_root_are_never_left_out(ignore: Ignore, tmp_path: Path):
    assert ignore.ignored(str(tmp_path.parent / "r.md")) is False
