"""krm_fn.yamlio: strict loading with go-yaml v3 typing, the fast split, the fallbacks, emitting."""

from __future__ import annotations

import math

import pytest
import yaml

from krm_fn import yamlio
from krm_fn.yamlio import YamlError

RL_HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"


def rl(items_text: str, tail: str = "") -> str:
    return RL_HEAD + "items:\n" + items_text + tail


# --- loading ---------------------------------------------------------------------------------


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


# --- the fast split ----------------------------------------------------------------------------


def items_of(text: str) -> list[object]:
    return yamlio.load_one(text)["items"]


def assert_split_agrees(text: str, fast_expected: bool = True) -> yamlio.SplitResourceList:
    """The fast split (when taken) and the node split both give the items a full parse gives."""
    full = yamlio.load_one(text)
    fast = yamlio._split_resource_list_fast(text)
    assert (fast is not None) == fast_expected
    nodes = yamlio._split_resource_list_nodes(text)
    for split in (s for s in (fast, nodes) if s is not None):
        assert [yamlio.parse_raw_item(raw) for raw in split.items] == full.get("items") or []
        assert split.function_config == full.get("functionConfig")
        for raw in split.items:
            if raw.header is not None:
                assert raw.header == yamlio._header_of(yamlio.parse_raw_item(raw))
    return fast or nodes


KPT_ITEM = """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cm
    namespace: apps
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'apps/cm.yaml'
      internal.config.kubernetes.io/seqindent: 'compact'
      config.k8s.io/id: '2'
  data:
    version: "1.10"
    mode: 0777
    flag: on
    script: |
      echo "it's fine"  \n      [ -f x ] && exit 0
    config.json: |-
        {"a": [1, "b"],
         "c": {'d': "e"}}
  emptyList: []

"""


def test_kpt_layout_takes_the_fast_path_and_keeps_the_text():
    text = rl(KPT_ITEM + KPT_ITEM.replace("name: cm", "name: cm2"), "functionConfig:\n  kind: X\n")
    split = assert_split_agrees(text)
    assert [raw.text for raw in split.items] == [KPT_ITEM, KPT_ITEM.replace("name: cm", "name: cm2")]
    assert split.items[0].header == {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "namespace": "apps"}
    assert split.items[1].line == 4 + KPT_ITEM.count("\n")
    fresh = yamlio._split_resource_list_fast(text)
    assert all(raw.parsed is yamlio._NOT_PARSED for raw in fresh.items)  # comments, block scalars: not parsed
    assert split.top == {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"}


def test_an_unclosed_quote_running_into_the_next_item_takes_the_node_path():
    # libyaml lets a double-quoted scalar continue at any indentation: this is ONE item.
    text = rl('- a: "one\n- b: two"\n')
    assert items_of(text) == [{"a": "one - b: two"}]
    assert_split_agrees(text, fast_expected=False)


def test_a_flow_collection_over_several_lines_is_parsed_alone():
    text = rl("- kind: A\n  args: [a,\n    b]\n- kind: B\n")
    split = assert_split_agrees(text)
    assert split.items[0].parsed == {"kind": "A", "args": ["a", "b"]}


def test_an_alias_to_another_items_anchor_takes_the_node_path():
    text = rl("- kind: A\n  x: &shared [1]\n- kind: B\n  y: *shared\n")
    assert_split_agrees(text, fast_expected=False)


@pytest.mark.parametrize(
    "text",
    [
        rl("- kind: A\n  metadata:\n    name: a\n").replace("\n", "\r\n"),
        rl('- kind: A\n  note: "x\u2028y"\n'),
        rl("- kind: A\n  note: x\u0085\n"),
        "\ufeff" + rl("- kind: A\n"),
    ],
)
def test_crlf_and_other_line_breaks_take_the_node_path(text: str):
    assert yamlio._split_resource_list_fast(text) is None
    assert [yamlio.parse_raw_item(r) for r in yamlio.split_resource_list(text).items] == items_of(text)


def test_a_tab_makes_the_item_parsed_alone():
    text = rl("- kind:\tSecret\n  metadata:\n    name: s\n")
    split = assert_split_agrees(text)
    assert split.items[0].header["kind"] == "Secret"


@pytest.mark.parametrize(
    "entry",
    [
        "- apiVersion: v1\n  kind: >-\n    Con\n    figMap\n  metadata: {name: x}\n",  # multi-line kind
        "- apiVersion: v1\n  kind: Config\n    Map\n",  # plain scalar over two lines
        "- kind: ConfigMap\n  metadata:\n    name: a\n      b\n",
        "- kind : ConfigMap\n  metadata :\n    name : spaced\n",
        "- kind: ConfigMap # comment\n  metadata: # c\n    name: 'quoted' # c\n",
        "- kind: 0777\n",  # an integer to go-yaml
        "- kind: on\n  metadata:\n    name: true\n",
        "- kind: ConfigMap\n  metadata:\n    - name: a-list\n",
        "- kind: ConfigMap\n  metadata:\n  - name: a-compact-list\n",
        "- kind: ConfigMap\n  metadata:\n    labels:\n      name: not-the-name\n    name: the-name\n",
        "- kind: ConfigMap\n  metadata:\n    namespace: ns\n    nameX: y\n",
        "- kinds: ConfigMap\n  kind: Secret\n",
        "- # a comment first\n  kind: ConfigMap\n",
        "-\n  kind: ConfigMap\n",
        "-\n    kind: ConfigMap\n    metadata:\n      name: deeper\n",
        "- kind: ConfigMap\n  data:\n    x: |\n      kind: Secret\n      metadata:\n        name: in-a-block\n",
        "- kind: ConfigMap\n  metadata:\n\n    name: after-blank\n\n  data: {}\n",
        "- kind: ConfigMap\n  metadata: {}\n",
        "- kind: ConfigMap\n  metadata: null\n",
        "- kind: ''\n  apiVersion: \"\"\n",
    ],
)
def test_headers_agree_with_the_parse(entry: str):
    assert_split_agrees(rl(entry + "- kind: Next\n"))


@pytest.mark.parametrize("entry", ["- just a string\n", "- - a\n  - list\n", "-\n", "- null\n", "- |\n  text\n"])
def test_items_that_are_not_mappings_are_errors_when_read(entry: str):
    split = yamlio.split_resource_list(rl(entry))
    raw = split.items[0]
    assert raw.header is None  # unknown: the engine parses it and reports
    with pytest.raises(YamlError, match="not a Kubernetes object"):
        yamlio.parse_raw_item(raw)


def test_a_duplicate_header_key_leaves_the_header_unknown():
    split = yamlio.split_resource_list(rl("- kind: A\n  kind: B\n"))
    assert split.items[0].header is None
    with pytest.raises(YamlError, match="duplicate key"):
        yamlio.parse_raw_item(split.items[0])


def test_wide_sequence_indentation_is_dedented():
    text = RL_HEAD + "items:\n  - kind: A\n    data:\n      x: |+\n        keep\n\n  - kind: B\n"
    split = assert_split_agrees(text)
    assert split.items[0].text == "- kind: A\n  data:\n    x: |+\n      keep\n\n"


def test_keep_chomping_blank_lines_stay_with_their_item():
    text = rl("- kind: A\n  x: |+\n    keep\n\n\n- kind: B\n")
    split = assert_split_agrees(text)
    assert yamlio.parse_raw_item(split.items[0])["x"] == "keep\n\n\n"


def test_a_last_block_scalar_without_a_final_line_break():
    text = rl("- kind: A\n  x: |\n    no break at the end")
    split = yamlio.split_resource_list(text)
    assert yamlio.parse_raw_item(split.items[0])["x"] == "no break at the end"


@pytest.mark.parametrize(
    "text",
    [
        RL_HEAD + "items: []\n",
        RL_HEAD + "items:\n",
        RL_HEAD,
        "---\n" + RL_HEAD + "items: [] # none\n",
        "# leading comment\n" + RL_HEAD + "items:\n# only a comment\n",
    ],
)
def test_empty_item_lists(text: str):
    assert yamlio.split_resource_list(text).items == []


@pytest.mark.parametrize(
    "text",
    [
        RL_HEAD + "items: [{kind: A}]\n",  # flow items
        RL_HEAD + "items:\n- kind: A\n---\nkind: B\n",  # a second document
        "%YAML 1.1\n---\n" + RL_HEAD,
        RL_HEAD + "kind: Again\n",  # duplicate top-level key
        RL_HEAD + "? items\n: []\n",
    ],
)
def test_unusual_top_levels_take_the_node_path(text: str):
    assert yamlio._split_resource_list_fast(text) is None


def test_duplicate_top_level_keys_are_an_error():
    with pytest.raises(YamlError, match="duplicate key"):
        yamlio.split_resource_list(RL_HEAD + "kind: Again\n")


def test_function_config_and_unknown_keys():
    split = yamlio.split_resource_list(rl("- kind: A\n", "functionConfig:\n  data: {a: 1}\nresults: []\n"))
    assert split.function_config == {"data": {"a": 1}}


# --- multi-document streams ------------------------------------------------------------------


def test_documents_split_with_headers_and_exact_text():
    docs = ["# head\napiVersion: v1\nkind: A\nmetadata:\n  name: a\n", "kind: B\nmetadata:\n  name: b\n"]
    text = "---\n" + "---\n".join(docs) + "...\n"
    raws = yamlio.split_documents(text)
    assert [r.text for r in raws] == docs
    assert [r.header["name"] for r in raws] == ["a", "b"]
    assert [r.line for r in raws] == [2, 8]


def test_documents_that_need_parsing_get_no_header():
    text = "kind: A\nargs: ['x',\n  'y']\n---\n  kind: indented\n---\n- a list\n"
    raws = yamlio.split_documents(text)
    assert [r.header for r in raws] == [None, None, None]
    assert [yamlio.parse_raw_item(r) for r in raws] == [d.data for d in yamlio.load_documents(text)]


def test_document_markers_with_content_take_the_node_path():
    text = "--- !!map\nkind: A\n--- |\n  text\n"
    assert yamlio._split_documents_fast(text) is None
    assert [yamlio.parse_raw_item(r) for r in yamlio.split_documents(text)] == [{"kind": "A"}, "text\n"]


def test_empty_documents_are_skipped():
    assert yamlio.split_documents("---\n# nothing\n---\n\n") == []


# --- conversions and emitting ---------------------------------------------------------------------


def test_as_entry_and_as_document_round_trip():
    doc = "# c\napiVersion: v1\nkind: A\ndata:\n  x: |\n    a\n\n    b\n"
    raw = yamlio.RawItem(doc, "document", 1, None)
    entry = yamlio.as_entry(raw)
    assert yamlio.load_one(entry) == [yamlio.load_one(doc)]
    back = yamlio.as_document(yamlio.RawItem(entry, "entry", 1, None))
    assert yamlio.load_one(back) == yamlio.load_one(doc)


def test_as_document_of_an_entry_starting_with_a_bare_dash():
    raw = yamlio.RawItem("-\n  kind: A\n", "entry", 1, None)
    assert yamlio.load_one(yamlio.as_document(raw)) == {"kind": "A"}


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


def test_yaml_is_imported_lazily():
    import subprocess
    import sys

    code = "import sys, krm_fn.yamlio; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
