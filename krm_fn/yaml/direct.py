"""Generated objects written straight to text: the bytes PyYAML's emitter gives them, ~4x faster.

Emitting the ~2,300 nodes of the default stack through PyYAML (a node per value, then libyaml
asking the resolver twice per scalar) took ~6 ms of every run (issue 11). Generated objects hold
only dicts, lists, strings, integers, booleans and None, and emit.py always writes them in one
block layout (indent 2, no line width, sequences in a mapping not indented, empty collections as
`{}` and `[]`), so this writes that layout directly and picks each string's style the way
libyaml's `yaml_emitter_analyze_scalar` and `select_scalar_style` do, for the cases it can
prove: plain, single-quoted, and the literal blocks the representer asks for.

Anything else returns None and the object goes through PyYAML: a character outside printable
ASCII, a multi-line string the literal style cannot keep or that ends in two line breaks, a key
that is not a short one-line string, a list directly inside a list, a dict or list met twice (an
anchor), or a type other than those six. tests/test_yaml_direct.py holds both paths to the same
bytes on generated stacks and on random data.
"""

from __future__ import annotations

from collections.abc import Callable

_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))
_PRINTABLE_OR_BREAK = _PRINTABLE | {"\n"}


class _Unprovable(Exception):
    """A value whose text this module does not derive: PyYAML writes the object."""


def emit(data: dict, plain_is_str: Callable[[str], bool], as_entry: bool, memo: dict | None = None) -> str | None:
    """`data` as a block mapping document, or as the `- ` entry of a sequence at column 0.

    `plain_is_str(text)` answers whether a YAML reader takes `text`, written plain, for a string
    (emit.py's resolver); `memo` keeps one-line strings' texts between calls with the same
    `plain_is_str` (keys repeat: `name`, `namespace`...). None when a value is outside what this
    module proves."""
    if type(data) is not dict or not data:
        return None
    writer = _Writer(plain_is_str, {} if memo is None else memo)
    try:
        if as_entry:
            writer.out.append("- ")
            writer.mapping(data, 2, inline=True)
        else:
            writer.mapping(data, 0, inline=False)
    except _Unprovable:
        return None
    return "".join(writer.out)


class _Writer:
    def __init__(self, plain_is_str: Callable[[str], bool], memo: dict):
        self.out: list[str] = []
        self.plain_is_str = plain_is_str
        self.memo = memo
        self.seen: set[int] = set()

    def _enter(self, collection: object) -> None:
        if id(collection) in self.seen:  # PyYAML would write an anchor and an alias
            raise _Unprovable
        self.seen.add(id(collection))

    def mapping(self, data: dict, indent: int, inline: bool) -> None:
        """A non-empty dict whose keys start at column `indent` (the first right here if `inline`)."""
        self._enter(data)
        out = self.out
        pad = " " * indent
        for key, value in data.items():
            if inline:
                inline = False
            else:
                out.append(pad)
            out.append(self.key(key))
            kind = type(value)
            if kind is dict:
                if value:
                    out.append(":\n")
                    self.mapping(value, indent + 2, inline=False)
                else:
                    out.append(": {}\n")
            elif kind is list:
                if value:
                    out.append(":\n")
                    self.sequence(value, indent)
                else:
                    out.append(": []\n")
            else:
                out.append(": ")
                out.append(self.scalar(value, indent + 2))
                out.append("\n")

    def sequence(self, data: list, indent: int) -> None:
        """A non-empty list whose `- ` marks are at column `indent`."""
        self._enter(data)
        out = self.out
        pad = " " * indent
        for value in data:
            out.append(pad)
            out.append("- ")
            kind = type(value)
            if kind is dict:
                if value:
                    self.mapping(value, indent + 2, inline=True)
                else:
                    out.append("{}\n")
            elif kind is list:
                raise _Unprovable  # "- - x": not a layout generated objects have
            else:
                out.append(self.scalar(value, indent + 2))
                out.append("\n")

    def key(self, key: object) -> str:
        if type(key) is not str or len(key) > 128 or not key:  # longer: libyaml writes "? key"
            raise _Unprovable
        return self._one_line(key)

    def scalar(self, value: object, indent: int) -> str:
        kind = type(value)
        if kind is str:
            if "\n" in value:
                return self._literal(value, indent)
            return self._one_line(value)
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        raise _Unprovable

    def _one_line(self, text: str) -> str:
        """Plain where libyaml allows it and the reader keeps a string, else single-quoted."""
        written = self.memo.get(text)
        if written is not None:
            return written
        if not text:
            return "''"
        if not _PRINTABLE.issuperset(text):
            raise _Unprovable
        plain = _plain_allowed(text) and self.plain_is_str(text)
        written = self.memo[text] = text if plain else "'" + text.replace("'", "''") + "'"
        return written

    def _literal(self, text: str, indent: int) -> str:
        """`|` or `|-` and the lines at `indent`: what the representer's block style gives."""
        if not _PRINTABLE_OR_BREAK.issuperset(text) or text[0] in " \n" or text.endswith("\n\n"):
            raise _Unprovable
        lines = text.split("\n")
        if any(line.endswith(" ") for line in lines):
            raise _Unprovable  # the representer does not ask for block style here
        if text.endswith("\n"):
            header, lines = "|", lines[:-1]
        else:
            header = "|-"
        pad = " " * indent
        return header + "".join("\n" + (pad + line if line else "") for line in lines)


def _plain_allowed(text: str) -> bool:
    """libyaml's block_plain_allowed for a one-line printable string."""
    if text[0] == " " or text[-1] == " ":
        return False
    if text.startswith(("---", "...")):
        return False
    first = text[0]
    if first in _FIRST_INDICATORS:
        return False
    if first in "?:-" and (len(text) == 1 or text[1] in " "):
        return False
    return not (": " in text or text.endswith(":") or " #" in text)
