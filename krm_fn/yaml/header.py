"""Reading apiVersion, kind and metadata.name/namespace of an item from its text, when that is plain."""

from __future__ import annotations

import re

from krm_fn.yaml.resolve import _GO_IMPLICIT, _MAYBE_NOT_STR

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
