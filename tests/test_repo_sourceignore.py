"""krm_fn.repo.sourceignore: what Flux leaves out of a repository's artifact, as source-controller
decides it (fluxcd/pkg sourceignore and its gitignore matcher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from krm_fn.repo.sourceignore import Ignore


@pytest.fixture
def ignore(tmp_path: Path) -> Ignore:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    (tmp_path / ".sourceignore").write_text("# comment\ndocs/\n*.md\n/top.yaml\n!keep.md\n!docs/kept.yaml\n")
    (tmp_path / "a" / ".sourceignore").write_text("b/*.yaml\n")
    return Ignore(str(tmp_path))


@pytest.mark.parametrize(
    ("path", "left_out"),
    [
        ("docs/x.yaml", True),  # a directory pattern matches at any depth
        ("a/docs/y.yaml", True),
        ("docs/kept.yaml", False),  # re-included below an ignored directory: each file is matched on its own
        ("top.yaml", True),  # anchored to the .sourceignore's directory
        ("a/top.yaml", False),
        ("r.md", True),
        ("keep.md", False),  # negation: the last matching pattern decides
        ("a/b/c.yaml", True),  # a subdirectory's .sourceignore is scoped to it
        ("a/c.yaml", False),
        ("a/b/d/c.yaml", False),  # `*` does not cross `/`
        (".gitignore", True),  # the VCS patterns always apply
        (".sops.yaml", False),  # the other defaults only when there is no .sourceignore at all
        (".github/workflows/ci.yaml", False),
        ("apps/app.yaml", False),
    ],
)
def test_left_out(ignore: Ignore, tmp_path: Path, path: str, left_out: bool):
    assert ignore.ignored(str(tmp_path / path)) is left_out


@pytest.mark.parametrize(
    ("path", "left_out"),
    [(".sops.yaml", True), ("x/y/.sops.yaml", True), (".github/workflows/ci.yaml", True), ("a/app.yaml", False)],
)
def test_the_defaults_apply_without_a_sourceignore(tmp_path: Path, path: str, left_out: bool):
    assert Ignore(str(tmp_path)).ignored(str(tmp_path / path)) is left_out


def test_spec_ignore_adds_patterns_after_the_files(tmp_path: Path):
    (tmp_path / ".sourceignore").write_text("*.txt\n")
    found = Ignore(str(tmp_path), spec_ignore="/*\n!/kubernetes/\n")
    assert found.ignored(str(tmp_path / "talos/config.yaml"))
    assert not found.ignored(str(tmp_path / "kubernetes/apps/a.yaml"))


def test_paths_outside_the_root_are_never_left_out(ignore: Ignore, tmp_path: Path):
    assert ignore.ignored(str(tmp_path.parent / "r.md")) is False
