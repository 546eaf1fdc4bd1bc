"""krm_fn.yaml.resolve: scalars typed as go-yaml v3 types them (through the loader)."""

from __future__ import annotations

import math

import pytest

from krm_fn import yaml as yamlio


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.10", 1.1),
        ("0777", 0o777),  # go-yaml v3: a leading 0 is octal
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("-0x10", -16),
        ("1_000", 1000),
        ("on", "on"),  # YAML 1.1 says true; go-yaml v3 says string
        ("yes", "yes"),
        ("n", "n"),
        ("True", True),
        ("FALSE", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("2001-12-14", "2001-12-14"),  # no timestamps in go-yaml v3
        ("1e3", 1000.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ('"123"', "123"),
        ("'0777'", "0777"),
        ("1:20", "1:20"),  # YAML 1.1 sexagesimal; a string to go-yaml
    ],
)
def test_scalars_resolve_as_go_yaml_v3(text: str, expected: object):
    assert yamlio.load_one(f"v: {text}\n") == {"v": expected}


def test_nan_is_a_float():
    value = yamlio.load_one("v: .nan\n")["v"]
    assert isinstance(value, float) and math.isnan(value)


def test_merge_keys_and_explicit_tags_go_through_pyyaml():
    text = "base: &b {a: 1}\nthing:\n  <<: *b\n  c: !!str 2\n  d: !!binary aGk=\n"
    assert yamlio.load_one(text) == {"base": {"a": 1}, "thing": {"a": 1, "c": "2", "d": b"hi"}}
