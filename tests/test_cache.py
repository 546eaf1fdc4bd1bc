"""The validation cache: one journal of digests, read once a run, appended to, pruned when long."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from krm_fn import cache
from tests.helpers import REPO


@pytest.fixture
def journal_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("OBSERVABILITY_FN_CACHE", "on")
    monkeypatch.setenv("OBSERVABILITY_FN_CACHE_DIR", str(directory))
    cache.forget()
    yield directory
    cache.forget()


def test_a_remembered_digest_is_known_to_the_next_run(journal_dir):
    key = cache.digest("schema", b"payload")
    assert not cache.passed_before(key)
    cache.remember(key)
    cache.forget()  # as the next run, a new process, would
    assert cache.passed_before(key)
    assert not cache.passed_before(cache.digest("schema", b"other"))
    assert (journal_dir / "passed").read_text() == key + "\n"
    assert oct(journal_dir.stat().st_mode & 0o777) == "0o700"


def test_nothing_is_written_when_nothing_is_remembered(journal_dir):
    assert not cache.passed_before(cache.digest("schema", b"x"))
    assert not journal_dir.exists()


def test_off_means_no_memory(journal_dir, monkeypatch):
    monkeypatch.setenv("OBSERVABILITY_FN_CACHE", "off")
    cache.remember(cache.digest("schema", b"x"))
    assert not cache.passed_before(cache.digest("schema", b"x"))
    assert not journal_dir.exists()


def test_a_journal_others_can_write_is_ignored(journal_dir):
    key = cache.digest("schema", b"payload")
    journal_dir.mkdir(mode=0o700)
    (journal_dir / "passed").write_text(key + "\n")
    os.chmod(journal_dir / "passed", 0o666)
    assert not cache.passed_before(key)
    cache.remember(key)  # and not appended to either
    assert (journal_dir / "passed").read_text() == key + "\n"


def test_a_long_journal_is_rewritten_with_the_digests_the_run_used(journal_dir, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 5)
    old = [cache.digest("schema", f"old {i}".encode()) for i in range(10)]
    journal_dir.mkdir(mode=0o700)
    (journal_dir / "passed").write_text("".join(k + "\n" for k in old))
    assert cache.passed_before(old[3])
    new = cache.digest("schema", b"new")
    cache.remember(new)
    assert sorted((journal_dir / "passed").read_text().split()) == sorted([old[3], new])


def test_concurrent_runs_append_whole_lines(tmp_path):
    """Eight processes remembering 300 digests each at once: every line is one whole digest."""
    script = textwrap.dedent(
        """
        import sys
        from krm_fn import cache
        for i in range(300):
            cache.remember(cache.digest("schema", f"{sys.argv[1]} {i}".encode()))
        """
    )
    env = {**os.environ, "OBSERVABILITY_FN_CACHE": "on", "OBSERVABILITY_FN_CACHE_DIR": str(tmp_path / "c")}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)], env=env, cwd=REPO) for n in range(8)]
    assert all(p.wait() == 0 for p in procs)
    lines = (tmp_path / "c" / "passed").read_text().splitlines()
    assert len(lines) == 2400
    assert all(len(line) == 64 and int(line, 16) >= 0 for line in lines)
