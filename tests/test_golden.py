"""Golden files: the rendered stack may only change together with tests/golden/ (scripts/update-golden.sh).

Each tests/golden/<name>/stack.yaml is the exact stdout of `observability-fn render CONFIG`, kept as
one multi-document file because that is what the command prints: the comparison is byte for byte,
and a change reads top to bottom in one diff. (The one-file-per-object layout of `render --output`
is covered by the Flux render tests.) CONFIG is <name>/config.yaml, or for `default` the shipped
function-config/observability.yaml.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from krm_fn import components
from krm_fn import config as config_model
from krm_fn import yaml as yamlio
from tests.helpers import DEFAULT_CONFIG_FILE, REPO, default_config, run_cli

GOLDEN = REPO / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def config_file(case: str) -> Path:
    own = GOLDEN / case / "config.yaml"
    return own if own.exists() else DEFAULT_CONFIG_FILE


def render(case: str, env: dict | None = None) -> str:
    proc = run_cli("render", str(config_file(case)), env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    return proc.stdout.decode()


def test_default_case_exists():
    assert "default" in CASES
    assert not (GOLDEN / "default" / "config.yaml").exists()  # default renders the shipped config


@pytest.mark.parametrize("case", CASES)
def test_output_matches_golden(case: str):
    golden = (GOLDEN / case / "stack.yaml").read_text()
    got = render(case)
    if got != golden:
        diff = "".join(
            difflib.unified_diff(golden.splitlines(keepends=True), got.splitlines(keepends=True), "golden", "now", n=2)
        )
        pytest.fail(f"tests/golden/{case}/stack.yaml is out of date; run scripts/update-golden.sh\n{diff[:4000]}")


@pytest.mark.parametrize("case", CASES)
def test_golden_parses_strictly(case: str):
    """The checked-in output is valid YAML with no duplicate keys (the seed had two `prometheus:`)."""
    docs = yamlio.load_documents((GOLDEN / case / "stack.yaml").read_text())
    assert docs and all(isinstance(d.data, dict) and d.data.get("kind") for d in docs)


def test_byte_identical_across_runs_and_hash_seeds():
    outputs = {seed: render("default", env={"PYTHONHASHSEED": seed}) for seed in ("0", "1", "4242", "random")}
    outputs["again"] = render("default", env={"PYTHONHASHSEED": "random"})
    assert len(set(outputs.values())) == 1


def test_in_process_generation_is_repeatable():
    cfg, _ = config_model.load(default_config())
    assert cfg is not None
    first = [yamlio.dump_document(o) for o in components.generate(cfg)]
    second = [yamlio.dump_document(o) for o in components.generate(cfg)]
    assert first == second
