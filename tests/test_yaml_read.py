"""krm_fn.yaml.read: the block YAML kpt writes, read without PyYAML, is read exactly as PyYAML reads it.

The reference is PyYAML's path of krm_fn.yaml.load (libyaml, go-yaml v3 typing, duplicate keys
refused). Whenever read.py gives a value, the reference gives the same value (types and key order
included) and no error; whatever read.py is unsure of goes to the reference. The quoting styles
come from PyYAML's emitter, from hand-written layouts, from random mutations and, for what the
function is given in practice, from kpt itself (`kpt fn eval --exec`).
"""

from __future__ import annotations

import math
import random
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from krm_fn import yaml as yamlio
from krm_fn.yaml import read
from krm_fn.yaml.errors import YamlError
from tests.helpers import pyyaml_load_one
from tests.tools import tool

pyyaml_reads = pyyaml_load_one


def same(a: object, b: object) -> bool:
    """Equal with the same types and the same key order (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def fast_or_none(text: str) -> tuple[bool, object]:
    try:
        return True, read.read(text)
    except read.Unsure:
        return False, None


def assert_exact(text: str) -> bool:
    """read.py's value, when it gives one, is PyYAML's; True when it gave one."""
    taken, value = fast_or_none(text)
    if taken:
        try:
            expected = pyyaml_reads(text)
        except YamlError as err:
            pytest.fail(f"read.py read {text!r} as {value!r}; PyYAML refuses it: {err}")
        assert same(value, expected), f"{text!r}: read.py {value!r}, PyYAML {expected!r}"
    return taken


# --- what it reads ------------------------------------------------------------------------------

READ = [
    # kpt's multi-line single-quoted scalars: blank-line folding, the closing quote at column 0
    "- data:\n    config.yaml: 'key: value\n\n      level: info\n\n'\n",
    "a: 'x\n\n\n  y   \n   z'\n",
    "a: '  lead\n\n  it''s\n\n'\n",
    "a: 'first\n# not a comment\n  - nor an entry\n'\n",
    "a: '\n  x'\n",
    # kyaml's double-quoted scalars with escapes, and folded ones
    'a: "key: value\\nlevel: info\\n"\n',
    'a: "\\x01\\u00e9\\U0001F600\\e\\N\\L\\P\\_\\0\\a\\b\\t\\v\\f\\r\\/\\\\\\"\\ "\n',
    'a: "tab\\there \\\n   continued\\\n\n  after a blank"\n',
    'a: "x  \n\n  y\n z "\n',
    'a: "{\\n  \\"title\\": \\"x\\"\\n}\\n"\n',
    # block scalars
    "a: |\n  line\n    deeper\n\n  last\nb: 1\n",
    "a: |-\n  x\n\n",
    "a: |+\n  x\n\n\nb: 1\n",
    "a: |2\n    two spaces kept\n",
    "a: >\n  folded\n  lines\n\n  para\n    more indented\n  back\n",
    "a: >-\n  x\n  y\n",
    "a: |\nb: after an empty block\n",
    "a: |\n  x\ty tabs in content\n",
    "- |\n  entry\n- >+\n  kept\n\n",
    "a: | # a comment\n  x\n",
    # structure
    "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n    labels: {}\n  data:\n    k: v\n",
    "a:\n- 1\n- - 2\n  - 3\n-\n  b: c\nd: e\n",
    "a:\n    - x\n    - y: z\n      w: v\n",
    "- # a comment after the dash\n  a: b\n",
    "a:   # comment\n  b: c # another\n# top comment\n",
    "a:\nb: ~\nc: null\nd:\n",
    "'quoted key': 1\n\"dq key\": 2\n",
    "a: [--port, '8080', \"x\", [nested], {}]\nb: {k: v, n: 1}\nc: [ ]\n",
    "a#b: c#d\nurl: http://x:80/y\nk: a]b{c}\n",
    "v: 0777\nh: 0x1F\nf: 1.5\ne: 1e3\ni: .inf\nn: .nan\nb: true\ny: yes\no: on\nt: 2024-01-01\nm: -1\np: +1\n",
    "just a scalar\n",
    "1: x\nfalse: y\n~: z\n1e3: w\n.inf: v\n",
    "",
    "# only a comment\n",
    "a: é😀 ☃\n",
    "a: b\n",
    "a: b",  # no final line break
    "a: |\n  x",
    "a: 'x\n  y'",
]


@pytest.mark.parametrize("text", READ)
def test_reads_kpt_and_kyaml_layouts_as_pyyaml_does(text: str):
    assert assert_exact(text), f"read.py was unsure of {text!r}"


UNSURE = [
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "a: !tag x\n",  # tags
    "a: !!int 1\n",
    "a:\n\tb: 1\n",  # a tab as indentation
    "a: 'x\ty'\n",  # a tab in a quoted scalar
    "a: |\n\tx\n",
    "a: plain\n  continued\n",  # a plain scalar over two lines
    "a: 1\na: 2\n",  # a duplicate key
    "1: x\ntrue: y\n1.0: z\n",  # one key to Python
    "<<: {a: 1}\n",
    "? complex\n: key\n",
    "---\na: 1\n",  # markers, directives
    "a: 1\n...\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 'never closed\n",
    'a: "\\q"\n',  # an unknown escape
    'a: "\\ud800"\n',
    "a: [x,\n  y]\n",  # flow over two lines
    "a: [a: b]\n",
    "a: [a, b, ]\n",
    "a: x: y\n",
    "a: 'x' y\n",
    "a: 'x'#c\n",
    "a:\n  - x\n  b: y\n",
    "- a\n b\n",
    "a: |0\n  x\n",
    "a: b\r\n",
    "a: \x85b\n",
    "a: \ufeffb\n",
    "a: 0x_\n",
]


@pytest.mark.parametrize("text", UNSURE)
def test_leaves_what_it_does_not_read_exactly_to_pyyaml(text: str):
    taken, value = fast_or_none(text)
    assert not taken, f"read.py read {text!r} as {value!r}"


def test_load_one_takes_read_py_and_falls_back_for_the_rest():
    assert yamlio.load_one("a: 'x\n\n  y'\n") == {"a": "x\ny"}
    assert yamlio.load_one("a: &x 1\nb: *x\n") == {"a": 1, "b": 1}  # PyYAML's path
    with pytest.raises(YamlError, match="duplicate key 'a'"):
        yamlio.load_one("a: 1\na: 2\n")


# --- properties over generated documents ------------------------------------------------------

CHARS = " \n\t'\"\\#:-?|>[]{},&*!%@`~.0123456789abxyzTNé☃😀\x01\x7f\x85\u2028\ufeff/="
texts = st.text(alphabet=st.sampled_from(CHARS), max_size=24) | st.sampled_from(
    ["", " ", "yes", "0777", "1e3", "~", "a\n\nb\n", " x\n", "x  \ny\n", "a\tb\n", "\n", "x\n\n\n", "- x", "k: v"]
)
keys = st.sampled_from(["a", "b", "key", "x.y/z", "a b", "0", "true", "on", "~"]) | texts
data = st.recursive(
    texts | st.integers(-9, 9) | st.booleans() | st.none() | st.floats(allow_nan=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=data,
    style=st.sampled_from([None, "'", '"', "|", ">"]),
    width=st.sampled_from([12, 80, 1 << 20]),
    indent=st.sampled_from([2, 4]),
    flow=st.sampled_from([False, None]),
)
def test_pyyaml_dumps_are_read_as_pyyaml_reads_them(doc, style, width, indent, flow):
    text = yaml.safe_dump(doc, default_style=style, width=width, indent=indent, default_flow_style=flow)
    assert_exact(text)


@settings(max_examples=300, deadline=None)
@given(doc=data)
def test_block_layouts_of_plain_data_are_read(doc):
    """The layout the function meets most (block style, no width): read.py takes it whenever
    PyYAML's emitter wrote no tab, no character YAML refuses and no complex key."""
    text = yaml.safe_dump({"k": doc}, width=1 << 20, allow_unicode=True, sort_keys=False)
    taken = assert_exact(text)
    assume(not any(c in text for c in "\t\x85\u2028\ufeff?&*!"))
    assert taken, f"read.py was unsure of {text!r}"


PIECES = [
    "a", "key", "0", "0x1F", "1.5", "-1", "true", "null", "~", "<<", "x y", "é", "#", " #c", "'", "''", '"',
    "\\", "\\n", "\\x41", "\\\n", ":", ": ", "-", "- ", "? ", "[", "]", "{", "}", ",", "|", "|-", "|+", ">",
    ">2", "&a", "*a", "!t", "%", "@", "`", " ", "  ", "\n", "\n\n", "\n  ", "\n    ", "\n- ", "\n  - ", "\t",
    "---", "...", "a: b", "[a, b]", "{a: b}", "'x\n\n  y'", '"x\\\n  y"',
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 0, 1, 2, 2, 4]), st.lists(st.sampled_from(PIECES), max_size=6))))
def test_random_near_yaml_is_read_exactly_or_left_to_pyyaml(lines):
    text = "".join(" " * indent + "".join(pieces) + "\n" for indent, pieces in lines)
    assert_exact(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=data, seed=st.integers(0, 1 << 30))
def test_mutated_documents_are_read_exactly_or_left_to_pyyaml(doc, seed):
    text = yaml.safe_dump({"k": doc, "l": [doc]}, width=1 << 20, allow_unicode=True)
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(text) + 1)
        cut = rng.choice([0, 0, 1, 2])
        text = text[:at] + rng.choice(["", " ", "\n", "  ", "#", "'", '"', "-", ":", "\n  ", "\\"]) + text[at + cut :]
    assert_exact(text)


# --- what kpt writes ----------------------------------------------------------------------------


class _SourceDumper(yaml.SafeDumper):
    """Writes each ConfigMap value in the style its key names (`sq-`, `dq-`, `lit-`, `auto-`): the
    styles people and tools write files into ConfigMaps with, before kpt re-serialises them."""

    def represent_mapping(self, tag, mapping, flow_style=None):
        node = super().represent_mapping(tag, mapping, flow_style)
        for key, value in node.value:
            if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":str"):
                prefix = key.value.split("-", 1)[0]
                value.style = {"sq": "'", "dq": '"', "lit": "|"}.get(prefix)
        return node


def _through_kpt(values: list[str], work: Path) -> str:
    """The ResourceList kpt sends a function for a package of ConfigMaps holding `values`."""
    pkg = work / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n")
    for n, value in enumerate(values):
        data = {f"{style}-{n}": value for style in ("sq", "dq", "lit", "auto")}
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{n}"}, "data": data}
        (pkg / f"cm{n}.yaml").write_text(yaml.dump(obj, Dumper=_SourceDumper, sort_keys=False, allow_unicode=True))
    capture = work / "resource-list.yaml"
    tee = work / "tee.sh"
    tee.write_text(f"#!/bin/sh\nexec tee {capture}\n")
    tee.chmod(0o755)
    proc = subprocess.run(
        [tool("kpt"), "fn", "eval", str(pkg), "--exec", str(tee)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return capture.read_text()


# What kpt copies raw into a single-quoted or literal scalar when the source has it: characters YAML
# reads as line breaks, and the byte order mark. read.py leaves those to PyYAML (so does the split).
RAW_BREAKS = ("\x85", "\u2028", "\u2029", "\ufeff")


def _assert_kpt_output_read(values: list[str], work: Path) -> None:
    """Every item kpt writes for `values` is read by read.py exactly as PyYAML reads it, and read at
    all unless kpt copied a raw line separator into it."""
    text = _through_kpt(values, work)
    raw_breaks = any(c in value for value in values for c in RAW_BREAKS)
    split = yamlio.split_resource_list(text)
    names = set()
    for raw in split.items:
        taken = assert_exact(raw.text)
        assert taken or raw_breaks, f"read.py was unsure of kpt's {raw.text!r}"
        names.add(pyyaml_reads(raw.text)[0]["metadata"]["name"])
    assert names == {"pkg", *(f"cm-{n}" for n in range(len(values)))}  # the Kptfile and every ConfigMap
    assert assert_exact(text) or raw_breaks


# Files as ConfigMaps hold them: app configs, scripts, JSON, with the characters that decide a style.
FILE_LINES = [
    "key: value", "level: info", "", "  indented: true", "# a comment", "- item", "echo \"it's $1\"", "\tTabbed",
    "trailing  ", " ", '{"a": [1, "b"]}', "x: 'y'", "back\\slash", "café ☃", "---", "...", "|", "> q", "a\x01b",
    "line\x85sep", "\ufeffbom", "%TAG", "key:", "  - x: 1",
]  # fmt: skip
file_texts = st.lists(st.sampled_from(FILE_LINES), min_size=1, max_size=6).map("\n".join).flatmap(
    lambda body: st.sampled_from([body, body + "\n", body + "\n\n", " " + body, "\n" + body])
) | st.text(alphabet=st.sampled_from(CHARS), min_size=1, max_size=30)

TRICKY = [
    "key: value\nlevel: info\n",
    "a\n\nb\n",
    "x\n\n\n",
    "  leading\nline\n",
    "trailing  \nspaces\n",
    "tab\there\n",
    "\tleading tab\n",
    "no final break",
    "\n",
    "\n\nstarts with breaks",
    'it\'s "quoted" \\ here\n',
    "control \x01 \x1b and \x85 \u2028 \ufeff\n",
    "emoji 😀 and é\n",
    "---\n...\n",
    "# comment\n- entry\nkey: v\n",
    '{\n  "panels": [],\n  "title": "x"\n}\n',
    " ",
    "x" * 300 + "\n" + "y " * 100,
]


@pytest.mark.e2e
def test_kpt_writes_nothing_read_py_is_unsure_of(tmp_path: Path):
    _assert_kpt_output_read(TRICKY, tmp_path)


@pytest.mark.e2e
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(file_texts, min_size=1, max_size=12, unique=True))
def test_kpt_quoting_styles_are_read_as_pyyaml_reads_them(values, tmp_path_factory):
    _assert_kpt_output_read(values, tmp_path_factory.mktemp("kpt"))
