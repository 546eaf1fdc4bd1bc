"""Anchors as go-yaml v3 reads them, scoped per item; an item that does not read is reported alone.

go-yaml v3 (kustomize, kpt, Flux) accepts an anchor defined twice in one document: an alias
refers to the latest definition before it. PyYAML refuses it ("found duplicate anchor"). In a
ResourceList kpt sends, two items from different files may both define `&name`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from krm_fn import protocol
from krm_fn import yaml as yamlio
from krm_fn.yaml import split as splitter
from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, UPSTREAM

REDEFINED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: redefined
data:
  first: &value one
  first-again: *value
  second: &value two
  second-again: *value
"""
SAME_ANCHOR = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  x: &name {name}-value
  y: *name
"""
BROKEN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
data:
  count: !!int not-a-number
"""


def entry(document: str, path: str) -> str:
    """A document as kpt sends it in a ResourceList: an entry with its path annotations."""
    lines = document.replace("metadata:\n", f"metadata:\n  annotations:\n    config.kubernetes.io/path: '{path}'\n")
    return "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(lines.splitlines()))


def resource_list(*entries: str) -> str:
    return "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(entries)


def test_a_redefined_anchor_reads_as_go_yaml_reads_it():
    data = yamlio.load_one(REDEFINED)["data"]
    assert data == {"first": "one", "first-again": "one", "second": "two", "second-again": "two"}


def test_a_redefined_anchor_in_a_sequence_and_across_documents():
    assert yamlio.load_one("- &a 1\n- *a\n- &a [2]\n- *a\n") == [1, 1, [2], [2]]
    assert [d.data for d in yamlio.load_documents("a: &x 1\n---\nb: &x 2\nc: *x\n")] == [{"a": 1}, {"b": 2, "c": 2}]


def test_an_alias_before_any_definition_is_still_an_error():
    with pytest.raises(yamlio.YamlError, match="undefined alias"):
        yamlio.load_one("a: *x\nb: &x 1\n")


def test_a_redefined_anchor_does_not_send_the_list_through_the_node_round_trip():
    text = resource_list(entry(REDEFINED, "redefined.yaml"), entry(SAME_ANCHOR.format(name="b"), "b.yaml"))
    split = splitter._split_resource_list_fast(text)
    assert split is not None
    assert "".join(raw.text for raw in split.items) == text[text.index("- apiVersion") :]
    assert yamlio.parse_raw_item(split.items[0])["data"]["second-again"] == "two"


def test_two_items_defining_the_same_anchor_each_keep_their_own():
    entries = [entry(SAME_ANCHOR.format(name=n), f"{n}.yaml") for n in ("a", "b")]
    text = resource_list(*entries)
    for split in (splitter._split_resource_list_fast(text), splitter._split_resource_list_nodes(text)):
        assert [yamlio.parse_raw_item(raw)["data"]["y"] for raw in split.items] == ["a-value", "b-value"]
    assert [raw.text for raw in yamlio.split_resource_list(text).items] == entries  # byte for byte


def test_a_broken_item_is_reported_with_its_own_file_and_the_rest_still_runs():
    config = DEFAULT_CONFIG_FILE.read_text()
    good = entry(SAME_ANCHOR.format(name="good"), "apps/good.yaml")
    text = resource_list(entry(REDEFINED, "apps/redefined.yaml"), entry(BROKEN, "apps/broken.yaml"), good)
    text += "functionConfig:\n" + "".join("  " + line + "\n" for line in config.splitlines())
    outcome = protocol.run_krm(text.encode())
    assert outcome.exit_code == 1
    errors = [line for line in outcome.stderr.splitlines() if "apps/" in line]
    assert len(errors) == 1, outcome.stderr
    assert "apps/broken.yaml" in errors[0] and "line 8 of the object" in errors[0], errors[0]
    assert "not-a-number" not in outcome.stderr


# --- the real kpt ---------------------------------------------------------------------------


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def kpt(*args: str) -> subprocess.CompletedProcess:
    from tests.tools import tool

    env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off"}
    return subprocess.run([tool("kpt"), *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def anchor_package(root: Path, broken: bool = False) -> Path:
    root.mkdir(parents=True)
    (root / "redefined.yaml").write_text(REDEFINED)
    (root / "a.yaml").write_text(SAME_ANCHOR.format(name="a"))
    (root / "b.yaml").write_text(SAME_ANCHOR.format(name="b"))
    if broken:
        (root / "broken.yaml").write_text(BROKEN)
    shutil.copy(DEFAULT_CONFIG_FILE, root / "obs.yaml")
    shutil.copy(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml", root / "monitoring-secrets.enc.yaml")
    return root


@pytest.mark.e2e
def test_kpt_fn_eval_renders_a_package_with_redefined_and_shared_anchors(tmp_path: Path):
    pkg = anchor_package(tmp_path / "pkg")
    original = files(pkg)
    run = kpt("fn", "eval", str(pkg), "--exec", FUNCTION, "--fn-config", f"{pkg}/obs.yaml")
    assert run.returncode == 0, run.stderr
    after = files(pkg)
    for name in ("redefined.yaml", "a.yaml", "b.yaml"):
        assert after[name] == original[name], name
    assert any(name.startswith("generated/") for name in after)


@pytest.mark.e2e
def test_kpt_fn_render_renders_a_package_with_a_redefined_anchor(tmp_path: Path):
    pkg = anchor_package(tmp_path / "pkg")
    (pkg / "Kptfile").write_text(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\npipeline:\n  mutators:\n"
        f"    - exec: {FUNCTION}\n      configPath: obs.yaml\n"
    )
    original = files(pkg)
    run = kpt("fn", "render", str(pkg), "--allow-exec")
    assert run.returncode == 0, run.stderr
    after = files(pkg)
    assert after["redefined.yaml"] == original["redefined.yaml"]
    assert any(name.startswith("generated/") for name in after)


@pytest.mark.e2e
def test_kpt_names_the_file_of_an_item_that_does_not_read(tmp_path: Path):
    pkg = anchor_package(tmp_path / "pkg", broken=True)
    run = kpt("fn", "eval", str(pkg), "--exec", FUNCTION, "--fn-config", f"{pkg}/obs.yaml")
    assert run.returncode != 0
    assert "broken.yaml" in run.stderr, run.stderr
    assert "redefined.yaml" not in run.stderr and "a.yaml" not in run.stderr, run.stderr
    assert "not-a-number" not in run.stderr
