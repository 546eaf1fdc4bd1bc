"""krm_fn.yaml.load: strict loading (duplicate keys, alias bombs, nesting), errors without input."""

from __future__ import annotations

import pytest

from krm_fn import yaml as yamlio
from krm_fn.yaml import YamlError


def test_duplicate_keys_are_refused_with_both_lines():
    with pytest.raises(YamlError) as err:
        yamlio.load_one("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert err.value.line == 4
    assert "first defined at line 3" in err.value.message


def test_keys_that_collide_as_data_are_refused():
    with pytest.raises(YamlError, match="same value"):
        yamlio.load_one("1: a\n0x1: b\n")


def test_alias_bomb_is_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(YamlError, match="alias bomb"):
        yamlio.load_one("\n".join(lines) + "\n")


def test_aliases_within_limits_load():
    assert yamlio.load_one("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "{b: " * 5000 + "1" + "}" * 5000])
def test_deep_flow_nesting_is_an_error_not_a_crash(text: str):
    with pytest.raises(YamlError, match="nested too deeply"):
        yamlio.load_one(text)


def test_deep_block_nesting_is_an_error_not_a_crash():
    text = "".join(" " * i + "k:\n" for i in range(1500))
    with pytest.raises(YamlError, match="nested too deeply"):
        yamlio.load_one(text)


def test_errors_never_quote_the_input():
    secret = "hunter2-very-secret"
    with pytest.raises(YamlError) as err:
        yamlio.load_one(f'a: "{secret}\nb: [{secret}\n')
    assert secret not in str(err.value)


def test_a_mapping_key_that_is_a_list_is_an_error():
    with pytest.raises(YamlError):
        yamlio.load_one("? [a, b]\n: c\n")


def test_yaml_is_imported_lazily():
    import subprocess
    import sys

    code = "import sys, krm_fn.yaml; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
