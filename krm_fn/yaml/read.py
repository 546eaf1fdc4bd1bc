"""Reading the block YAML kpt and kyaml write, without PyYAML: what `load.load_one` gives, or Unsure.

Why (issue 25): importing PyYAML (its Python loader and dumper classes come with `import yaml`,
libyaml's parser with them) is ~10 ms of a ~45 ms warm 20-resource run, which reads only a few
small objects: the functionConfig, Secrets, routes and the items the split flagged (a ConfigMap
holding a file, which kpt writes as a quoted scalar over several lines). This module reads those.

What it reads: block mappings and sequences (compact `- key:` entries, sequences at their key's
indentation), comments, one-line plain scalars typed as go-yaml v3 types them (resolve.py), single-
and double-quoted scalars over any number of lines (libyaml's line folding, kyaml's escapes),
literal and folded block scalars (tabs in their content too), one-line flow collections of
scalars. What it does not read raises Unsure, and the caller takes PyYAML's path, which also
words every error: anchors, aliases, tags, tabs elsewhere, plain scalars over several lines,
complex keys, duplicate keys (1 and true are one key to Python), directives and document markers,
characters YAML reads as line breaks, and any shape not listed. So a text read here gives exactly
the data PyYAML gives (same values, types and key order); tests/test_yaml_read.py holds the two
to that over generated documents and over what kpt itself writes.
"""

from __future__ import annotations

import re

from krm_fn.yaml.resolve import _GO_IMPLICIT, _MAYBE_NOT_STR, _SCALARS, MERGE


class Unsure(Exception):
    """Text this module does not read exactly: PyYAML's path reads it (and reports its errors)."""


# Characters YAML reads as line breaks or refuses, surrogates and the byte order mark: the whole
# text goes to PyYAML. (A tab is read only inside a block scalar's content; elsewhere it is unsure.)
_UNSURE_CHARS = re.compile("[\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_ASCII_SURE = bytes(range(0x20, 0x7F)) + b"\t\n"  # the same test for ASCII text, ~10x faster than the class
# Document markers and directives, at the start of a line: after a line break, or at the start.
_MARKER = re.compile(r"\n(?:---|\.\.\.)(?=[ \n]|\Z)|\n%")
_FIRST_MARKER = re.compile(r"(?:---|\.\.\.)(?=[ \n]|\Z)|%")

# A plain scalar in block context, on one line: not starting with an indicator (`-?:` only when
# followed by a non-space); ends before `: ` or a final `:`, before ` #`, before trailing spaces.
_PLAIN_FIRST = r"(?:[^-?:,\[\]{}#&*!|>'\"%@` \n]|[-?:](?=[^ \n]))"
_PLAIN_BODY = r"(?:[^ \n:]++|:(?=[^ \n])|[ ]++(?=[^ \n#:]))*+"
_PLAIN = re.compile(_PLAIN_FIRST + _PLAIN_BODY)
# A plain key and its colon; then, when the rest of the line is one, a plain, single-quoted or
# double-quoted (no escapes) value and maybe a comment (groups 2, 3, 4), else nothing more.
_KEY = re.compile(
    rf"({_PLAIN_FIRST}{_PLAIN_BODY})[ ]*:"
    rf"""(?:[ ]+(?:({_PLAIN_FIRST}{_PLAIN_BODY})|'((?:[^'\n]++|'')*+)'|"([^"\\\n]*+)")(?:[ ]+\#.*|[ ]*)$|(?=[ ]|$))"""
)
_SQ_KEY = re.compile(r"'((?:[^'\n]++|'')*+)'[ ]*:(?:[ ]|$)")
_DQ_KEY = re.compile(r'"((?:[^"\\\n]++|\\[^\n])*+)"[ ]*:(?:[ ]|$)')
_MAX_KEY = 1000  # libyaml refuses a simple key longer than 1024 characters
# In a flow collection: no `:` or `#` at all (a flow plain scalar has other rules for them).
_FLOW_PLAIN = re.compile(
    r"(?:[^-?:,\[\]{}#&*!|>'\"%@` \n]|-(?=[^ \n:,\[\]{}#]))(?:[^ \n:,\[\]{}#]++|[ ]++(?=[^ \n#:,\[\]{}]))*+"
)

_SQ_LINE = re.compile(r"'((?:[^'\n]++|'')*+)'")
_DQ_LINE = re.compile(r'"((?:[^"\\\n]++|\\[^\n])*+)"')
_SQ_TEXT = re.compile(r"'((?:[^']++|'')*+)'")
_DQ_TEXT = re.compile(r'"((?:[^"\\]++|\\[\s\S])*+)"')
# Inside a double-quoted scalar: an escaped line break and the lines it joins, a line break with
# the spaces around it (folded), or an escape.
_DQ_PART = re.compile(
    r"\\\n(?:[ ]*\n)*[ ]*|[ ]*\n(?:[ ]*\n)*[ ]*|\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)"
)
# The escapes of a double-quoted scalar: YAML 1.2.2 section 5.7
# (https://yaml.org/spec/1.2.2/#57-escaped-characters), the set libyaml reads (`\/` included).
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_END = re.compile(r"(?:[ ]+(?:#.*)?)?$")  # the rest of a line: spaces, maybe a comment
_BLOCK_HEADER = re.compile(r"[|>](?:([1-9])([+-])?|([+-])([1-9])?)?(?:[ ]+(?:#.*)?)?$")


def read(text: str) -> object:
    """The data of the single YAML document in `text` (None when it has none); Unsure when not certain."""
    if text.isascii():
        if text.encode().translate(None, _ASCII_SURE):
            raise Unsure
    elif _UNSURE_CHARS.search(text):
        raise Unsure
    if _MARKER.search(text) or _FIRST_MARKER.match(text):
        raise Unsure
    try:
        return _Reader(text).document()
    except RecursionError:
        raise Unsure from None


def _plain(text: str) -> object:
    """A plain scalar's value, typed as go-yaml v3 types it (what load.py's resolver gives)."""
    if text[0] in _MAYBE_NOT_STR:
        for tag, pattern in _GO_IMPLICIT:
            if pattern.match(text):
                if tag == MERGE:
                    raise Unsure
                try:
                    return _SCALARS[tag](text)
                except ValueError:  # `0x_`: PyYAML's path says what is wrong
                    raise Unsure from None
    return text


def _escape(match: re.Match) -> str:
    """What a match of _DQ_PART stands for: a folded line break, an escaped one, or an escape."""
    whole = match.group()
    if whole[0] != "\\":  # a line break and the spaces around it: one break is a space, more are n-1 breaks
        breaks = whole.count("\n")
        return " " if breaks == 1 else "\n" * (breaks - 1)
    if whole[1] == "\n":  # an escaped line break joins the lines; the empty lines after it stay
        return "\n" * (whole.count("\n") - 1)
    code = match.group(1)
    if len(code) == 1:
        char = _ESCAPES.get(code)
        if char is None:
            raise Unsure
        return char
    value = int(code[1:], 16)
    if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        raise Unsure
    return chr(value)


# The escapes kyaml writes in files held in ConfigMaps; a double-quoted scalar with no other ones
# is decoded with str.replace, ~20x faster than a callback per escape (issue 25).
_COMMON_ESCAPES = (('\\"', '"'), ("\\n", "\n"), ("\\t", "\t"), ("\\r", "\r"), ("\\/", "/"))


def _common_escapes(raw: str) -> str | None:
    """`raw` (one line) with its escapes decoded, or None when it has another kind."""
    parts = raw.split("\\\\")  # escaped backslashes, paired from the left as a reader pairs them
    for index, part in enumerate(parts):
        if "\\" in part:
            left = part.count("\\")
            for escape, char in _COMMON_ESCAPES:
                if escape in part:
                    left -= part.count(escape)
                    part = part.replace(escape, char)
            if left:
                return None
            parts[index] = part
    return "\\".join(parts)


def _double(raw: str) -> str:
    """The value of a double-quoted scalar's text between its quotes."""
    if "\\" not in raw and "\n" not in raw:
        return raw
    if "\n" not in raw:
        value = _common_escapes(raw)
        if value is not None:
            return value
    return _DQ_PART.sub(_escape, raw)


def _single(raw: str) -> str:
    """The value of a single-quoted scalar's text between its quotes (`''` is a quote, lines folded:
    spaces around a line break go, one break is a space, n breaks are n-1 line feeds; YAML 1.2.2
    section 6.5, https://yaml.org/spec/1.2.2/#65-line-folding, as libyaml's scanner folds)."""
    if "\n" in raw:
        pieces = raw.split("\n")
        out = [pieces[0].rstrip(" ")]
        breaks = 0
        last = len(pieces) - 1
        for index in range(1, last + 1):
            piece = pieces[index].lstrip(" ") if index == last else pieces[index].strip(" ")
            breaks += 1
            if not piece and index != last:
                continue  # an empty line: one more break
            out.append(" " if breaks == 1 else "\n" * (breaks - 1))
            out.append(piece)
            breaks = 0
        raw = "".join(out)
    return raw.replace("''", "'") if "''" in raw else raw


def _is_entry(line: str, col: int) -> bool:
    """Is there a block sequence entry (`-` then a space or the end of the line) at `col`?"""
    return line[col] == "-" and (len(line) == col + 1 or line[col + 1] == " ")


_NO_VALUE = object()  # a key whose value is not one of the simple one-line forms


def _key_value(match: re.Match) -> tuple[object, int, object]:
    """(key, offset after its colon, value or _NO_VALUE) from a match of _KEY."""
    key = match.group(1)
    if len(key) > _MAX_KEY:
        raise Unsure
    if key[0] in _MAYBE_NOT_STR:
        key = _plain(key)
    plain, single, double = match.group(2, 3, 4)
    if plain is not None:
        value = _plain(plain) if plain[0] in _MAYBE_NOT_STR else plain
    elif single is not None:
        value = single.replace("''", "'") if "''" in single else single
    else:
        value = double if double is not None else _NO_VALUE
    return key, match.end(), value


class _Reader:
    """A document as lines; each method reads a node from a line and column and returns the
    value and the index of the next line not yet read."""

    __slots__ = ("broken", "count", "lines", "rest", "tabs", "text")

    def __init__(self, text: str):
        self.text = text
        self.lines = lines = text.split("\n")
        self.rest = [line.lstrip(" ") for line in lines]  # each line without its indentation
        self.broken = len(lines) - 1  # lines below this index end with a line break
        self.count = self.broken if text.endswith("\n") else len(lines)
        self.tabs = "\t" in text

    def document(self) -> object:
        i = self.skip(0)
        if i >= self.count:
            return None
        value, i = self.node(i, self.indent(i), -1)
        if self.skip(i) < self.count:
            raise Unsure
        return value

    def indent(self, i: int) -> int:
        return len(self.lines[i]) - len(self.rest[i])

    def skip(self, i: int) -> int:
        """The first line from `i` on that is not blank or a comment."""
        rest, count = self.rest, self.count
        while i < count:
            if self.tabs and "\t" in self.lines[i]:
                raise Unsure  # a tab outside a block scalar's content
            text = rest[i]
            if text and text[0] != "#":
                return i
            i += 1
        return i

    def offset(self, i: int) -> int:
        """The offset in the text of line `i`'s start."""
        return sum(map(len, self.lines[:i])) + i

    def node(self, i: int, col: int, parent: int) -> tuple[object, int]:
        """The node starting at column `col` of line `i`, in a block whose column is `parent`."""
        line = self.lines[i]
        if _is_entry(line, col):
            return self.sequence(i, col, indentless=False)
        found = self.key(line, col)
        if found is not None:
            return self.mapping(i, col, found)
        return self.scalar(i, col, parent)

    def key(self, line: str, col: int) -> tuple[object, int, object] | None:
        """(key, offset after its colon, value) when a mapping key starts at `col`, else None. The
        value is read here when it is a one-line plain or simply quoted scalar (most lines are
        `key: value`: one regular expression for the whole line), else it is _NO_VALUE."""
        match = _KEY.match(line, col)
        if match is not None:
            return _key_value(match)
        char = line[col]
        if char != "'" and char != '"':
            return None
        match = (_SQ_KEY if char == "'" else _DQ_KEY).match(line, col)
        if match is None:
            return None
        if match.end(1) - col > _MAX_KEY:
            raise Unsure
        return (_single if char == "'" else _double)(match.group(1)), match.end(), _NO_VALUE

    def mapping(self, i: int, col: int, found: tuple[object, int, object]) -> tuple[dict, int]:
        result: dict = {}
        lines, rest, count = self.lines, self.rest, self.count
        key_at = _KEY.match
        while True:
            key, after, value = found
            if key in result:
                raise Unsure  # a duplicate key: PyYAML's path refuses it with both lines
            if value is _NO_VALUE:
                value, i = self.value(i, after, col)
            else:
                i += 1
            result[key] = value
            # The next key: what skip() and key() do, inline (the loop of every mapping line).
            if self.tabs:
                i = self.skip(i)
            while i < count:
                text = rest[i]
                if text and text[0] != "#":
                    break
                i += 1
            else:
                return result, i
            line = lines[i]
            indent = len(line) - len(text)
            if indent != col:
                if indent < col:
                    return result, i
                raise Unsure
            match = key_at(line, col)
            found = _key_value(match) if match is not None else self.key(line, col)
            if found is None:
                raise Unsure

    def value(self, i: int, after: int, col: int) -> tuple[object, int]:
        """The value of the key whose colon ends at `after` on line `i`, in a mapping at column `col`."""
        line = self.lines[i]
        start = after
        while start < len(line) and line[start] == " ":
            start += 1
        if start < len(line) and line[start] != "#":
            return self.scalar(i, start, col)
        j = self.skip(i + 1)
        if j < self.count:
            below = self.lines[j]
            indent = self.indent(j)
            if indent > col:
                return self.node(j, indent, col)
            if indent == col and _is_entry(below, col):
                return self.sequence(j, col, indentless=True)
        return None, i + 1

    def sequence(self, i: int, col: int, indentless: bool) -> tuple[list, int]:
        result: list = []
        lines, rest = self.lines, self.rest
        while True:
            line = lines[i]
            start = col + 1
            while start < len(line) and line[start] == " ":
                start += 1
            if start < len(line) and line[start] != "#":
                value, i = self.node(i, start, col)
            else:
                value, j = None, self.skip(i + 1)
                i += 1
                if j < self.count and self.indent(j) > col:
                    value, i = self.node(j, self.indent(j), col)
            result.append(value)
            i = self.skip(i)
            if i >= self.count:
                return result, i
            line = lines[i]
            indent = len(line) - len(rest[i])
            if indent < col:
                return result, i
            if indent > col:
                raise Unsure
            if not _is_entry(line, col):
                if indentless:
                    return result, i
                raise Unsure

    def scalar(self, i: int, start: int, parent: int) -> tuple[object, int]:
        """A scalar or a one-line flow collection at `start` of line `i`; `parent` is the block's column."""
        line = self.lines[i]
        char = line[start]
        if char == "'" or char == '"':
            value, i, end = self.quoted(i, start)
            line = self.lines[i]
        elif char == "|" or char == ">":
            return self.block_scalar(i, start, parent)
        elif char == "[" or char == "{":
            value, end = _flow(line, start)
        else:
            match = _PLAIN.match(line, start)
            if match is None:
                raise Unsure
            value, end = _plain(match.group()), match.end()
        if not _END.match(line, end):
            raise Unsure
        return value, i + 1

    def quoted(self, i: int, start: int) -> tuple[str, int, int]:
        """(value, line of the closing quote, offset after it in that line) of a quoted scalar."""
        line = self.lines[i]
        single = line[start] == "'"
        match = (_SQ_LINE if single else _DQ_LINE).match(line, start)
        if match is not None:
            return (_single if single else _double)(match.group(1)), i, match.end()
        text = self.text
        match = (_SQ_TEXT if single else _DQ_TEXT).match(text, self.offset(i) + start)
        if match is None:
            raise Unsure  # never closed
        raw = match.group(1)
        if self.tabs and "\t" in raw:
            raise Unsure  # tabs around a folded line break are trimmed as spaces are: not read here
        end = match.end()
        return (_single if single else _double)(raw), i + raw.count("\n"), end - text.rfind("\n", 0, end) - 1

    def block_scalar(self, i: int, start: int, parent: int) -> tuple[str, int]:
        """A literal or folded block scalar whose header is at `start` of line `i`, read as libyaml's
        scanner reads it (src/scanner.c, yaml_parser_scan_block_scalar and _breaks): indentation
        from the first content line or a longer empty line before it, folding, chomping."""
        header = _BLOCK_HEADER.match(self.lines[i], start)
        if header is None or parent < 0:
            raise Unsure
        literal = self.lines[i][start] == "|"
        increment = header.group(1) or header.group(4)
        chomping = header.group(2) or header.group(3)
        indent = parent + int(increment) if increment else 0
        lines, count, broken = self.lines, self.count, self.broken
        j, col, breaks = self._breaks(i + 1, indent)
        if not indent:  # the first content line sets the indentation, or a longer empty line before it
            indent = max(max((len(lines[k]) for k in range(i + 1, j)), default=0), col, parent + 1, 1)
        out: list[str] = []
        leading_break = ""
        leading_blank = False
        while j < count and col == indent and col < len(lines[j]):
            line = lines[j]
            trailing_blank = line[col] in " \t"
            if not literal and leading_break and not leading_blank and not trailing_blank:
                if not breaks:
                    out.append(" ")  # folded: one line break is a space
            else:
                out.append(leading_break)
            out.append("\n" * breaks)
            leading_blank = trailing_blank
            out.append(line[col:])
            leading_break = "\n" if j < broken else ""
            j, col, breaks = self._breaks(j + 1, indent)
        if chomping != "-":
            out.append(leading_break)
        if chomping == "+":
            out.append("\n" * breaks)
        return "".join(out), j

    def _breaks(self, j: int, indent: int) -> tuple[int, int, int]:
        """From line `j`: (first line that is not an empty line, its column once spaces up to
        `indent` are skipped (all when 0), number of empty lines passed)."""
        lines, count, broken = self.lines, self.count, self.broken
        breaks = 0
        while j < count:
            line = lines[j]
            spaces = len(line) - len(line.lstrip(" "))
            col = spaces if not indent else min(spaces, indent)
            if col < len(line) and line[col] == "\t" and (not indent or col < indent):
                raise Unsure  # a tab where libyaml expects indentation
            if col == len(line) and j < broken:
                breaks += 1
                j += 1
                continue
            return j, col, breaks
        return j, 0, breaks


def _flow(line: str, pos: int) -> tuple[object, int]:
    """A flow sequence or mapping of scalars (nesting allowed) that closes on this line: (value, end)."""
    mapping = line[pos] == "{"
    close = "}" if mapping else "]"
    result: dict | list = {} if mapping else []
    pos = _spaces(line, pos + 1)
    if line.startswith(close, pos):
        return result, pos + 1
    while True:
        value, pos = _flow_node(line, pos)
        pos = _spaces(line, pos)
        if mapping:
            if type(value) in (list, dict) or value in result or not line.startswith(": ", pos):
                raise Unsure
            value_of, pos = _flow_node(line, _spaces(line, pos + 2))
            result[value] = value_of  # type: ignore[index]
            pos = _spaces(line, pos)
        else:
            result.append(value)  # type: ignore[union-attr]
        if line.startswith(close, pos):
            return result, pos + 1
        if not line.startswith(",", pos):
            raise Unsure
        pos = _spaces(line, pos + 1)
        if line.startswith(close, pos):
            raise Unsure  # a trailing comma


def _flow_node(line: str, pos: int) -> tuple[object, int]:
    if pos >= len(line):
        raise Unsure
    char = line[pos]
    if char == "[" or char == "{":
        return _flow(line, pos)
    if char == "'" or char == '"':
        match = (_SQ_LINE if char == "'" else _DQ_LINE).match(line, pos)
        if match is None:
            raise Unsure
        return (_single if char == "'" else _double)(match.group(1)), match.end()
    match = _FLOW_PLAIN.match(line, pos)
    if match is None:
        raise Unsure
    return _plain(match.group()), match.end()


def _spaces(line: str, pos: int) -> int:
    while pos < len(line) and line[pos] == " ":
        pos += 1
    return pos
