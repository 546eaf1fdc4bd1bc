"""YAML in and out: strict parsing, faithful pass-through, safe emitting.

Three jobs, all about YAML and nothing about Kubernetes:

* `load_documents` parses with libyaml, refuses duplicate keys (PyYAML keeps the last one
  silently), bounds alias expansion (billion laughs) and resolves scalars the way
  kustomize, kpt and Flux do (go-yaml v3: `on`/`yes` and dates stay strings, `0777` is octal).
* `split_resource_list` / `split_documents` cut a ResourceList or a multi-document stream
  into the original text of each item, so items the function does not own go back out
  byte for byte (key order, quoting, comments: a SOPS MAC covers key order).
* `dump_*` emit the objects the function generates, quoting every string that a YAML 1.1
  or a YAML 1.2 reader could take for something else.

How the split stays both fast and right. A ResourceList from kpt is ~900 bytes and ~28
lines per item; parsing all of it with libyaml costs more than kpt itself, so the split
works on text with regular expressions (C speed) and parses only what it must:

1. Line breaks Python's `re` does not see as such (CR, NEL, LS, PS) or a BOM: fall back.
2. Top-level keys sit at column 0; items are the lines at the sequence's indent that start
   with `- `. This is exact for block YAML except where a line continues a quoted scalar or
   a flow collection opened on an earlier line (libyaml lets those continue at any
   indent), or where anchors, aliases, tags or complex keys tie text together.
3. Every place where that can happen starts with an indicator at the start of a token
   (a quote, `[`, `{`, `&`, `*`, `!`, `?`, `%`, `@`, a backquote, `|`, `>`) that is not a
   one-line closed form (`'..'`, `".."`, `[]`, `{}`, a block scalar header, then end of
   line), or with a tab or a character YAML forbids. One regular expression finds them
   all (those inside comments and block scalar contents do not count: nothing means
   anything there); an item containing one is parsed on its own right away. If it does
   not parse alone (an unclosed quote running into the next item, an alias to another
   item's anchor), the whole list goes through the node round trip instead, which keeps
   every scalar's text and style. So the fast path is exact or it is not taken.
4. apiVersion, kind and metadata.name/namespace of the other items are found with
   `str.find` at the item's own indentation (only keys can sit there once step 3 has
   ruled out multi-line scalars), with plain or simply quoted values that resolve to
   strings; anything else (a duplicate, a continuation line, a flow mapping) leaves the
   header unknown and the item is parsed.

Items are otherwise never parsed unless a rule asks (`Item.obj` is lazy), so a syntax
error inside an item nobody reads is not found here; the consumer reads the same text.

Error messages carry a line and column but never the offending text: the input may be a
Secret. PyYAML is imported on first use, not with this module.
"""

from __future__ import annotations

import bisect
import itertools
import re
from types import SimpleNamespace

MAX_EXPANDED_NODES = 1_000_000  # nodes after expanding aliases; a 2,000-item list has ~200k
Node = object  # a yaml.nodes.Node (PyYAML is imported lazily, so not named here)


class YamlError(Exception):
    """A YAML problem, safe to show: a message, a 1-based line and column, no input text."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "") if self.line else ""
        return f"{self.message} ({where})" if where else self.message


# --- scalar resolution as go-yaml v3 (kyaml, kustomize, kpt, Flux) does it -------------------
# Differences from PyYAML's YAML 1.1 resolver: only true/false are booleans (`on`, `yes`, `n`
# are strings), timestamps are strings, integers follow Go's base prefixes (`0777` is octal,
# `0x1F` hex, `0o17`, `0b101`).

GO_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
GO_INT = re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
GO_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
GO_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
GO_MERGE = re.compile(r"^<<$")
STR, INT, FLOAT, BOOL, NULL, MERGE, SEQ, MAP = (
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "merge", "seq", "map")
)
_GO_IMPLICIT = ((BOOL, GO_BOOL), (INT, GO_INT), (FLOAT, GO_FLOAT), (NULL, GO_NULL), (MERGE, GO_MERGE))
_MAYBE_NOT_STR = frozenset("-+.0123456789tTfFnN~<")  # first characters of go-yaml's non-strings


def _go_resolves_to_str(plain: str) -> bool:
    """True when go-yaml v3 reads this plain scalar as a string."""
    return not any(p.match(plain) for p in (GO_BOOL, GO_INT, GO_FLOAT, GO_NULL, GO_MERGE))


# --- PyYAML classes, built on first use ------------------------------------------------------

_PY: SimpleNamespace | None = None


def _py() -> SimpleNamespace:
    """PyYAML and the loader/dumper classes built on it (imported lazily: ~25 ms)."""
    global _PY
    if _PY is not None:
        return _PY
    import yaml
    from yaml.constructor import SafeConstructor
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.representer import SafeRepresenter
    from yaml.resolver import BaseResolver, Resolver

    try:
        from yaml._yaml import CEmitter as Emitter
        from yaml._yaml import CParser as Parser
    except ImportError:  # PyYAML without libyaml: slower, same results
        from yaml.composer import Composer
        from yaml.emitter import Emitter as PyEmitter
        from yaml.parser import Parser as PyParser
        from yaml.reader import Reader
        from yaml.scanner import Scanner
        from yaml.serializer import Serializer

        class Parser(Reader, Scanner, PyParser, Composer):  # type: ignore[no-redef]
            def __init__(self, stream: str):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                PyParser.__init__(self)
                Composer.__init__(self)

        class Emitter(PyEmitter, Serializer):  # type: ignore[no-redef]
            def __init__(self, stream, width=None, allow_unicode=None, explicit_start=None, **_):
                PyEmitter.__init__(self, stream, width=width, allow_unicode=allow_unicode)
                Serializer.__init__(self, explicit_start=explicit_start)

    class GoYamlResolver(BaseResolver):
        """Implicit tags of go-yaml v3, which every consumer of our output uses.

        `resolve` runs for every scalar libyaml composes; this one does what BaseResolver
        would do with the implicit resolvers below, minus its generic bookkeeping.
        """

        def resolve(self, kind, value, implicit):  # type: ignore[override]
            if kind is ScalarNode:
                if implicit[0] and (not value or value[0] in _MAYBE_NOT_STR):
                    for tag, pattern in _GO_IMPLICIT:
                        if pattern.match(value):
                            return tag
                return STR
            return SEQ if kind is SequenceNode else MAP

    for tag, pattern in _GO_IMPLICIT:  # for the generic machinery (the pure-Python serializer)
        GoYamlResolver.add_implicit_resolver(tag, pattern, None)

    class Constructor(SafeConstructor):
        def construct_go_int(self, node: ScalarNode) -> int:
            return _go_int(node.value)

        def construct_go_float(self, node: ScalarNode) -> float:
            return _go_float(node.value)

    Constructor.add_constructor("tag:yaml.org,2002:int", Constructor.construct_go_int)
    Constructor.add_constructor("tag:yaml.org,2002:float", Constructor.construct_go_float)
    Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)

    def construct_set(constructor: SafeConstructor, node):  # a dict, not a set: ordered, as go-yaml reads it
        mapping: dict = {}
        yield mapping
        mapping.update(constructor.construct_mapping(node))

    Constructor.add_constructor("tag:yaml.org,2002:set", construct_set)

    class StrictLoader(Parser, Constructor, GoYamlResolver):
        """libyaml parser + go-yaml v3 resolution; node checks happen in `compose_documents`."""

        def __init__(self, stream: str):
            Parser.__init__(self, stream)
            Constructor.__init__(self)
            GoYamlResolver.__init__(self)

    # First characters ("" for the empty scalar) of what YAML 1.1 or go-yaml v3 may read as a non-string.
    maybe_not_str = frozenset(key for key in Resolver.yaml_implicit_resolvers if key is not None) | _MAYBE_NOT_STR
    plain_checks_all = None not in Resolver.yaml_implicit_resolvers and not Resolver.yaml_path_resolvers

    class UnambiguousResolver(Resolver):
        """Quote a string whenever YAML 1.1 *or* go-yaml v3 would read it as non-string."""

        def resolve(self, kind, value, implicit):  # type: ignore[override]
            # libyaml's emitter asks twice for each scalar (as plain, then as quoted): answer the
            # common cases here, which is what the generic machinery below would conclude.
            if kind is ScalarNode and plain_checks_all and (not implicit[0] or value[:1] not in maybe_not_str):
                return STR
            tag = super().resolve(kind, value, implicit)
            if kind is ScalarNode and implicit[0] and tag == "tag:yaml.org,2002:str":
                return GoYamlResolver.resolve(self, kind, value, implicit)
            return tag

    class Representer(SafeRepresenter):
        def represent_str(self, data: str) -> ScalarNode:
            if "\n" in data and _block_safe(data):
                return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")
            return super().represent_str(data)

    Representer.add_representer(str, Representer.represent_str)
    Representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))

    def generated_node(data: object, seen: dict[int, Node]) -> Node:
        """The node GeneratedDumper's representer makes of `data`, for the types generated objects hold.

        A third of the cost of emitting them, as a plain recursion. As in PyYAML, a dict or list met
        twice becomes one node (the emitter anchors it); strings, numbers and null never do.
        """
        kind = type(data)
        if kind is str:
            return ScalarNode(STR, data, style="|" if "\n" in data and _block_safe(data) else None)
        if kind is dict or kind is list:
            node = seen.get(id(data))
            if node is not None:
                return node
            if kind is dict:
                pairs: list = []
                node = seen[id(data)] = MappingNode(MAP, pairs, flow_style=False)
                for key, value in data.items():  # type: ignore[attr-defined]
                    pairs.append((generated_node(key, seen), generated_node(value, seen)))
            else:
                entries: list = []
                node = seen[id(data)] = SequenceNode(SEQ, entries, flow_style=False)
                for value in data:  # type: ignore[attr-defined]
                    entries.append(generated_node(value, seen))
            return node
        if kind is bool:
            return ScalarNode(BOOL, "true" if data else "false")
        if kind is int:
            return ScalarNode(INT, str(data))
        if data is None:
            return ScalarNode(NULL, "null")
        raise _Unusual

    class GeneratedDumper(Emitter, Representer, UnambiguousResolver):
        def __init__(self, stream, **kwargs):
            Emitter.__init__(self, stream, width=1 << 30, allow_unicode=True, explicit_start=False)
            Representer.__init__(self, default_style=None, default_flow_style=False, sort_keys=False)
            UnambiguousResolver.__init__(self)

    class FaithfulDumper(Emitter, GoYamlResolver):
        """Serializes composed nodes; scalars keep their text and style."""

        def __init__(self, stream, **kwargs):
            Emitter.__init__(self, stream, width=1 << 30, allow_unicode=True, explicit_start=False)
            GoYamlResolver.__init__(self)

    _PY = SimpleNamespace(
        yaml=yaml,
        StrictLoader=StrictLoader,
        GeneratedDumper=GeneratedDumper,
        generated_node=generated_node,
        FaithfulDumper=FaithfulDumper,
        GoYamlResolver=GoYamlResolver,
    )
    return _PY


def _block_safe(text: str) -> bool:
    """Literal block style keeps the text exactly only without trailing spaces or tabs."""
    return not any(line != line.rstrip(" \t") for line in text.split("\n")) and not text.startswith((" ", "\n"))


# --- node checks ---------------------------------------------------------------------------


def _check_node(node: Node) -> None:
    """Refuse duplicate mapping keys and alias bombs, without recursion."""
    from yaml.nodes import MappingNode, ScalarNode

    expanded: dict[int, int] = {}  # id(node) -> node count once aliases are expanded
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in expanded:
            continue
        if isinstance(current, ScalarNode):
            expanded[key] = 1
            continue
        children = [n for pair in current.value for n in pair] if isinstance(current, MappingNode) else current.value
        if not children_done:
            if isinstance(current, MappingNode):
                _check_duplicate_keys(current, ScalarNode)
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in expanded)
            continue
        total = 1 + sum(expanded.get(id(child), 1) for child in children)
        if total > MAX_EXPANDED_NODES:
            mark = current.start_mark
            raise YamlError(
                f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases "
                "(an alias bomb?); remove the anchors and aliases",
                mark.line + 1,
                mark.column + 1,
            )
        expanded[key] = total


def _check_duplicate_keys(node: Node, scalar_type: type) -> None:
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, scalar_type):
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in seen and key_node.tag != "tag:yaml.org,2002:merge":
            raise YamlError(
                f"duplicate key {key_node.value!r} (first defined at line {seen[key_node.value]}); "
                "YAML readers disagree on which one wins, so merge the two blocks",
                line,
                key_node.start_mark.column + 1,
            )
        seen[key_node.value] = line


def _yaml_error(exc: Exception) -> YamlError:
    """A YamlError from a PyYAML error, dropping the snippet PyYAML quotes from the input."""
    if isinstance(getattr(exc, "character", None), int) and isinstance(getattr(exc, "position", None), int):
        return YamlError(  # a ReaderError: its code point (not the text around it) is safe to show
            f"invalid YAML: character U+{exc.character:04X} at offset {exc.position} is not allowed in YAML "
            "(control characters such as NUL must be escaped in a double-quoted string)"
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    if problem == "exceeded maximum nesting depth":
        problem = "nested too deeply (libyaml stops at 1,000 levels)"
    elif problem.startswith("could not determine a constructor for the tag"):
        problem = "unknown tag: a plain value that starts with '!' is read as a YAML tag; quote the value"
    message = _without_input(f"{context}: {problem}" if context else problem)
    if mark is None:
        return YamlError(f"invalid YAML: {message}")
    return YamlError(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _without_input(text: str) -> str:
    """PyYAML quotes bits of the input in some messages (an alias, an anchor, a character): drop them."""
    return _QUOTED.sub("(a piece of the input)", text)


class Document:
    """One parsed YAML document and where it starts (1-based line, 0-based index)."""

    __slots__ = ("data", "index", "line", "node")

    def __init__(self, data: object, line: int, index: int, node: Node = None):
        self.data, self.line, self.index, self.node = data, line, index, node


def compose_documents(text: str, check: bool = True) -> list[Node]:
    """Parse to nodes; checked (duplicate keys and alias bombs refused) unless told not to."""
    py = _py()
    loader = py.StrictLoader(text)
    nodes = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if check:
                _check_node(node)
            nodes.append(node)
    except py.yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None
    finally:
        loader.dispose()
    return nodes


def construct(node: Node) -> object:
    """Python data of a checked node."""
    py = _py()
    loader = py.StrictLoader("")
    try:
        return loader.construct_document(node)
    except py.yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except (ValueError, TypeError, OverflowError):  # an explicit tag on text that is not one (`!!float x`)
        mark = node.start_mark
        raise YamlError("a tagged value does not match its tag", mark.line + 1, mark.column + 1) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


class _Unusual(Exception):
    """A node `_to_python` leaves to PyYAML's constructor (merge keys, explicit tags)."""


def _go_int(text: str) -> int:
    text = text.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith(("0x", "0X")):
        return sign * int(digits[2:], 16)
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _go_float(text: str) -> float:
    lower = text.lower()
    if lower.endswith(".nan"):
        return float("nan")
    if lower.endswith(".inf"):
        return float("-inf") if lower.startswith("-") else float("inf")
    return float(lower)


_SCALARS = {INT: _go_int, FLOAT: _go_float, BOOL: lambda v: v.lower() == "true", NULL: lambda v: None}


def _to_python(root: Node) -> object:
    """Python data of a composed node, refusing duplicate keys; ~3x faster than PyYAML's
    SafeConstructor for the plain maps, lists and scalars of Kubernetes objects.

    Raises _Unusual for what it leaves to PyYAML (merge keys, explicit tags).
    """
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    memo: dict[int, object] = {}  # aliases: the same node gives the same object

    def build(node: Node) -> object:
        kind = type(node)
        if kind is ScalarNode:
            if node.tag == STR:
                return node.value
            convert = _SCALARS.get(node.tag)
            if convert is None:
                raise _Unusual
            try:
                return convert(node.value)
            except ValueError:  # `!!int abc`
                mark = node.start_mark
                raise YamlError(f"a value tagged {node.tag} is not one", mark.line + 1, mark.column + 1) from None
        done = memo.get(id(node))
        if done is not None:
            return done
        if kind is MappingNode and node.tag == MAP:
            mapping: dict = {}
            memo[id(node)] = mapping
            for key_node, value_node in node.value:
                if key_node.tag == MERGE:
                    raise _Unusual
                key = build(key_node)
                try:
                    duplicate = key in mapping
                except TypeError:
                    mark = key_node.start_mark
                    raise YamlError("a mapping key is a list or a map", mark.line + 1, mark.column + 1) from None
                if duplicate:
                    _check_duplicate_keys(node, ScalarNode)  # raises with both lines
                    mark = key_node.start_mark
                    raise YamlError("two keys of one mapping mean the same value", mark.line + 1, mark.column + 1)
                mapping[key] = build(value_node)
            return mapping
        if kind is SequenceNode and node.tag == SEQ:
            sequence: list = []
            memo[id(node)] = sequence
            for child in node.value:
                sequence.append(build(child))
            return sequence
        raise _Unusual

    return build(root)


def _load_node(node: Node, may_alias: bool) -> object:
    """Checked Python data of a node that `compose_documents(check=False)` returned."""
    if may_alias:
        _check_node(node)  # alias bombs (and duplicate keys)
    try:
        return _to_python(node)
    except _Unusual:
        if not may_alias:
            _check_node(node)
        return construct(node)
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


def load_documents(text: str, keep_nodes: bool = False) -> list[Document]:
    """Every document of a YAML stream; empty documents are skipped."""
    docs = []
    may_alias = "*" in text
    for index, node in enumerate(compose_documents(text, check=False)):
        data = _load_node(node, may_alias)
        if data is None:
            continue
        docs.append(Document(data, node.start_mark.line + 1, index, node if keep_nodes else None))
    return docs


def load_one(text: str) -> object:
    """The single document of `text` (None when empty)."""
    docs = load_documents(text)
    if len(docs) > 1:
        raise YamlError("expected one YAML document, found several", docs[1].line)
    return docs[0].data if docs else None


def node_line(node: Node, path: list[str | int]) -> int | None:
    """1-based line of the value at `path` below a mapping/sequence node, if it exists."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    current = node
    line = None  # the key's line for a mapping entry (a block value starts on the next line)
    for part in path:
        if isinstance(current, MappingNode):
            pair = next(((k, v) for k, v in current.value if isinstance(k, ScalarNode) and k.value == part), None)
            if pair is None:
                return None
            line, current = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(current, SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            return None
    return line if path else (current.start_mark.line + 1 if current is not None else None)


# --- emitting ------------------------------------------------------------------------------


def dump_document(obj: object) -> str:
    """One generated object as a YAML document (block style, keys in insertion order)."""
    return _dump_generated(obj)


def dump_sequence_entry(obj: object) -> str:
    """One generated object as a `- ...` entry of a block sequence at column 0."""
    return _dump_generated([obj])


def _dump_generated(data: object) -> str:
    py = _py()
    try:
        node = py.generated_node(data, {})
    except _Unusual:  # a float, bytes, a subclass...: PyYAML's representers know them all
        return py.yaml.dump(data, Dumper=py.GeneratedDumper)
    return py.yaml.serialize(node, Dumper=py.GeneratedDumper)


def serialize_node(node: Node) -> str:
    """A composed node back to text, every scalar in its original style."""
    py = _py()
    return py.yaml.serialize(node, Dumper=py.FaithfulDumper)


# --- splitting a stream into the text of each item ----------------------------------------


_NOT_PARSED = object()


class RawItem:
    """The original text of one input object and what a cheap scan could tell about it.

    `text` is either a `- ...` block sequence entry at column 0 (ResourceList form) or a
    whole YAML document (multi-document form). `header` has apiVersion, kind, name and
    namespace when the scan could read them plainly; None means "parse to know". `parsed`
    holds the data once something parsed the text (the split itself, or `parse_raw_item`).
    (A plain class, not a dataclass: one is made per input object.)
    """

    __slots__ = ("form", "header", "line", "parsed", "text")

    def __init__(
        self, text: str, form: str, line: int, header: dict[str, str | None] | None, parsed: object = _NOT_PARSED
    ):
        self.text = text
        self.form = form  # "entry" | "document"
        self.line = line  # 1-based line, in the input stream, of the first line of `text`
        self.header = header
        self.parsed = parsed

    def __repr__(self) -> str:
        return f"RawItem(form={self.form!r}, line={self.line}, header={self.header!r})"

    @property
    def content_line(self) -> int:
        """1-based line of the first line that is not blank or a comment."""
        for offset, line in enumerate(self.text.splitlines()):
            if line.strip() and not line.lstrip().startswith("#"):
                return self.line + offset
        return self.line


# Characters after which `re`'s idea of a line differs from YAML's, or that a scan must not
# reason about: carriage return, NEL, line and paragraph separators, byte order mark.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029\ufeff]")
# Characters YAML does not allow in a stream (C0/C1 controls other than tab and line feed,
# and the two non-characters U+FFFE/U+FFFF).
_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_ASCII_ALLOWED = bytes(range(0x20, 0x7F)) + b"\t\n"

_END = r"[ ]*(?:[ ]\#[^\n]*)?(?:\n|\Z)"  # rest of a line: spaces, maybe a comment
_BLOCK_HEADER = r"(?:[1-9][+-]?|[+-][1-9]?)?"
# An indicator at the start of a token (after a space or a line break) that may tie this
# line to the next ones, unless it is one of the one-line closed forms; or a tab. Each
# branch starts with a literal so that `re` scans for the first characters quickly.
_SUSPICIOUS = re.compile(
    rf"""'(?<=[\n ]')(?!(?:[^'\n]|'')*'{_END})"""
    rf"""|"(?<=[\n ]")(?!(?:[^"\\\n]|\\[^\n])*"{_END})"""
    rf"""|\|(?<=[\n ]\|)(?!{_BLOCK_HEADER}{_END})"""
    rf"""|>(?<=[\n ]>)(?!{_BLOCK_HEADER}{_END})"""
    rf"""|\[(?<=[\n ]\[)(?!\]{_END})"""
    rf"""|\{{(?<=[\n ]\{{)(?!\}}{_END})"""
    r"""|&(?<=[\n ]&)|\*(?<=[\n ]\*)|!(?<=[\n ]!)|\?(?<=[\n ]\?)|%(?<=[\n ]%)|@(?<=[\n ]@)|`(?<=[\n ]`)"""
    r"""|\t"""
)
_OPENERS = "'\"|>[{&*!?%@`"
# A block scalar header at the start of a token, alone on its line (maybe with a comment).
_HEADER_END = rf"{_BLOCK_HEADER}[ ]*(?:[ ]\#[^\n]*)?(?=\n)"
_BLOCK_SCALAR = re.compile(rf"\|(?<=[\n ]\|){_HEADER_END}|>(?<=[\n ]>){_HEADER_END}")
_COMMENT = re.compile(r"\#(?<=[\n ]\#)[^\n]*")
_DEEPER_LINES: dict[int, re.Pattern[str]] = {}


def _opaque_spans(text: str) -> list[tuple[int, int]]:
    """Comments and block scalar contents: text where no indicator means anything.

    A flag found there would only cost a parse, but dropping it is safe: a comment ends
    its line, and a block scalar's content is the lines indented deeper than its parent.
    Were either really inside a quoted scalar or a flow collection, the line opening that
    would be flagged itself.
    """
    spans = [(m.start(), m.end()) for m in _COMMENT.finditer(text)] if "#" in text else []
    if "|" in text or ">" in text:
        for match in _BLOCK_SCALAR.finditer(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            prefix = text[line_start : match.start()]
            rest = prefix.lstrip(" ")
            column = len(prefix) - len(rest)
            parent = column
            while rest.startswith("- "):  # compact sequence entries before the key or scalar
                parent = column
                after = rest[1:].lstrip(" ")
                column += len(rest) - len(after)
                rest = after
            if rest:  # `key: |`: content is deeper than the key
                parent = column
            deeper = _DEEPER_LINES.get(parent)
            if deeper is None:
                deeper = _DEEPER_LINES[parent] = re.compile(rf"(?:\n(?:[ ]*(?=\n)|[ ]{{{parent + 1}}}[^\n]*))*")
            content = deeper.match(text, match.end())
            if content and content.end() > match.end():
                spans.append((match.end(), content.end()))
        spans.sort()
    return spans


def _suspicious_offsets(text: str) -> list[int]:
    """Offsets in `text` where a line may not be what it looks like (see the module doc)."""
    offsets = [m.start() for m in _SUSPICIOUS.finditer(text)]
    if text[:1] in _OPENERS and text:
        offsets.insert(0, 0)
    if offsets:
        spans = _opaque_spans(text)
        if spans:
            offsets = [o for o in offsets if not _inside(spans, o)]
    if text.isascii():
        if text.encode().translate(None, _ASCII_ALLOWED):
            offsets.extend(m.start() for m in _NON_PRINTABLE.finditer(text))
    else:
        offsets.extend(m.start() for m in _NON_PRINTABLE.finditer(text))
    offsets.sort()
    return offsets


def _inside(spans: list[tuple[int, int]], offset: int) -> bool:
    at = bisect.bisect_right(spans, (offset, 1 << 62)) - 1
    return at >= 0 and spans[at][0] <= offset < spans[at][1]


_HEADER_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]*")
_HEADER_QUOTED = re.compile(r"'([A-Za-z0-9_./:-]*)'|\"([A-Za-z0-9_./:-]*)\"")


def _header_value(raw: str | None) -> tuple[bool, str | None]:
    """(understood, value) for a header scalar written plainly or in simple quotes, no comment."""
    if not raw:
        return True, None
    if _HEADER_PLAIN.fullmatch(raw):
        if raw[0] in _MAYBE_NOT_STR and any(pattern.match(raw) for _, pattern in _GO_IMPLICIT):
            return False, None  # a number, boolean or null to go-yaml
        return True, raw
    quoted = _HEADER_QUOTED.fullmatch(raw)
    if quoted:
        return True, quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    return False, None


def _uncommented(value: str | None) -> str:
    """A one-line value without its trailing comment."""
    if not value:
        return ""
    if "#" not in value:
        return value
    if value.startswith("#"):
        return ""
    return value.split(" #", 1)[0].rstrip(" ")


_ANY_KEY = re.compile(r"(?:[^ \n#-]|-[^ \n])[^\n]*?:(?:[ ]|\n|\Z)")
_FIRST_CONTENT = re.compile(r"\n([ ]*)(?=[^ \n#])")
_NEXT_CONTENT = re.compile(r"\n(?:[ ]*\n)*([ ]*)(?=[^ \n])")
_BLOCK_END = {b: re.compile(rf"\n(?=[ ]{{0,{b}}}[^ \n#])") for b in (0, 2)}  # next line at or left of b
_ENTRY_DASH = re.compile(r"\n-(?=[ \n]|\Z)")
_KEY_REST = re.compile(r"[ ]*:(?:[ ]+([^\n]*?))?[ ]*(?=\n|\Z)")  # after a key's name: the colon and value


def _deeper_follows(text: str, pos: int, indent: int, end: int | None = None) -> bool:
    """True when the next non-blank line after `pos` (a line break) is indented more than `indent`."""
    if text.startswith(" " * (indent + 1), pos + 1):
        return True
    if not text.startswith("\n", pos + 1) and not text.startswith(" " * indent + "\n", pos + 1):
        return False  # the next line has content at `indent` or less (the common case, no regex)
    match = _NEXT_CONTENT.match(text, pos, len(text) if end is None else end)
    return bool(match) and len(match.group(1)) > indent


def _find_key(text: str, prefix: str, start: int, end: int) -> tuple[str | None, int] | None:
    """(raw value, end of its line) of the key line `prefix:` in text[start:end].

    `prefix` is a line break, the indentation and the key. (None, -1) when there is no such
    line; None when unsure (twice, or a line that starts like it but reads otherwise).
    str.find, not a regular expression: this runs for every item and must cost ~nothing.
    """
    found: tuple[str | None, int] = (None, -1)
    at = text.find(prefix, start, end)
    while at >= 0:
        after = at + len(prefix)
        match = _KEY_REST.match(text, after, end)
        if match is not None:
            if found[1] >= 0:
                return None  # a duplicate key: let the strict parser report it
            found = (match.group(1), match.end())
        elif text[after : after + 1] in ("", " ", "\n"):
            return None  # `kind` alone or `kind of: ...`: not plainly this key
        # else a longer key (`kinds:`, `name.x:`): not this one
        at = text.find(prefix, after, end)
    return found


def _scan_header(text: str, entry: bool) -> dict[str, str | None] | None:
    """apiVersion, kind, metadata.name/namespace of a block mapping item, or None when unsure.

    Only valid for text in which `_suspicious_offsets` found nothing: then a line at the
    item's own indentation is one of its keys (block scalars and plain continuation lines
    sit deeper), so `\n` + indentation + key finds each key line.
    """
    base = 2 if entry else 0
    text = "\n" + text
    if entry:
        dash = 0 if text.startswith(("\n- ", "\n-\n")) else _ENTRY_DASH.search(text)
        if dash is None:
            return None
        dash = dash if isinstance(dash, int) else dash.start()
        text = text[: dash + 1] + " " + text[dash + 2 :]  # `- key:` reads as `  key:`
    first = _FIRST_CONTENT.match(text) or _FIRST_CONTENT.search(text)
    if first is None or len(first.group(1)) != base or not _ANY_KEY.match(text, first.end()):
        return None  # not a block mapping at the item's own indentation
    pad = "\n" + " " * base
    header: dict[str, str | None] = {"apiVersion": None, "kind": None, "name": None, "namespace": None}
    for key in ("apiVersion", "kind", "metadata"):
        found = _find_key(text, pad + key, 0, len(text))
        if found is None:
            return None
        raw, line_end = found
        if line_end < 0:
            continue
        value = _uncommented(raw)
        if key != "metadata":
            ok, header[key] = _header_value(value)
            if not ok or _deeper_follows(text, line_end, base):
                return None
        elif value:
            if value not in ("{}", "null", "~") or _deeper_follows(text, line_end, base):
                return None  # flow-style or scalar metadata
        else:
            meta = _metadata(text, line_end, base)
            if meta is None:
                return None
            header["name"], header["namespace"] = meta
    return header


def _metadata(text: str, start: int, base: int) -> tuple[str | None, str | None] | None:
    """name and namespace from the block after `metadata:` (its line ends at `start`)."""
    block_end = _BLOCK_END[base].search(text, start)
    end = block_end.start() if block_end else len(text)
    first = _FIRST_CONTENT.match(text, start, end) or _FIRST_CONTENT.search(text, start, end)
    if first is None:
        return None, None  # metadata is null
    indent = len(first.group(1))
    if text.startswith(("- ", "-\n"), first.end()) or first.end() == len(text) - 1:
        return None, None  # a list: no name
    pad = "\n" + " " * indent
    values: list[str | None] = []
    for key in ("name", "namespace"):
        found = _find_key(text, pad + key, start, end)
        if found is None:
            return None
        raw, line_end = found
        ok, value = _header_value(_uncommented(raw))
        if not ok or (line_end >= 0 and _deeper_follows(text, line_end, indent, end)):
            return None
        values.append(value)
    return values[0], values[1]


def _header_of(data: object) -> dict[str, str | None] | None:
    """The header of parsed data, as `Item` would read it; None for a non-mapping."""
    if not isinstance(data, dict):
        return None
    meta = data.get("metadata")
    meta = meta if isinstance(meta, dict) else {}

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "apiVersion": text(data.get("apiVersion")),
        "kind": text(data.get("kind")),
        "name": text(meta.get("name")),
        "namespace": text(meta.get("namespace")),
    }


class SplitResourceList:
    """The items of a ResourceList, its parsed functionConfig, and its apiVersion and kind."""

    __slots__ = ("function_config", "items", "top")

    def __init__(self, items: list[RawItem], function_config: object, top: dict[str, object]):
        self.items = items
        self.function_config = function_config  # None when absent
        self.top = top


def split_resource_list(text: str) -> SplitResourceList:
    """Cut a ResourceList into raw items; falls back to a node round trip when unsure."""
    fast = _split_resource_list_fast(text)
    return fast if fast is not None else _split_resource_list_nodes(text)


_TOP_LINE = re.compile(r"\n(?=[^ \n#-]|-[^ \n])")  # a line at column 0 that is not an entry or comment
_TOP_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_]*):(?:[ ]+([^\n]*?))?[ ]*(?:\n|\Z)")
_CONTENT = re.compile(r"^[ ]*[^ \n#]", re.M)
_CONTENT_INDENT = re.compile(r"^([ ]*)[^ \n#]", re.M)


def _split_resource_list_fast(text: str) -> SplitResourceList | None:
    """The split described in the module docstring, or None to take the node round trip."""
    if _OTHER_BREAKS.search(text):
        return None
    body = text[4:] if text.startswith("---\n") else text
    offset = len(text) - len(body)
    starts = [0, *(m.start() + 1 for m in _TOP_LINE.finditer(body))]
    if _CONTENT.match(body) and not _TOP_KEY.match(body):
        return None  # content before the first key, or a first line that is not a key
    sections: dict[str, tuple[int, str | None, int, int]] = {}  # key -> (key offset, inline, body start, end)
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(body)
        match = _TOP_KEY.match(body, start)
        if match is None:
            if start == 0 and not _CONTENT.search(body, 0, end):
                continue  # leading comments or blank lines
            return None  # `...`, `---`, a directive, flow content, a complex key
        if match.group(1) in sections:
            return None
        sections[match.group(1)] = (start, match.group(2), match.end(), end)

    top: dict[str, object] = {}
    function_config = None
    items: list[RawItem] = []
    for key, (start, inline, body_start, end) in sections.items():
        if key in ("apiVersion", "kind"):
            ok, value = _header_value(_uncommented(inline))
            if not ok or _CONTENT.search(body, body_start, end):
                return None
            top[key] = value
        elif key == "items":
            value = _uncommented(inline)
            if value in ("[]", "null", "~") and not _CONTENT.search(body, body_start, end):
                continue
            if value:
                return None  # flow-style items, or content after an empty list
            base_line = text.count("\n", 0, offset + body_start) + 1
            split = _split_entries(body[body_start:end], base_line)
            if split is None:
                return None
            items = split
        else:
            try:
                parsed = load_one(body[start:end])
            except YamlError:
                return None
            if key == "functionConfig":
                function_config = parsed.get("functionConfig") if isinstance(parsed, dict) else None
    return SplitResourceList(items, function_config, top)


def _split_entries(section: str, first_line: int) -> list[RawItem] | None:
    """The entries of the block sequence in `section`, each as a `- ` entry at column 0."""
    first = _CONTENT_INDENT.search(section)
    if first is None:
        return []
    indent = len(first.group(1))
    if not section.startswith(("- ", "-\n"), first.end(1)) and section[first.end(1) :] != "-":
        return None  # the first content is not an entry
    if indent:  # (at indent 0 the section ends at the first other line at column 0)
        if re.compile(rf"\n {{{indent}}}(?!-(?:[ \n]|\Z))[^ \n#]").search(section):
            return None  # content at the entries' indent that is not an entry
        if re.compile(rf"\n {{0,{indent - 1}}}[^ \n#]").search(section):
            return None  # content left of the entries
    entry = re.compile(rf"\n {{{indent}}}-(?=[ \n]|\Z)")
    bounds = [0, *(m.start() + 1 for m in entry.finditer(section, first.end()))]
    bounds.append(len(section))
    suspicious = _suspicious_offsets(section)
    items: list[RawItem] = []
    line = first_line
    for start, end in itertools.pairwise(bounds):
        chunk = section[start:end]
        number = line
        line += chunk.count("\n")
        if indent:
            # Dedent; a blank line shorter than the indent stays blank (it is empty either way).
            chunk = re.sub(rf"^(?: {{{indent}}}|[ ]+(?=\n|\Z))", "", chunk, flags=re.M)
        text = _ended(chunk)
        if text is None:
            return None
        raw = RawItem(text, "entry", number, None)
        at = bisect.bisect_left(suspicious, start)
        if at < len(suspicious) and suspicious[at] < end:
            try:
                raw.parsed = _parse_entry(raw)
                raw.header = _header_of(raw.parsed)
            except YamlError:
                if not _one_entry(raw.text):
                    return None  # maybe not this item's text alone: let the node round trip decide
                # The text is this item's alone but its content is wrong (a duplicate key, an
                # unknown tag): keep it as is; the error is reported when a rule reads the item.
        else:
            raw.header = _scan_header(text, entry=True)
        items.append(raw)
    return items


def _one_entry(text: str) -> bool:
    """Does `text` alone compose to a sequence of exactly one entry (whatever that entry holds)?"""
    try:
        nodes = compose_documents(text, check=False)
    except YamlError:
        return False
    return len(nodes) == 1 and nodes[0].id == "sequence" and len(nodes[0].value) == 1


def _ended(chunk: str) -> str | None:
    """`chunk` ending with a line break; None when adding one would change a block scalar.

    Blank lines at the end stay: under `|+` they are part of the value.
    """
    if chunk.endswith("\n"):
        return chunk
    try:
        same = load_documents(chunk) == load_documents(chunk + "\n")
    except YamlError:
        same = True  # the error is the same with or without the break; it is reported later
    return chunk + "\n" if same else None


def _parse_entry(raw: RawItem) -> object:
    """The object of a `- ...` entry (YamlError lines relative to the stream)."""
    try:
        data = load_one(raw.text)
    except YamlError as err:
        if err.line is not None:
            err.line += raw.line - 1
        raise
    if not isinstance(data, list) or len(data) != 1:
        raise YamlError("a ResourceList item must be one object", raw.line)
    return data[0]


def _split_resource_list_nodes(text: str) -> SplitResourceList:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    nodes = compose_documents(text)
    if len(nodes) != 1 or not isinstance(nodes[0], MappingNode):
        raise YamlError("expected one YAML mapping (a ResourceList)")
    root = nodes[0]
    items: list[RawItem] = []
    top: dict[str, object] = {}
    function_config = None
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        if key == "items":
            if isinstance(value_node, ScalarNode) and value_node.tag == "tag:yaml.org,2002:null":
                continue
            if not isinstance(value_node, SequenceNode):
                raise YamlError("ResourceList items must be a list", value_node.start_mark.line + 1)
            for item_node in value_node.value:
                entry = serialize_node(SequenceNode("tag:yaml.org,2002:seq", [item_node], flow_style=False))
                items.append(RawItem(entry, "entry", item_node.start_mark.line + 1, None))
        elif key == "functionConfig":
            function_config = construct(value_node)
        elif key in ("apiVersion", "kind"):
            top[key] = construct(value_node)
    return SplitResourceList(items, function_config, top)


def split_documents(text: str) -> list[RawItem]:
    """Cut a multi-document stream into the raw text of each non-empty document."""
    fast = _split_documents_fast(text)
    return fast if fast is not None else _split_documents_nodes(text)


_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \n]|\Z)([^\n]*)", re.M)
_DIRECTIVE = re.compile(r"^%", re.M)


def _split_documents_fast(text: str) -> list[RawItem] | None:
    if _OTHER_BREAKS.search(text) or _DIRECTIVE.search(text):
        return None
    bounds: list[tuple[int, int]] = []  # (start, end) of each document's text
    start = 0
    for marker in _MARKER.finditer(text):
        rest = marker.group(1).strip(" ")
        if rest and not rest.startswith("#"):
            return None  # `--- content`, `--- !tag`, `--- |`
        bounds.append((start, marker.start()))
        start = marker.end() + 1
    bounds.append((start, len(text)))
    suspicious = _suspicious_offsets(text)
    items = []
    for start, end in bounds:
        chunk = text[start:end]
        if not _CONTENT.search(chunk):
            continue
        number = text.count("\n", 0, start) + 1
        ended = _ended(chunk)
        if ended is None:
            items.extend(_documents_of_nodes(chunk, number - 1))
            continue
        at = bisect.bisect_left(suspicious, start)
        header = None if at < len(suspicious) and suspicious[at] < end else _scan_header(ended, entry=False)
        items.append(RawItem(ended, "document", number, header))
    return items


def _split_documents_nodes(text: str) -> list[RawItem]:
    return _documents_of_nodes(text, 0)


def _documents_of_nodes(text: str, line_offset: int) -> list[RawItem]:
    items = []
    for node in compose_documents(text):
        if node.tag == "tag:yaml.org,2002:null" and not node.value:
            continue
        items.append(RawItem(serialize_node(node), "document", node.start_mark.line + 1 + line_offset, None))
    return items


def parse_raw_item(item: RawItem) -> object:
    """The parsed object of a raw item (strict: duplicate keys and alias bombs refused).

    A ResourceList entry must be a mapping: anything else raises YamlError, since kpt and
    kustomize would refuse it too. A document may be anything (files hold other YAML).
    """
    if item.parsed is not _NOT_PARSED:
        data = item.parsed
    elif item.form == "entry":
        data = item.parsed = _parse_entry(item)
    else:
        try:
            data = item.parsed = load_one(item.text)
        except YamlError as err:
            if err.line is not None:
                err.line += item.line - 1
            raise
    if item.form == "entry" and not isinstance(data, dict):
        what = "empty" if data is None else f"a {_type_name(data)}"
        raise YamlError(
            f"the ResourceList item starting at line {item.line} is {what}, not a Kubernetes object (a mapping)"
        )
    return data


def _type_name(data: object) -> str:
    return {str: "string", list: "list", int: "number", float: "number", bool: "boolean"}.get(
        type(data), type(data).__name__
    )


def as_entry(item: RawItem) -> str:
    """The item's text as a `- ...` sequence entry."""
    if item.form == "entry":
        return item.text
    lines = item.text.splitlines(keepends=True)
    out = []
    started = False
    for line in lines:
        if not started and line.strip() and not line.lstrip().startswith("#"):
            out.append("- " + line)
            started = True
        elif line != "\n":
            out.append("  " + line)
        else:
            out.append(line)
    return "".join(out)


def as_document(item: RawItem) -> str:
    """The item's text as a standalone document."""
    if item.form == "document":
        return item.text
    out = []
    started = False
    for line in item.text.splitlines(keepends=True):
        if not started and line.startswith("-"):
            started = True
            out.append(line[2:] if line.startswith("- ") else "\n")
        elif line.startswith("  "):
            out.append(line[2:])
        else:
            out.append(line.lstrip(" "))
    return "".join(out)
