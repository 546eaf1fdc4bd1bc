"""krm_fn.yaml.split: the fast split, its fallbacks, multi-document streams, entry/document forms."""

from __future__ import annotations

import pytest

from krm_fn import yaml as yamlio
from krm_fn.yaml import YamlError
from krm_fn.yaml import split as splitter

RL_HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"


def rl(items_text: str, tail: str = "") -> str:
    return RL_HEAD + "items:\n" + items_text + tail


# --- the fast split ----------------------------------------------------------------------------


def items_of(text: str) -> list[object]:
    return yamlio.load_one(text)["items"]


def assert_split_agrees(text: str, fast_expected: bool = True) -> yamlio.SplitResourceList:
    """The fast split (when taken) and the node split both give the items a full parse gives."""
    full = yamlio.load_one(text)
    fast = splitter._split_resource_list_fast(text)
    assert (fast is not None) == fast_expected
    nodes = splitter._split_resource_list_nodes(text)
    for split in (s for s in (fast, nodes) if s is not None):
        assert [yamlio.parse_raw_item(raw) for raw in split.items] == (full.get("items") or [])
        assert split.function_config == full.get("functionConfig")
        for raw in split.items:
            if raw.header is not None:
                assert raw.header == splitter._header_of(yamlio.parse_raw_item(raw))
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
    fresh = splitter._split_resource_list_fast(text)
    assert all(raw.parsed is splitter._NOT_PARSED for raw in fresh.items)  # comments, block scalars: not parsed
    assert split.top == {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"}


def test_a_quote_running_over_what_looks_like_the_next_item_is_one_item():
    # libyaml lets a double-quoted scalar continue at any indentation: this is ONE item.
    text = rl('- a: "one\n- b: two"\n')
    assert items_of(text) == [{"a": "one - b: two"}]
    split = assert_split_agrees(text)
    assert [raw.text for raw in split.items] == ['- a: "one\n- b: two"\n']


def test_a_flow_collection_over_several_lines_is_parsed_alone():
    text = rl("- kind: A\n  args: [a,\n    b]\n- kind: B\n")
    split = assert_split_agrees(text)
    assert split.items[0].parsed == {"kind": "A", "args": ["a", "b"]}


def test_an_alias_to_another_items_anchor_takes_the_node_path():
    text = rl("- kind: A\n  x: &shared [1]\n- kind: B\n  y: *shared\n")
    assert_split_agrees(text, fast_expected=False)


def test_crlf_files_take_the_fast_path_and_keep_their_line_breaks():
    text = rl("- kind: A\n  metadata:\n    name: a\n- kind: B\n  x: 'two\n\n    lines'\n").replace("\n", "\r\n")
    split = assert_split_agrees(text)
    assert "".join(raw.text for raw in split.items) == text[text.index("- kind: A") :]
    assert split.items[0].header == {"apiVersion": None, "kind": "A", "name": "a", "namespace": None}


@pytest.mark.parametrize(
    "text",
    [
        rl("- kind: A\n  metadata:\n    name: a\n").replace("\n", "\r\n").replace("a\r", "a\r\r"),
        rl('- kind: A\n  note: "x\u2028y"\n'),
        rl("- kind: A\n  note: x\u0085\n"),
        "\ufeff" + rl("- kind: A\n"),
    ],
)
def test_crlf_and_other_line_breaks_take_the_node_path(text: str):
    assert splitter._split_resource_list_fast(text) is None
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
    assert splitter._split_resource_list_fast(text) is None


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
    assert splitter._split_documents_fast(text) is None
    assert [yamlio.parse_raw_item(r) for r in yamlio.split_documents(text)] == [{"kind": "A"}, "text\n"]


def test_crlf_documents_take_the_fast_path_and_keep_their_line_breaks():
    text = "# head\r\nkind: A\r\nmetadata:\r\n  name: a\r\n---\r\nkind: B\r\nx: 'two\r\n\r\nlines'\r\n"
    raws = splitter._split_documents_fast(text)
    assert [r.text for r in raws] == [
        "# head\r\nkind: A\r\nmetadata:\r\n  name: a\r\n",
        "kind: B\r\nx: 'two\r\n\r\nlines'\r\n",
    ]
    assert raws[0].header["name"] == "a"
    assert [yamlio.parse_raw_item(r) for r in raws] == [d.data for d in yamlio.load_documents(text)]


def test_empty_documents_are_skipped():
    assert yamlio.split_documents("---\n# nothing\n---\n\n") == []


# --- conversions ---------------------------------------------------------------------------------


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
