"""krm_fn.yaml.resolve: scalars typed as go-yaml v3 types them (through the loader), and which strings
the emitter may write plain."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn import yaml as yamlio
from krm_fn.yaml import emit, resolve


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


# --- plain_is_str: the emitter's question, answered without PyYAML ------------------------------


def pyyaml_resolver_says_str(text: str) -> bool:
    """emit.py's PyYAML resolver (YAML 1.1 and go-yaml v3): the reference."""
    return emit._dumpers().plain_is_str(text)


@pytest.mark.parametrize(
    "text",
    [
        *("yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "NULL", "", "<<", "=", "!", "&", "*"),
        *("0", "-0", "+7", "0777", "0o17", "0b101", "0x1F", "1_000", "1:20", "190:20:30", "1:60", "-1:5"),
        *("1.5", "1.", ".5", "-.5", "1e3", "1.0e+3", "1.0e3", "1:20.5", "1:20.5e+3", ".inf", "-.Inf", "+.INF", ".nan"),
        *(".NaN", "-.nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-1-1"),
        *("2001-12-14T1:59:43Z", "20011214", "1.10", "v1", "10Gi", "30d", "0.0.0.0:8080", "-", "--port", "._"),
        *("yes please", "nullable", "Nope", "o", "tRue", "1__", "0x", "0b", "0o", "+", ".", "1e", "1e3.5"),
    ],
)
def test_plain_is_str_answers_as_pyyaml_resolver(text: str):
    assert resolve.plain_is_str(text) == pyyaml_resolver_says_str(text)


numbers_and_words = st.text(alphabet=st.sampled_from("0123456789-+._:eExXoObBaAfFnNtTyYlLuUsSrR~<=!&* Zz"), max_size=14)
timestamps = st.from_regex(r"[-+]?[0-9]{1,5}([-:.][0-9]{1,4}){0,4}([ Tt]+[0-9:.]{1,12})?[ Z+-]*", fullmatch=True)


@settings(max_examples=3000, deadline=None)
@given(text=numbers_and_words | timestamps)
def test_plain_is_str_is_pyyaml_resolver_over_generated_strings(text: str):
    assert resolve.plain_is_str(text) == pyyaml_resolver_says_str(text)
