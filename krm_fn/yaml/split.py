"""Splitting a ResourceList or a multi-document stream into the original text of each item.

`split_resource_list` / `split_documents` give the original text of each item, so items the
function does not own go back out byte for byte (key order, quoting, comments: a SOPS MAC
covers key order).

How the split stays both fast and right. A ResourceList from kpt is ~900 bytes and ~28
lines per item; parsing all of it with libyaml costs more than kpt itself, so the split
works on text with regular expressions (C speed) and parses only what it must:

1. CRLF files are split as LF and their items given back with CRLF; other line breaks
   Python's `re` does not see as such (a lone CR, NEL, LS, PS) or a BOM: fall back.
2. Top-level keys sit at column 0; items are the lines at the sequence's indent that start
   with `- `. This is exact for block YAML except where a line continues a quoted scalar or
   a flow collection opened on an earlier line (libyaml lets those continue at any
   indent), or where anchors, aliases, tags or complex keys tie text together.
3. Every place where that can happen starts with an indicator at the start of a token
   (a quote, `[`, `{`, `&`, `*`, `!`, `?`, `%`, `@`, a backquote, `|`, `>`) that is not a
   one-line closed form (`'..'`, `".."`, `[]`, `{}`, a block scalar header, then end of
   line), or with a tab or a character YAML forbids. One regular expression finds them
   all (those inside comments and block scalar contents do not count: nothing means
   anything there); an item containing one is parsed on its own right away. Quoted scalars
   that span lines are followed to their closing quote, so a line inside one (kpt writes
   the closing quote of a multi-line single-quoted string at column 0) is not structure.
   If an item does not read alone as exactly one entry, only that item pays: the parser
   cuts it when the scan glued several, it is glued to the next ones when a quote or a flow
   collection really runs on, and one that reads no way at all is kept as it came and
   reported (with its own path annotation) when read. Only an alias to another item's
   anchor sends the whole list through the node round trip. So the fast path is exact.
4. apiVersion, kind and metadata.name/namespace of the other items are found with
   `str.find` at the item's own indentation (only keys can sit there once step 3 has
   ruled out multi-line scalars), with plain or simply quoted values that resolve to
   strings; anything else (a duplicate, a continuation line, a flow mapping) leaves the
   header unknown and the item is parsed.

Items are otherwise never parsed unless a rule asks (`Item.obj` is lazy), so a syntax
error inside an item nobody reads is not found here; the consumer reads the same text.
"""

from __future__ import annotations

import bisect
import itertools
import re

from krm_fn.yaml.emit import serialize_node
from krm_fn.yaml.errors import YamlError
from krm_fn.yaml.header import _header_of, _header_value, _scan_header, _uncommented
from krm_fn.yaml.load import compose_documents, construct, load_documents, load_one
from krm_fn.yaml.scan import _inside, _lf_only, _quoted_spans, _suspicious_offsets

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
    lf = _lf_only(text)
    if lf is None:
        return None
    if lf is not text:
        split = _split_resource_list_fast(lf)
        if split is not None:
            for raw in split.items:
                raw.text = raw.text.replace("\n", "\r\n")
        return split
    body = text[4:] if text.startswith("---\n") else text
    offset = len(text) - len(body)
    suspicious = _suspicious_offsets(body)
    quoted = _quoted_spans(body, suspicious)
    starts = [0, *(m.start() + 1 for m in _TOP_LINE.finditer(body) if not _inside(quoted, m.start() + 1))]
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
            section = _Section(body[body_start:end], body_start, suspicious, quoted)
            split = _split_entries(section, base_line)
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


class _Section:
    """The items section of a ResourceList, with the flags found on the whole text (shifted)."""

    __slots__ = ("quoted", "suspicious", "text")

    def __init__(self, text: str, shift: int, suspicious: list[int], quoted: list[tuple[int, int]]):
        self.text = text
        end = shift + len(text)
        self.suspicious = [o - shift for o in suspicious if shift <= o < end]
        self.quoted = [(a - shift, b - shift) for a, b in quoted if a < end and b > shift]


def _split_entries(section: _Section, first_line: int) -> list[RawItem] | None:
    """The entries of the block sequence in `section`, each as a `- ` entry at column 0."""
    text, quoted = section.text, section.quoted
    first = _CONTENT_INDENT.search(text)
    if first is None:
        return []
    indent = len(first.group(1))
    if not text.startswith(("- ", "-\n"), first.end(1)) and text[first.end(1) :] != "-":
        return None  # the first content is not an entry
    if indent:  # (at indent 0 the section ends at the first other line at column 0)
        at_indent = re.compile(rf"\n {{{indent}}}(?!-(?:[ \n]|\Z))[^ \n#]")
        left = re.compile(rf"\n {{0,{indent - 1}}}[^ \n#]")
        for pattern in (at_indent, left):  # content at the entries' indent that is not an entry, or left of them
            if any(not _inside(quoted, m.start() + 1) for m in pattern.finditer(text)):
                return None
    entry = re.compile(rf"\n {{{indent}}}-(?=[ \n]|\Z)")
    bounds = [0, *(m.start() + 1 for m in entry.finditer(text, first.end()) if not _inside(quoted, m.start() + 1))]
    bounds.append(len(text))
    suspicious = section.suspicious
    chunks: list[tuple[str, int, bool]] = []  # (text at column 0, first line, flagged)
    line = first_line
    for start, end in itertools.pairwise(bounds):
        chunk = text[start:end]
        number = line
        line += chunk.count("\n")
        if indent:
            # Dedent; a blank line shorter than the indent stays blank (it is empty either way).
            chunk = re.sub(rf"^(?: {{{indent}}}|[ ]+(?=\n|\Z))", "", chunk, flags=re.M)
        at = bisect.bisect_left(suspicious, start)
        chunks.append((chunk, number, at < len(suspicious) and suspicious[at] < end))
    items: list[RawItem] = []
    index = 0
    while index < len(chunks):
        chunk, number, flagged = chunks[index]
        ended = _ended(chunk)
        if ended is None:
            return None
        if not flagged:
            items.append(RawItem(ended, "entry", number, _scan_header(ended, entry=True)))
            index += 1
            continue
        resolved = _resolve_chunk(chunks, index, ended)
        if resolved is None:
            return None
        new_items, index = resolved
        items.extend(new_items)
    return items


_MAX_GLUED = 16  # chunks tried together when one does not read alone (a quote left open on purpose)


def _resolve_chunk(chunks: list[tuple[str, int, bool]], index: int, text: str) -> tuple[list[RawItem], int] | None:
    """Items for the flagged chunk at `index` (and the chunks it turns out to continue into).

    Only these items pay: parsed alone right away when they read as exactly one entry; cut by
    the parser when the scan glued several; glued to the following chunks when a quote or a
    flow collection really runs on. A chunk that reads no way at all stays as it is, its error
    reported with its own location when a rule reads it. None (the whole list through the node
    round trip) only for an alias to another item's anchor, which only the whole list can resolve.
    """
    number = chunks[index][1]
    raw = RawItem(text, "entry", number, None)
    try:
        raw.parsed = _parse_entry(raw)
        raw.header = _header_of(raw.parsed)
        return [raw], index + 1
    except YamlError:
        pass
    nodes, error = _compose_quietly(text)
    if nodes is not None:
        if len(nodes) == 1 and nodes[0].id == "sequence" and len(nodes[0].value) == 1:
            return [raw], index + 1  # this item's text alone, with wrong content: reported when read
        cut = _cut(text, number, nodes)
        return None if cut is None else (cut, index + 1)
    if "undefined alias" in error:
        return None
    glued = text
    for later in range(index + 1, min(len(chunks), index + 1 + _MAX_GLUED)):
        glued = (glued if glued.endswith("\n") else glued + "\n") + chunks[later][0]
        ended = _ended(glued)
        if ended is None:
            break
        nodes, _ = _compose_quietly(ended)
        if nodes is not None:
            if len(nodes) == 1 and nodes[0].id == "sequence" and len(nodes[0].value) == 1:
                item = RawItem(ended, "entry", number, None)
                return [item], later + 1
            cut = _cut(ended, number, nodes)
            return None if cut is None else (cut, later + 1)
    return [raw], index + 1  # reads no way: kept as it came, reported when read


def _entry_node(node: object) -> object:
    """A block sequence node holding `node`: what a `- ...` entry composes to."""
    from yaml.nodes import SequenceNode  # start-up budget: docs/startup.md

    return SequenceNode("tag:yaml.org,2002:seq", [node], flow_style=False)


def _compose_quietly(text: str) -> tuple[list | None, str]:
    try:
        return compose_documents(text, check=False), ""
    except YamlError as err:
        return None, err.message


def _cut(text: str, number: int, nodes: list) -> list[RawItem] | None:
    """Entries of composed `text` (entries at column 0), each as its exact slice when that reads alone."""
    if len(nodes) != 1 or nodes[0].id != "sequence":
        return [RawItem(text, "entry", number, None)]  # not a list of entries: kept, reported when read
    entries = nodes[0].value
    starts = [0]
    for node in entries[1:]:
        starts.append(text.rfind("\n-", 0, node.start_mark.index) + 1)
    starts.append(len(text))
    items = []
    for k, node in enumerate(entries):
        piece = text[starts[k] : starts[k + 1]]
        line = number + text.count("\n", 0, starts[k])
        pieces, error = _compose_quietly(piece) if starts[k] < starts[k + 1] else (None, "")
        if pieces is not None and len(pieces) == 1 and pieces[0].id == "sequence" and len(pieces[0].value) == 1:
            items.append(RawItem(piece, "entry", line, None))
        elif "undefined alias" in error:
            return None  # an alias to another item's anchor: only the whole list resolves it
        else:  # this item alone takes the node round trip
            entry = serialize_node(_entry_node(node))
            items.append(RawItem(entry, "entry", node.start_mark.line + number, None))
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
        err.shift(raw.line - 1)
        raise
    if not isinstance(data, list) or len(data) != 1:
        raise YamlError("a ResourceList item must be one object", raw.line)
    return data[0]


def _split_resource_list_nodes(text: str) -> SplitResourceList:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # start-up budget: docs/startup.md

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
                entry = serialize_node(_entry_node(item_node))
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
    lf = _lf_only(text)
    if lf is None or _DIRECTIVE.search(lf):
        return None
    if lf is not text:  # a CRLF file: split as LF, give each document back its CRLF
        items = _split_documents_fast(lf)
        for raw in items or []:
            raw.text = raw.text.replace("\n", "\r\n")
        return items
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
            err.shift(item.line - 1)
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
