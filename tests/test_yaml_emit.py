"""krm_fn.yaml.emit: generated objects read back the same under YAML 1.1 and go-yaml v3."""

from __future__ import annotations

import pytest
import yaml

from krm_fn import yaml as yamlio


@pytest.mark.parametrize(
    "value",
    ["1.10", "0777", "0x1F", "on", "yes", "~", "null", "2001-12-14", "1e3", ".inf", "123", "true", "", "a: b", "- x"],
)
def test_generated_strings_stay_strings_for_both_yaml_versions(value: str):
    text = yamlio.dump_document({"v": value})
    assert yamlio.load_one(text) == {"v": value}  # go-yaml v3 typing
    assert yaml.safe_load(text) == {"v": value}  # YAML 1.1 typing


def test_multi_line_strings_use_literal_blocks_when_exact():
    assert yamlio.dump_document({"v": "a\nb\n"}) == "v: |\n  a\n  b\n"
    tricky = "trailing  \nspaces\n"
    assert yamlio.load_one(yamlio.dump_document({"v": tricky})) == {"v": tricky}


def test_dump_keeps_key_order_and_unicode():
    text = yamlio.dump_document({"z": 1, "a": "été ✓", "m": None})
    assert text == "z: 1\na: été ✓\nm: null\n"
    assert yamlio.dump_sequence_entry({"b": 1, "a": 2}) == "- b: 1\n  a: 2\n"
