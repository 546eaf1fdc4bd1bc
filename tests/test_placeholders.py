"""Flux post-build substitution placeholders: the grammar the rules use to call a field unknown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krm_fn.placeholders import has_placeholder, is_placeholder, placeholders, stand_in, substitute


@pytest.mark.parametrize(
    "text",
    ["${APP}", "${APP}-proxy", "${NAMESPACE:-default}", "${VAR:=x.example.com}", "a.${D}.b", "${_x1}", "${V:0:3}"],
)
def test_placeholders_are_recognised(text):
    assert has_placeholder(text)


@pytest.mark.parametrize(
    "text",
    ["app", "$APP", "${}", "${1A}", "$${APP}", "{APP}", "${APP", "price: $5", None, 3, ["${A}"]],
)
def test_other_text_is_not_a_placeholder(text):
    assert not has_placeholder(text)


def test_only_placeholder_and_stand_in():
    assert is_placeholder("${TOKEN}") and is_placeholder("${TOKEN:=abc}")
    assert not is_placeholder("${TOKEN}x") and not is_placeholder("x${TOKEN}")
    assert stand_in("${APP}.example.com") == "x.example.com"
    assert stand_in("${A}-${B:-z}") == "x-x"
    assert placeholders("${A}-${B:-z}") == ["${A}", "${B:-z}"]


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


@given(NAMES, st.sampled_from(["", ":=d", ":-d", "=d", "-d"]), st.text("abc.-", max_size=8))
def test_any_placeholder_in_any_text_is_found_and_replaced(name, operator, around):
    text = f"{around}${{{name}{operator}}}{around}"
    assert has_placeholder(text)
    assert stand_in(text) == f"{around}x{around}"


@pytest.mark.parametrize(
    ("text", "variables", "use_defaults", "expected"),
    [
        ("${APP}.example.com", {"APP": "grafana"}, False, "grafana.example.com"),
        ("${APP}.example.com", {}, False, "${APP}.example.com"),  # substituteFrom may still set it: unknown
        ("${NS:=default}", {}, False, "${NS:=default}"),
        ("${NS:=default}", {}, True, "default"),
        ("${NS:-default}", {"NS": ""}, False, "default"),  # `:` also replaces an empty value
        ("${NS-default}", {"NS": ""}, False, ""),
        ("${A}-${B:=b}", {"A": "a"}, True, "a-b"),
        ("${V:0:3}", {}, True, "${V:0:3}"),  # other operators: left unknown
        ("$${APP}", {"APP": "x"}, True, "$${APP}"),  # escaped
    ],
)
def test_substitute_resolves_what_flux_would_and_leaves_the_rest(text, variables, use_defaults, expected):
    assert substitute(text, variables, use_defaults) == expected
