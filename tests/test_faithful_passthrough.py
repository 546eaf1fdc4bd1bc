"""Items the function does not own come out as they came in.

Two levels:
* properties (hypothesis) of krm_fn.yaml over generated Kubernetes-like documents in many
  layouts: the fast text split and the node round trip give the items a plain strict parse
  gives, the fast path's text is the input's own slice, and when the fast path bails it is
  for a construct it does not handle;
* the real kpt on a package full of tricky scalars: after `kpt fn eval --exec observability-fn`
  and `kpt fn render` every file the function does not own is what `--exec cat` gives, byte
  for byte, and a second render changes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from krm_fn import yaml as yamlio
from krm_fn.yaml import split as splitter
from tests.helpers import DEFAULT_CONFIG_FILE, FUNCTION, UPSTREAM, pyyaml_load_one

RL_HEAD = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
TRICKY = [
    "1.10", "0777", "0x1F", "on", "yes", "~", "null", "2001-12-14", "1e3", ".inf", "123", "true", "", "0o17",
    " lead", "trail ", "a: b", "#x", "x #y", "- a", "[x]", "{x: y}", "*x", "&x", "!x", "%x", "@x", "`x", "|", ">",
    "'q'", '"dq"', "it's", 'say "hi"', "multi\nline", "trailing  \nspaces  \n", "é ✓ 日本 🎉", "x" * 300,
    "tab\there", "ends\n\n", "\nstarts", "back\\slash", "http://x.y/z?a=1&b=2", "--- x", "...", "? q", "key: |",
    "a\u00a0b", "---", "- - x", "a\\nb", "  ", "= x", "<<",
]  # fmt: skip
KEYS = [
    "a", "name", "kind", "metadata", "app.kubernetes.io/name", "config.kubernetes.io/index", "x-y_z", "1", "on",
    "with space", "a.b/c", "'q'", "k#", "dotted.key", "http://url", "é", "-dash", "?", "x: y",
]  # fmt: skip
HEADER_VALUES = ["v1", "apps/v1", "ConfigMap", "Secret", "my-app", "0777", "on", "1.10", "true", "null", "", "a b"]

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=12),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=True),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=8))
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=10
)
header_values = st.one_of(st.sampled_from(HEADER_VALUES), st.text(max_size=10), st.integers(0, 99))


@st.composite
def k8s_objects(draw) -> dict:
    """A Kubernetes-like object: apiVersion, kind, metadata (name, namespace, annotations), a body."""
    meta: dict = {"name": draw(header_values)}
    if draw(st.booleans()):
        meta["namespace"] = draw(header_values)
    if draw(st.booleans()):
        meta["annotations"] = {"config.kubernetes.io/index": "0", "config.k8s.io/id": str(draw(st.integers(0, 9)))}
    fields = [("apiVersion", draw(header_values)), ("kind", draw(header_values)), ("metadata", meta)]
    fields.append((draw(st.sampled_from(["data", "spec", "stringData"])), draw(values)))
    order = draw(st.permutations(range(len(fields)))) if draw(st.integers(0, 4)) == 0 else range(len(fields))
    return {fields[i][0]: fields[i][1] for i in order}


def dump(data: object, draw) -> str:
    """PyYAML output in a drawn style: flow or block, quoting, line width, indentation."""
    return yaml.dump(
        data,
        Dumper=yaml.SafeDumper,
        default_flow_style=draw(st.sampled_from([False, False, False, None, True])),
        default_style=draw(st.sampled_from([None, None, None, None, "'", '"', "|"])),
        width=draw(st.sampled_from([1 << 20, 1 << 20, 80, 16])),
        indent=draw(st.sampled_from([2, 2, 2, 3, 4])),
        allow_unicode=draw(st.booleans()),
        sort_keys=False,
    )


COMMENTS = ["# c", "# it's [x", '# "q', "#", "# - a: b", "# key: 'v'"]


def mutate(lines: list[str], draw) -> list[str]:
    """Comments, blank lines, trailing spaces and trailing comments at drawn places."""
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["comment", "blank", "spaces", "trailing-comment"]))
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "comment":
            lines.insert(at, " " * draw(st.integers(0, 6)) + draw(st.sampled_from(COMMENTS)) + "\n")
        elif kind == "blank":
            lines.insert(at, " " * draw(st.integers(0, 3)) + "\n")
        elif lines:
            suffix = "  " if kind == "spaces" else " # tc"
            lines[at] = lines[at].rstrip("\n") + suffix + "\n"
    return lines


@st.composite
def resource_lists(draw) -> str:
    """A ResourceList as text, in one of many layouts."""
    objects = draw(st.lists(k8s_objects(), max_size=5))
    if objects and draw(st.integers(0, 5)) == 0:  # shared objects: PyYAML writes anchors and aliases
        shared = {"shared": ["x", 1]}
        for obj in objects[:: max(1, len(objects) // 2)]:
            obj["shared"] = shared
        entries = dump(objects, draw)
    else:
        entries = "".join(dump([obj], draw) for obj in objects)
    lines = mutate(entries.splitlines(keepends=True), draw)
    if draw(st.integers(0, 4)) == 0:  # wide: the entries indented under `items:`
        lines = ["  " + line if line.strip() else line for line in lines]
    items = "items:\n" + "".join(lines) if objects else draw(st.sampled_from(["items: []\n", "items:\n", ""]))
    function_config = "functionConfig:\n" + "".join(
        "  " + line for line in yaml.safe_dump({"kind": "ObservabilityConfig", "spec": {"a": 1}}).splitlines(True)
    )
    parts = [RL_HEAD, items, function_config] if draw(st.booleans()) else [RL_HEAD, function_config, items]
    prefix = draw(st.sampled_from(["", "", "---\n", "# top\n"]))
    text = prefix + "".join(parts)
    if draw(st.integers(0, 9)) == 0:
        text = text.rstrip("\n")  # no final line break
    return text


def checked_items(split: yamlio.SplitResourceList) -> list[object]:
    out = []
    for raw in split.items:
        data = yamlio.parse_raw_item(raw)
        if raw.header is not None:
            assert raw.header == splitter._header_of(data), raw.text
        out.append(data)
    return out


def assert_faithful(text: str) -> yamlio.SplitResourceList | None:
    """The fast split (if taken) and the node split agree with a plain strict parse of the whole."""
    try:
        full = pyyaml_load_one(text)
    except yamlio.YamlError:
        with pytest.raises(yamlio.YamlError):
            checked_items(yamlio.split_resource_list(text))
        return None
    expected = full.get("items") or []
    assume(all(isinstance(item, dict) for item in expected))
    fast = splitter._split_resource_list_fast(text)
    nodes = splitter._split_resource_list_nodes(text)
    for split in (fast, nodes):
        if split is None:
            continue
        assert checked_items(split) == expected
        assert split.function_config == full.get("functionConfig")
        assert split.top == {"apiVersion": full.get("apiVersion"), "kind": full.get("kind")}
    if fast is not None and fast.items:
        assert_exact_slices(text, fast)
    return fast


def assert_exact_slices(text: str, split: yamlio.SplitResourceList) -> None:
    """Each entry is the input's own lines from its line on: identical for compact entries
    (kpt's layout), dedented by the entries' indentation for wide ones."""
    lines = text.splitlines(keepends=True)
    first_entry = next(line for line in lines[split.items[0].line - 1 :] if line.lstrip(" ").startswith("-"))
    indent = len(first_entry) - len(first_entry.lstrip(" "))
    for raw in split.items:
        count = raw.text.count("\n")
        original = lines[raw.line - 1 : raw.line - 1 + count]
        expected = "".join(
            line[indent:] if line.startswith(" " * indent) else ("\n" if not line.strip(" \n") else line)
            for line in original
        )
        assert raw.text in (expected, expected + "\n")
        if indent == 0:
            assert raw.text in ("".join(original), "".join(original) + "\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(resource_lists())
@example(RL_HEAD + 'items:\n- a: "one\n- b: two"\n')
@example(RL_HEAD + "items:\n- kind: A\n  x: &s [1]\n- kind: B\n  y: *s\n")
@example(RL_HEAD + "items:\n- kind:\tA\n")
@example((RL_HEAD + "items:\n- kind: A\n  metadata:\n    name: a\n").replace("\n", "\r\n"))
@example(RL_HEAD + "items:\n- kind: 'multi\n\n    line'\n  metadata: {name: x}\n")
@example(RL_HEAD + "items:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n    x: |+\n      keep\n\n\n")
def test_split_resource_list_is_faithful(text: str):
    assert_faithful(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(k8s_objects(), min_size=1, max_size=6))
def test_kpt_layout_takes_the_fast_path(objects: list[dict]):
    """What kpt sends (block style, 2-space compact entries, quoted annotations): never the node path."""
    entries = "".join(yaml.safe_dump([obj], sort_keys=False, width=1 << 20, allow_unicode=True) for obj in objects)
    assume(not any(c in entries for c in "\r\x85\u2028\u2029\ufeff"))  # go-yaml escapes these; we bail on them
    text = RL_HEAD + "items:\n" + entries
    assert assert_faithful(text) is not None


LINE_TEXT = st.one_of(
    st.sampled_from(["- b: two", "key: value", "# not a comment", "x", "[a,", "{b", "'", '"', "it's", "a: 'q'", ""]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=8),
)


@st.composite
def multi_line_quoted(draw, key_indent: int) -> str:
    """A quoted scalar over several lines as kpt, PyYAML or an editor write it: continuation lines
    and the closing quote at drawn indentations, column 0 included (kpt's closing quote)."""
    lines = [draw(LINE_TEXT).strip(" \t") for _ in range(draw(st.integers(2, 4)))]
    lines = [line for line in lines if line.strip(".-") or not line]  # no `---`/`...` at column 0
    indents = st.sampled_from([0, 0, key_indent + 2, key_indent + 4, 1])
    if draw(st.booleans()):
        body = [line.replace("'", "''") for line in lines]
        out = "'" + body[0]
        for line in body[1:]:
            out += "\n" * draw(st.integers(1, 2)) + " " * draw(indents) + line
        return out + ("\n" + " " * draw(indents) if draw(st.booleans()) else "") + "'"
    body = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    out = '"' + body[0]
    for line in body[1:]:
        out += draw(st.sampled_from(["\\\n", "\n", "\n\n"])) + " " * draw(indents) + line
    return out + '"'


@st.composite
def kpt_quoted_lists(draw) -> str:
    """ResourceLists whose items hold multi-line quoted scalars, flow collections over lines,
    comments between items and block scalars with `---` inside, maybe with CRLF line breaks."""
    entries = []
    for number in range(draw(st.integers(1, 5))):
        entry = f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm{number}\n  data:\n"
        for key in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["quoted", "quoted", "flow", "block", "plain", "runs-on", "stray-quote"]))
            if kind == "runs-on":  # a quote that runs over what looks like the next item: one item
                entry += f'    k{key}: "x\n- kind: Fake{number}\n  y: z"\n'
            elif kind == "stray-quote":  # a quote inside a plain scalar: not an opener, but flagged as one
                entry += f"    k{key}: rock 'n roll\n"
            elif kind == "quoted":
                entry += f"    k{key}: {draw(multi_line_quoted(4))}\n"
            elif kind == "flow":
                entry += f"    k{key}: [a,\n" + " " * draw(st.sampled_from([0, 6])) + "b]\n"
            elif kind == "block":
                entry += f"    k{key}: |\n      ---\n      - x: y\n"
            else:
                entry += f"    k{key}: plain\n"
        if draw(st.booleans()):
            entry += draw(st.sampled_from(["# between items\n", "\n", "  # indented comment\n"]))
        entries.append(entry)
    text = RL_HEAD + "items:\n" + "".join(entries)
    return text.replace("\n", "\r\n") if draw(st.integers(0, 4)) == 0 else text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kpt_quoted_lists())
@example(RL_HEAD + "items:\n- kind: A\n  data:\n    s: 'first line\n\n      second line\n\n'\n- kind: B\n")
@example(RL_HEAD + "items:\n- kind: A\n  s: \"a\\\n- b: c\"\n- kind: B\n  t: 'x\n# y\n'\n")
def test_multi_line_quoted_scalars_keep_the_fast_path(text: str):
    """The fast split holds on what kpt and editors write, and agrees with a strict whole parse."""
    try:
        pyyaml_load_one(text)
    except yamlio.YamlError:
        assert_faithful(text)  # agrees on the error
        return
    fast = assert_faithful(text)
    assert fast is not None
    assert "".join(raw.text for raw in fast.items) == text[text.index("- ") :]


@st.composite
def document_streams(draw) -> str:
    objects = draw(st.lists(k8s_objects(), min_size=1, max_size=4))
    docs = ["".join(mutate(dump(obj, draw).splitlines(keepends=True), draw)) for obj in objects]
    separator = draw(st.sampled_from(["---\n", "---\n", "--- # sep\n", "...\n---\n"]))
    return draw(st.sampled_from(["", "---\n", "# head\n"])) + separator.join(docs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document_streams())
@example("kind: A\nx: 'a\n---\nb'\n")
@example("kind: A\r\nx: 'a\r\n\r\nb'\r\n---\r\n# c\r\nkind: B\r\n")
@example("kind: A\n--- !!map\nkind: B\n")
@example("%YAML 1.1\n---\nkind: A\n")
def test_split_documents_is_faithful(text: str):
    try:
        expected = [doc.data for doc in yamlio.load_documents(text)]
    except yamlio.YamlError:
        with pytest.raises(yamlio.YamlError):
            [yamlio.parse_raw_item(raw) for raw in yamlio.split_documents(text)]
        return
    for split in (splitter._split_documents_fast(text), splitter._split_documents_nodes(text)):
        if split is None:
            continue
        got = []
        for raw in split:
            data = yamlio.parse_raw_item(raw)
            if raw.header is not None:
                assert raw.header == splitter._header_of(data)
            got.append(data)
        assert got == expected
    fast = splitter._split_documents_fast(text)
    if fast is not None:
        for raw in fast:
            assert raw.text in text + "\n"


# --- through the real kpt -------------------------------------------------------------------------------

CORPUS = """\
# A file of scalars that YAML 1.1 readers would retype. Comments stay.
apiVersion: v1
kind: ConfigMap
metadata:
  name: corpus # inline comment
  namespace: apps
  labels:
    app.kubernetes.io/name: corpus
  annotations:
    example.com/dotted.key: "1.10"
data:
  version: 1.10
  mode: 0777
  hex: 0x1F
  switch: on
  answer: yes
  tilde: ~
  nothing: null
  date: 2001-12-14
  exp: 1e3
  inf: .inf
  quoted: "123"
  single: '0777'
  empty:
  "quoted key": value
  'single key': value
  flow: {a: 1, b: [x, "y"]}
  unicode: "été ✓ 日本 🎉"
  plain-unicode: été
  trailing-spaces: |
    line with trailing spaces SPACES
    second line\t
  folded: >-
    folded
    text
  keep: |+
    kept

  script: |
    #!/bin/sh
    echo "it's [fine]" && exit 0
  json: '{"a": [1, 2], "b": {"c": null}}'
  long: LONG
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: apps
spec:
  template:
    spec:
      containers:
        - name: app
          image: "ghcr.io/example/app:1.0"
          args: ["--flag", "--other=1.10"]
          env:
            - name: MODE
              value: "0777"
---
# second document, wide sequences above, compact here
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: apps
spec:
  ports:
  - port: 80
    targetPort: 8080
"""
KUSTOMIZATION = "resources:\n- corpus.yaml\n- app.yaml\n"  # no apiVersion: kpt still passes it
KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: corpus
  annotations:
    config.kubernetes.io/local-config: "true"
"""
PIPELINE = """\
pipeline:
  mutators:
    - exec: {exec}
      configPath: obs.yaml
"""


def corpus_package(root: Path, exec_path: str | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "Kptfile").write_text(KPTFILE + (PIPELINE.format(exec=exec_path) if exec_path else ""))
    (root / "kustomization.yaml").write_text(KUSTOMIZATION)
    corpus = CORPUS.replace("\\t", "\t").replace(" SPACES", "   ").replace("LONG", "x" * 20000)
    (root / "corpus.yaml").write_text(corpus)
    (root / "app.yaml").write_text(DEPLOYMENT)
    shutil.copy(DEFAULT_CONFIG_FILE, root / "obs.yaml")
    shutil.copy(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml", root / "monitoring-secrets.enc.yaml")
    return root


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def kpt(*args: str) -> subprocess.CompletedProcess:
    from tests.tools import tool

    env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off"}
    return subprocess.run([tool("kpt"), *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def changed_by_kpt(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


@pytest.mark.e2e
def test_kpt_fn_eval_leaves_every_file_it_does_not_own_as_cat_does(tmp_path: Path):
    original = files(corpus_package(tmp_path / "original"))
    cat_pkg = shutil.copytree(tmp_path / "original", tmp_path / "cat")
    fn_pkg = shutil.copytree(tmp_path / "original", tmp_path / "fn")
    cat_exec = shutil.which("cat") or "/bin/cat"
    cat = kpt("fn", "eval", str(cat_pkg), "--exec", cat_exec, "--fn-config", f"{cat_pkg}/obs.yaml")
    assert cat.returncode == 0, cat.stderr
    run = kpt("fn", "eval", str(fn_pkg), "--exec", FUNCTION, "--fn-config", f"{fn_pkg}/obs.yaml")
    assert run.returncode == 0, run.stderr
    after_cat, after_fn = files(cat_pkg), files(fn_pkg)
    assert set(after_cat) == set(original)
    for name in original:
        assert after_fn[name] == after_cat[name], name
    generated = sorted(set(after_fn) - set(original))
    assert generated and all(name.startswith("generated/") for name in generated)
    # kpt itself (with `cat` too) re-emits a file it has to rewrite: it re-indents the 4-space
    # SOPS file, writes literal blocks with trailing spaces and folded blocks as double-quoted
    # strings and non-BMP characters as \U escapes. The other files it leaves alone, and so do we.
    assert set(changed_by_kpt(original, after_cat)) <= {"corpus.yaml", "monitoring-secrets.enc.yaml"}
    for name in ("app.yaml", "kustomization.yaml", "obs.yaml", "Kptfile"):
        assert after_fn[name] == original[name], name


@pytest.mark.e2e
def test_kpt_fn_render_twice_changes_nothing_the_second_time(tmp_path: Path):
    pkg = corpus_package(tmp_path / "pkg", exec_path=FUNCTION)
    cat_pkg = corpus_package(tmp_path / "cat", exec_path=shutil.which("cat") or "/bin/cat")
    original = files(pkg)
    first = kpt("fn", "render", str(pkg), "--allow-exec")
    assert first.returncode == 0, first.stderr
    after_first = files(pkg)
    second = kpt("fn", "render", str(pkg), "--allow-exec")
    assert second.returncode == 0, second.stderr
    assert files(pkg) == after_first  # generated files included
    cat = kpt("fn", "render", str(cat_pkg), "--allow-exec")
    assert cat.returncode == 0, cat.stderr
    after_cat = files(cat_pkg)
    for name in original:
        if name != "Kptfile":  # the pipelines differ (exec path)
            assert after_first[name] == after_cat[name], name
    assert any(name.startswith("generated/") for name in after_first)


@pytest.mark.e2e
def test_the_function_changes_no_byte_of_the_items_it_passes(tmp_path: Path):
    """Under kpt the ResourceList out holds each input item's text unchanged (not only its files)."""
    pkg = corpus_package(tmp_path / "pkg")
    dump = tmp_path / "rl.yaml"
    script = tmp_path / "tee.sh"
    script.write_text(f"#!/bin/sh\ntee {dump}\n")
    script.chmod(0o755)
    assert kpt("fn", "eval", str(pkg), "--exec", str(script), "--fn-config", f"{pkg}/obs.yaml").returncode == 0
    received = dump.read_text()
    env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off"}
    proc = subprocess.run([FUNCTION], input=received.encode(), capture_output=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    sent = proc.stdout.decode()
    entries = yamlio.split_resource_list(received).items
    assert entries and splitter._split_resource_list_fast(received) is not None
    for raw in entries:
        assert raw.text in sent


@pytest.mark.e2e
@pytest.mark.parametrize("style", ["block", "pyyaml", "kubectl", "helm", "commented", "files"])
def test_every_benchmark_authoring_style_takes_the_fast_path_under_kpt(style: str, tmp_path: Path):
    """The ResourceList kpt makes of each bench/ style (PyYAML's multi-line single quotes with
    the closing quote at column 0, kubectl, Helm, comments, ConfigMaps holding files) is split on
    the fast path, exactly."""
    import sys

    from tests.tools import tool

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import packages

    pkg = packages.build(tmp_path / "pkg", 40, 4, style=style)
    proc = subprocess.run([tool("kpt"), "fn", "source", str(pkg)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    fast = splitter._split_resource_list_fast(proc.stdout)
    assert fast is not None
    assert checked_items(fast) == pyyaml_load_one(proc.stdout)["items"]
    assert_exact_slices(proc.stdout, fast)
