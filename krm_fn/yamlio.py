"""YAML in and out: strict parsing, faithful pass-through, safe emitting.

Three jobs, all about YAML and nothing about Kubernetes:

* `load_documents` parses with libyaml, refuses duplicate keys (PyYAML keeps the last one
  silently), bounds alias expansion (billion laughs) and resolves scalars the way
  kustomize, kpt and Flux do (go-yaml v3: `on`/`yes` and dates stay strings, `0777` is octal).
* `split_resource_list` / `split_documents` cut a ResourceList or a multi-document stream
  into the original text of each item, so items the function does not own go back out
  byte for byte (key order, quoting, comments: a SOPS MAC covers key order). A line
  scanner does this for the block layout kpt and kustomize emit; anything else goes
  through a node-level round trip that keeps every scalar's text and style.
* `dump_*` emit the objects the function generates, quoting every string that a YAML 1.1
  or a YAML 1.2 reader could take for something else.

Error messages carry a line and column but never the offending text: the input may be a
Secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from yaml._yaml import CEmitter, CParser
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.representer import SafeRepresenter
from yaml.resolver import BaseResolver, Resolver

MAX_EXPANDED_NODES = 1_000_000  # nodes after expanding aliases; a 2,000-item list has ~200k


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


class GoYamlResolver(BaseResolver):
    """Implicit tags of go-yaml v3, which every consumer of our output uses.

    Differences from PyYAML's YAML 1.1 resolver: only true/false are booleans (`on`, `yes`,
    `n` are strings), timestamps are strings, integers follow Go's base prefixes
    (`0777` is octal, `0x1F` hex, `0o17`, `0b101`).
    """


GoYamlResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
GoYamlResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$"),
    list("-+0123456789"),
)
GoYamlResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"),
)
GoYamlResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
GoYamlResolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


class _Constructor(SafeConstructor):
    def construct_go_int(self, node: ScalarNode) -> int:
        text = node.value.replace("_", "")
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



def _construct_go_float(constructor: SafeConstructor, node: ScalarNode) -> float:
    text = node.value.lower()
    if text.endswith(".nan"):
        return float("nan")
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float(text)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_go_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _construct_go_float)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


class StrictLoader(CParser, _Constructor, GoYamlResolver):
    """libyaml parser + go-yaml v3 resolution; node checks happen in `compose_documents`."""

    def __init__(self, stream: str):
        CParser.__init__(self, stream)
        _Constructor.__init__(self)
        GoYamlResolver.__init__(self)


# --- node checks ---------------------------------------------------------------------------


def _check_node(node: Node) -> None:
    """Refuse duplicate mapping keys and alias bombs, without recursion."""
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
        children = (
            [n for pair in current.value for n in pair] if isinstance(current, MappingNode) else current.value
        )
        if not children_done:
            if isinstance(current, MappingNode):
                _check_duplicate_keys(current)
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


def _check_duplicate_keys(node: MappingNode) -> None:
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode):
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


def _yaml_error(exc: yaml.YAMLError) -> YamlError:
    """A YamlError from a PyYAML error, dropping the snippet PyYAML quotes from the input."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context else problem
    if mark is None:
        return YamlError(f"invalid YAML: {message}")
    return YamlError(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)


@dataclass
class Document:
    """One parsed YAML document and where it starts (1-based line, 0-based index)."""

    data: object
    line: int
    index: int
    node: Node | None = field(default=None, repr=False)


def compose_documents(text: str) -> list[Node]:
    """Parse to checked nodes (duplicate keys and alias bombs refused)."""
    loader = StrictLoader(text)
    nodes = []
    try:
        while loader.check_node():
            node = loader.get_node()
            _check_node(node)
            nodes.append(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None
    finally:
        loader.dispose()
    return nodes


def construct(node: Node) -> object:
    """Python data of a checked node."""
    loader = StrictLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


def load_documents(text: str, keep_nodes: bool = False) -> list[Document]:
    """Every document of a YAML stream; empty documents are skipped."""
    docs = []
    for index, node in enumerate(compose_documents(text)):
        data = construct(node)
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


def node_line(node: Node | None, path: list[str | int]) -> int | None:
    """1-based line of the value at `path` below a mapping/sequence node, if it exists."""
    current = node
    for part in path:
        if isinstance(current, MappingNode):
            current = next((v for k, v in current.value if isinstance(k, ScalarNode) and k.value == part), None)
        elif isinstance(current, SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
        else:
            return None
        if current is None:
            return None
    return current.start_mark.line + 1 if current is not None else None


# --- emitting ------------------------------------------------------------------------------


class _UnambiguousResolver(Resolver):
    """Quote a string whenever YAML 1.1 *or* go-yaml v3 would read it as non-string."""

    def resolve(self, kind, value, implicit):  # type: ignore[override]
        tag = super().resolve(kind, value, implicit)
        if kind is ScalarNode and implicit[0] and tag == "tag:yaml.org,2002:str":
            return GoYamlResolver.resolve(self, kind, value, implicit)
        return tag


class _Representer(SafeRepresenter):
    def represent_str(self, data: str) -> ScalarNode:
        if "\n" in data and _block_safe(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return super().represent_str(data)


def _block_safe(text: str) -> bool:
    """Literal block style keeps the text exactly only without trailing spaces or tabs."""
    return not any(line != line.rstrip(" \t") for line in text.split("\n")) and not text.startswith((" ", "\n"))


_Representer.add_representer(str, _Representer.represent_str)
_Representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))

class _GeneratedDumper(CEmitter, _Representer, _UnambiguousResolver):
    def __init__(self, stream, **kwargs):
        CEmitter.__init__(
            self,
            stream,
            width=kwargs.get("width"),
            allow_unicode=True,
            explicit_start=kwargs.get("explicit_start"),
        )
        _Representer.__init__(self, default_style=None, default_flow_style=False, sort_keys=False)
        _UnambiguousResolver.__init__(self)


class _FaithfulDumper(CEmitter, GoYamlResolver):
    """Serializes composed nodes; scalars keep their text and style."""

    def __init__(self, stream, **kwargs):
        CEmitter.__init__(self, stream, width=1 << 30, allow_unicode=True, explicit_start=False)
        GoYamlResolver.__init__(self)


def dump_document(obj: object) -> str:
    """One generated object as a YAML document (block style, keys in insertion order)."""
    return yaml.dump(obj, Dumper=_GeneratedDumper, width=1 << 30)


def dump_sequence_entry(obj: object) -> str:
    """One generated object as a `- ...` entry of a block sequence at column 0."""
    return yaml.dump([obj], Dumper=_GeneratedDumper, width=1 << 30)


def serialize_node(node: Node) -> str:
    """A composed node back to text, every scalar in its original style."""
    return yaml.serialize(node, Dumper=_FaithfulDumper)


# --- splitting a stream into the text of each item ----------------------------------------


@dataclass
class RawItem:
    """The original text of one input object and what a cheap scan could tell about it.

    `text` is either a `- ...` block sequence entry at column 0 (ResourceList form) or a
    whole YAML document (multi-document form). `header` has apiVersion, kind, name and
    namespace when the scan could read them plainly; None means "parse to know".
    """

    text: str
    form: str  # "entry" | "document"
    line: int  # 1-based line, in the input stream, of the first line of `text`
    header: dict[str, str | None] | None

    @property
    def content_line(self) -> int:
        """1-based line of the first line that is not blank or a comment."""
        for offset, line in enumerate(self.text.splitlines()):
            if line.strip() and not line.lstrip().startswith("#"):
                return self.line + offset
        return self.line


_TOP_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_]*):(?:[ \t]+(.*?))?[ \t]*\n?$")
_KEY_LINE = re.compile(r"( *)([A-Za-z][A-Za-z0-9_./-]*):(?:[ \t]+(.*?))?[ \t]*$")
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]*")
_QUOTED_VALUE = re.compile(r"'([A-Za-z0-9_./:-]*)'|\"([A-Za-z0-9_./:-]*)\"")
# An anchor or alias outside a quoted scalar (conservative: may also match inside block text).
_ANCHOR_OR_ALIAS = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s\[\]{},]")


def _header_value(raw: str | None) -> tuple[bool, str | None]:
    """(understood, value) for a header scalar written plainly or in simple quotes."""
    if raw is None or raw == "":
        return True, None
    if " #" in raw:
        raw = raw.split(" #", 1)[0].rstrip()
    if _PLAIN_VALUE.fullmatch(raw):
        return True, raw
    quoted = _QUOTED_VALUE.fullmatch(raw)
    if quoted:
        return True, quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    return False, None


def _scan_header(lines: list[str], base: int) -> dict[str, str | None] | None:
    """apiVersion, kind, metadata.name/namespace from block lines whose keys sit at `base`."""
    header: dict[str, str | None] = {"apiVersion": None, "kind": None, "name": None, "namespace": None}
    seen: set[str] = set()
    in_metadata = False
    meta_indent: int | None = None
    scalar_indent: int | None = None  # indent of the header key whose value we just read
    for line in lines:
        stripped = line.lstrip(" ")
        if not stripped.strip() or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if indent < base:
            return None
        if scalar_indent is not None and indent > scalar_indent:
            return None  # a multi-line scalar: only a real parse reads it right
        scalar_indent = None
        match = _KEY_LINE.match(line.rstrip("\n"))
        if indent == base:
            in_metadata = False
            if not match:
                return None
            key, value = match.group(2), match.group(3)
            if key in seen:
                return None  # duplicate: let the strict parser report it
            seen.add(key)
            if key in ("apiVersion", "kind"):
                ok, header[key] = _header_value(value)
                if not ok:
                    return None
                scalar_indent = indent
            elif key == "metadata":
                if value not in (None, ""):
                    return None  # flow-style metadata
                in_metadata, meta_indent = True, None
            continue
        if in_metadata:
            if meta_indent is None:
                meta_indent = indent
            if indent == meta_indent:
                if not match:
                    return None
                key, value = match.group(2), match.group(3)
                if key in ("name", "namespace"):
                    if key in seen:
                        return None
                    seen.add(key)
                    ok, header[key] = _header_value(value)
                    if not ok:
                        return None
                    scalar_indent = indent
    return header


def _dedent(lines: list[str], width: int) -> list[str] | None:
    if width == 0:
        return lines
    pad = " " * width
    out = []
    for line in lines:
        if line.startswith(pad):
            out.append(line[width:])
        elif line.strip() == "" or line.lstrip(" ").startswith("#"):
            out.append(line.lstrip(" ") if line.strip() else line)
        else:
            return None
    return out


@dataclass
class SplitResourceList:
    items: list[RawItem]
    function_config: object  # parsed functionConfig (None when absent)
    top: dict[str, object]  # the other top-level scalars (apiVersion, kind)


def split_resource_list(text: str) -> SplitResourceList:
    """Cut a ResourceList into raw items; falls back to a node round trip when unsure."""
    fast = _split_resource_list_fast(text)
    return fast if fast is not None else _split_resource_list_nodes(text)


def _split_resource_list_fast(text: str) -> SplitResourceList | None:
    if "\t" in text or "\r" in text or _ANCHOR_OR_ALIAS.search(text):
        return None
    sections: dict[str, tuple[int, str | None, list[str]]] = {}
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(keepends=True)):
        if line.startswith(("---", "...")) and line.rstrip() in ("---", "..."):
            if number == 0 and line.startswith("---"):
                continue
            return None  # a second document
        if line[:1] in ("", " ", "\n", "#", "-"):
            if current is not None:
                current.append(line)
            elif line.strip() and not line.startswith("#"):
                return None
            continue
        match = _TOP_KEY.match(line)
        if not match or match.group(1) in sections:
            return None
        current = []
        sections[match.group(1)] = (number + 1, match.group(2), current)

    top = {}
    for key in ("apiVersion", "kind"):
        if key in sections:
            ok, value = _header_value(sections[key][1])
            if not ok or _has_content(sections[key][2]):
                return None
            top[key] = value

    function_config = None
    if "functionConfig" in sections:
        number, inline, body = sections["functionConfig"]
        function_config = load_one(("functionConfig: " + (inline or "") + "\n") + "".join(body))
        function_config = function_config.get("functionConfig") if isinstance(function_config, dict) else None

    items: list[RawItem] = []
    if "items" in sections:
        number, inline, body = sections["items"]
        if inline not in (None, "", "[]"):
            return None
        if inline == "[]" and _has_content(body):
            return None
        split = _split_entries(body, number + 1)
        if split is None:
            return None
        items = split
    return SplitResourceList(items, function_config, top)


def _has_content(lines: list[str]) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in lines)


def _split_entries(body: list[str], first_line: int) -> list[RawItem] | None:
    """The entries of a block sequence, each dedented to a `- ` entry at column 0."""
    indent: int | None = None
    entries: list[tuple[int, list[str]]] = []
    pending: list[str] = []  # comments and blanks before the first entry
    for offset, line in enumerate(body):
        stripped = line.lstrip(" ")
        if not stripped.strip() or stripped.startswith("#"):
            (entries[-1][1] if entries else pending).append(line)
            continue
        this_indent = len(line) - len(stripped)
        if indent is None:
            indent = this_indent
        if this_indent == indent and (stripped.startswith("- ") or stripped.rstrip("\r\n") == "-"):
            if stripped.startswith(("- {", "- [", "- !", "- |", "- >", "- '", '- "')):
                return None
            entries.append((first_line + offset - len(pending), [*pending, line]))
            pending = []
        elif this_indent > indent and entries:
            entries[-1][1].append(line)
        else:
            return None
    items = []
    for line_number, entry_lines in entries:
        dedented = _dedent(entry_lines, indent or 0)
        if dedented is None:
            return None
        # Trailing blank lines belong to nobody; drop them so every entry ends cleanly.
        while dedented and not dedented[-1].strip():
            dedented.pop()
        if not dedented[-1].endswith("\n"):
            dedented[-1] += "\n"
        first = next(i for i, s in enumerate(dedented) if s.startswith("-"))
        body_lines = ["  " + dedented[first][2:], *dedented[first + 1 :]]
        items.append(RawItem("".join(dedented), "entry", line_number, _scan_header(body_lines, 2)))
    return items


def _split_resource_list_nodes(text: str) -> SplitResourceList:
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
            if isinstance(value_node, ScalarNode) and value_node.value in ("", "null", "~"):
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


def _split_documents_fast(text: str) -> list[RawItem] | None:
    if "\t" in text or "\r" in text or _ANCHOR_OR_ALIAS.search(text):
        return None
    docs: list[tuple[int, list[str]]] = [(1, [])]
    for number, line in enumerate(text.splitlines(keepends=True)):
        if line.startswith(("---", "...")):
            if line.rstrip() not in ("---", "..."):
                return None  # `--- content` or `--- !tag`
            docs.append((number + 2, []))
            continue
        if line.startswith("%"):
            return None  # directives
        docs[-1][1].append(line)
    items = []
    for line_number, doc_lines in docs:
        if not _has_content(doc_lines):
            continue
        first = next(i for i, s in enumerate(doc_lines) if s.strip() and not s.lstrip().startswith("#"))
        if doc_lines[first][0] in " -[{|>'\"!&*":
            return None  # not a block mapping at column 0
        while not doc_lines[-1].strip():
            doc_lines.pop()
        if not doc_lines[-1].endswith("\n"):
            doc_lines[-1] += "\n"
        items.append(RawItem("".join(doc_lines), "document", line_number, _scan_header(doc_lines, 0)))
    return items


def _split_documents_nodes(text: str) -> list[RawItem]:
    items = []
    for node in compose_documents(text):
        if isinstance(node, ScalarNode) and node.value in ("", "null", "~"):
            continue
        items.append(RawItem(serialize_node(node), "document", node.start_mark.line + 1, None))
    return items


def parse_raw_item(item: RawItem) -> object:
    """The parsed object of a raw item (strict: duplicate keys and alias bombs refused)."""
    try:
        data = load_one(item.text)
    except YamlError as err:
        if err.line is not None:
            err.line += item.line - 1
        raise
    if item.form == "entry":
        return data[0] if isinstance(data, list) and data else None
    return data


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
    lines = item.text.splitlines(keepends=True)
    out = []
    for line in lines:
        if line.startswith(("- ", "  ")):
            out.append(line[2:])
        else:
            out.append(line.lstrip(" "))
    return "".join(out)
