"""krm_fn/yaml/direct.py writes generated objects as PyYAML's emitter would, byte for byte, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krm_fn import components
from krm_fn.yaml import direct, emit, load_one, resolve
from tests.helpers import DEFAULT_CONFIG_FILE, REPO, load

GOLDEN = REPO / "tests" / "golden"


def _through_pyyaml(obj: dict, as_entry: bool) -> str:
    return emit._dump_generated([obj] if as_entry else obj)


def _direct(obj: dict, as_entry: bool) -> str | None:
    return direct.emit(obj, resolve.plain_is_str, as_entry)  # what emit.py passes


def _stack(config_file: Path) -> list[dict]:
    return components.generate(load(yaml.safe_load(config_file.read_text())))


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_every_golden_stack_is_written_directly_and_identically(case):
    """The fast path is the path: every object of every golden config takes it, with PyYAML's bytes."""
    config_file = GOLDEN / case / "config.yaml"
    objects = _stack(config_file if config_file.exists() else DEFAULT_CONFIG_FILE)
    for obj in objects:
        for as_entry in (False, True):
            text = _direct(obj, as_entry)
            assert text is not None, f"{obj['kind']} {obj['metadata']['name']} fell back to PyYAML"
            assert text == _through_pyyaml(obj, as_entry)


def test_what_it_cannot_prove_goes_through_pyyaml():
    shared = {"a": 1}
    for obj in (
        {"k": "tab\there"},
        {"k": "caf\u00e9"},
        {"k": "two breaks\n\n"},
        {"k": " leading space\nline"},
        {"k": "trailing space \nline"},
        {"k": [["nested"]]},
        {"k": 1.5},
        {"x" * 129: 1},
        {1: "int key"},
        {"a": shared, "b": shared},
    ):
        assert _direct(obj, False) is None, obj
        text = emit.dump_document(obj)  # still written, by PyYAML
        assert load_one(text) == obj


# --- properties --------------------------------------------------------------------------------

# Characters that steer libyaml's choice of style: indicators, spaces, breaks, digits and letters
# of the words that resolve to non-strings, a tab and a non-ASCII letter (both fall back).
ALPHABET = "-:?#,[]{}&*!|>'\"%@` .~\n\t0123456789xeEaAnNlLtTrRuUfFsSoOyY_+<=/\\\u00e9"
text = st.text(alphabet=ALPHABET, max_size=12)
keys = st.text(alphabet=ALPHABET.replace("\n", ""), min_size=1, max_size=10)
scalars = st.one_of(text, st.integers(-(10**12), 10**12), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)
objects = st.dictionaries(keys, values, min_size=1, max_size=5)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects, st.booleans())
def test_direct_text_is_pyyaml_text_whenever_given(obj, as_entry):
    text = _direct(obj, as_entry)
    if text is not None:
        assert text == _through_pyyaml(obj, as_entry)
