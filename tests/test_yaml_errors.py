"""YAML error messages: the line go-yaml names for the same file, YAML's own tokens kept, no input text.

Each broken file goes through the real kustomize (go-yaml v3) and through our loader; the line
numbers must agree, so a user sees the same place from `kustomize build` and from us.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from krm_fn import yaml as yamlio
from tests.tools import tool

HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
SECRET = "hunter2-s3cr3t"
BROKEN = {
    "unclosed double quote": f'  a: "{SECRET}\n  b: [y\n',
    "tab as indentation": f"  a:\n\t- {SECRET}\n",
    "key left of its siblings": f"  a:\n    b: {SECRET}\n   c: 2\n",
    "list entry in a mapping": f"  a: {SECRET}\n  - b\n",
    "two colons": f"  a: {SECRET}: c\n",
    "unclosed flow sequence": f"  a: [1, {SECRET}\n  b: 3\n",
    "unclosed flow mapping": f"  a: {{b: 1, {SECRET}\n",
    "block scalar dedented": f"  a: |\n    x\n   {SECRET}\n",
    "text after a quote": f"  a: 'x'{SECRET}\n",
    "unclosed tag": f"  a: !<x {SECRET}\n",
    "reserved indicator": f"  a: @{SECRET}\n",
    "open flow at the end": f"  a: 1\n  b: [\n  c: {SECRET}\n",
    "deeper key": f"  a: 1\n   b: {SECRET}\n",
}


def kustomize_line(tmp_path: Path, text: str) -> int:
    (tmp_path / "x.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text("resources:\n- x.yaml\n")
    proc = subprocess.run(
        [tool("kustomize"), "build", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode != 0
    found = re.search(r"yaml: line (\d+):", proc.stderr)
    assert found, proc.stderr
    return int(found.group(1))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_lines_agree_with_go_yaml_and_nothing_of_the_input_is_shown(name: str, tmp_path: Path):
    text = HEAD + BROKEN[name]
    with pytest.raises(yamlio.YamlError) as err:
        yamlio.load_documents(text)
    assert err.value.line == kustomize_line(tmp_path, text), str(err.value)
    assert SECRET not in str(err.value)
    assert "(input text)" not in str(err.value) or "'" not in BROKEN[name]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("- a\nb: 1\n", "'-'"),  # did not find expected '-' indicator
        ("a: [1, 2\nb: 3\n", "',' or ']'"),
        ("a: {b: 1, c\n", "',' or '}'"),
        ("a: !<x y\n", "'>'"),
    ],
)
def test_structural_tokens_stay_readable(text: str, kept: str):
    with pytest.raises(yamlio.YamlError) as err:
        yamlio.load_one(text)
    assert kept in str(err.value), str(err.value)
    assert "input text" not in str(err.value)


def test_an_alias_name_is_not_echoed():
    with pytest.raises(yamlio.YamlError) as err:
        yamlio.load_one(f"a: &x 1\nb: &x 2\nc: *{SECRET}\n")  # the Python composer quotes the alias
    assert SECRET not in str(err.value) and "undefined alias" in str(err.value)
