"""What runs keep next to the bytecode (krm_fn/pycache.py): compiled regexes, schema definitions, values trees.

None of it may change an output: a run that writes it, a run that reads it and a run without it
give the same bytes. Each test points krm_fn.pycache.DIRECTORY at a temporary directory, in a
subprocess for anything that installs the regex table (it replaces `re`'s compile step).
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from krm_fn import pycache
from tests.helpers import REPO, default_config, resource_list

CONSOLE = textwrap.dedent(
    """
    import sys
    from krm_fn import pycache
    pycache.DIRECTORY = sys.argv[1]
    from krm_fn.cli import console
    sys.argv = ["observability-fn"]
    console()
    """
)


def _run(stdin: bytes, directory: Path, write: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **extra_env}
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", CONSOLE, str(directory)], input=stdin, capture_output=True, env=env, cwd=REPO
    )


def _stdin() -> bytes:
    items = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps", "annotations": {"config.kubernetes.io/path": "web.yaml"}},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
    ]
    secret = yaml.safe_load((REPO / "third_party/upstream/sops/monitoring-secrets.enc.yaml").read_text())
    secret["metadata"].setdefault("annotations", {})["config.kubernetes.io/path"] = "secret.enc.yaml"
    return resource_list([*items, secret], default_config())


def test_a_run_writes_what_the_next_reads_and_outputs_never_differ(tmp_path):
    stdin = _stdin()
    without = _run(stdin, tmp_path / "none", write=False)
    assert not (tmp_path / "none").exists()
    first = _run(stdin, tmp_path / "kept")
    kept = sorted(p.name.split(".")[0] for p in (tmp_path / "kept").iterdir())
    assert "re" in kept and any(name.startswith("values-") for name in kept)
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "kept").iterdir()}
    second = _run(stdin, tmp_path / "kept")
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "kept").iterdir()} == stamps  # read, not rewritten
    assert without.returncode == first.returncode == second.returncode == 0, second.stderr.decode()
    assert without.stdout == first.stdout == second.stdout
    assert without.stderr == first.stderr == second.stderr


def test_kubernetes_definitions_are_kept_for_a_validating_run(tmp_path):
    """With the validation cache off every run validates, and reads the definitions kept by the first."""
    assert _run(_stdin(), tmp_path, OBSERVABILITY_FN_CACHE="off").returncode == 0
    assert any(p.name.startswith("k8s-") for p in tmp_path.iterdir())


def test_regex_table_gives_the_patterns_re_gives(tmp_path):
    script = textwrap.dedent(
        """
        import json, re, sys
        from krm_fn import pycache, regex_cache
        pycache.DIRECTORY = sys.argv[1]
        sys.dont_write_bytecode = False
        regex_cache.install()
        patterns = [r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})", r"[^\\t\\n\\r -~\\x85\\xa0-\\ud7ff]", r"(?i)\\bflux\\b",
                    r"a|b+?c*", r"^\\s*#.*$"]
        results = []
        for p in patterns:
            c = re.compile(p, re.MULTILINE)
            m = c.search("year 2026-11 Flux x\\t# note")
            results.append([c.pattern, c.flags, c.groups, dict(c.groupindex), m and [m.span(), m.groups()]])
        regex_cache.save()
        print(json.dumps({"results": results, "new": regex_cache._state["new"]}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run() -> dict:
        proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, env=env, cwd=REPO)
        assert proc.returncode == 0, proc.stderr.decode()
        return json.loads(proc.stdout)

    first, second = run(), run()
    assert first["new"] > 0 and second["new"] == 0  # the second compiled nothing
    assert first["results"] == second["results"]


def test_an_entry_of_another_interpreter_or_a_damaged_file_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(pycache, "DIRECTORY", str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    pycache.store("thing", ("id", 1), {"a": [1, 2]})
    assert pycache.load("thing", ("id", 1)) == {"a": [1, 2]}
    assert pycache.load("thing", ("id", 2)) is None  # another identity (e.g. the data file changed)
    path = next(tmp_path.iterdir())
    path.write_bytes(marshal.dumps((("Python 2.7", ("id", 1)), {"a": [1, 2]})))
    assert pycache.load("thing", ("id", 1)) is None
    path.write_bytes(b"\x00garbage")
    assert pycache.load("thing", ("id", 1)) is None


def test_nothing_is_written_where_bytecode_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(pycache, "DIRECTORY", str(tmp_path / "p"))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    pycache.store("thing", 1, {"a": 1})
    assert not (tmp_path / "p").exists()
