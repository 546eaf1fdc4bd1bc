"""Text scanning for the split: where a line may not be what it looks like, and what is not structure.

See krm_fn/yaml/split.py for how the split uses these: flagged offsets make an item parsed
alone; comments, block scalar contents, multi-line quoted and flow spans are text where no line start
or indicator means anything.
"""

from __future__ import annotations

import bisect
import re

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
    rf"""'(?<=[\n ]')(?!(?:[^'\n]++|'')*+'{_END})"""
    rf"""|"(?<=[\n ]")(?!(?:[^"\\\n]++|\\[^\n])*+"{_END})"""
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
_DEEPER_LINES: dict[int, re.Pattern[str]] = {}


def _in_comment(text: str, at: int) -> bool:
    """Is `at` in a comment: after a `#` on its line that starts the line or follows a space? (As
    the whole text's comments were found before: a look at one line instead of a pass over 2 MB.)"""
    start = text.rfind("\n", 0, at) + 1
    before = text[start:at]
    return (start > 0 and before[:1] == "#") or " #" in before


def _block_scalar_spans(text: str) -> list[tuple[int, int]]:
    """Block scalar contents: text where no indicator means anything, as in a comment.

    A flag found in either would only cost a parse, but dropping it is safe: a comment ends
    its line, and a block scalar's content is the lines indented deeper than its parent.
    Were either really inside a quoted scalar or a flow collection, the line opening that
    would be flagged itself.
    """
    spans: list[tuple[int, int]] = []
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
        offsets = [o for o in offsets if not _in_comment(text, o)]
    if offsets:  # block scalars are found on the whole text: only when a flag is left (issue 25)
        spans = _block_scalar_spans(text)
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


def _lf_only(text: str) -> str | None:
    """`text` itself, or with CRLF line breaks made LF when that is its only other break; None to bail."""
    if text.isascii():  # the other breaks are not ASCII: one C search (~5 ms on 2 MB, issue 25)
        if "\r" not in text:
            return text
    elif not _OTHER_BREAKS.search(text):
        return text
    if "\r\n" in text:
        lf = text.replace("\r\n", "\n")
        if not _OTHER_BREAKS.search(lf):
            return lf
    return None


_SINGLE_QUOTED = re.compile(r"'(?:[^']|'')*'")
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
# Inside a flow collection: a bracket, a quoted scalar (a quote starts one only after an
# indicator or a space), or a comment; everything else is plain text.
_FLOW_TOKEN = re.compile(
    r"""[\[\]{}]|(?<=[\[{,\s])'(?:[^']|'')*'|(?<=[\[{,\s])"(?:[^"\\]|\\.)*"|(?<=\s)\#[^\n]*""", re.S
)


def _flow_end(text: str, at: int) -> int | None:
    """End of the flow collection opening at `at`, or None when it does not close."""
    depth = 0
    for match in _FLOW_TOKEN.finditer(text, at):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                return match.end()
    return None


_LINE_QUOTED = re.compile(r"""(?<![^\n \[{,])(?:'(?:[^'\n]|'')*'|"(?:[^"\\\n]|\\.)*")""")


def _starts_a_value(text: str, at: int) -> bool:
    """Can a quote or bracket at `at` open a scalar or collection? Only first on its line, or
    after a key's colon, an entry's dash, a comma, a bracket, or an anchor or tag: inside a
    plain scalar (`rock 'n roll`) it is text."""
    before = text[text.rfind("\n", 0, at) + 1 : at].rstrip(" ")
    if not before or before[-1] in ":-?,[{":
        return True
    word = before.rsplit(" ", 1)[-1]
    return word[:1] in "&!" and word[:1] != ""


def _closes_a_scalar(text: str, at: int) -> bool:
    """Is the quote at `at` the end of a one-line quoted scalar (`'  '` ends with ` '`)?"""
    for match in _LINE_QUOTED.finditer(text, text.rfind("\n", 0, at) + 1, at + 1):
        if match.start() < at < match.end():
            return True
    return False


def _quoted_spans(text: str, suspicious: list[int]) -> list[tuple[int, int]]:
    """Quoted scalars and flow collections that span lines, from the flagged indicators: lines
    inside them are not structure (kpt writes a closing quote at column 0).

    A quote flagged by mistake (`rock 'n roll` in a plain scalar) makes a span too long, which
    can only glue items together; the item holding the quote is parsed alone anyway, and one
    that does not read as exactly one entry is cut again by the parser (`_resolve_chunk`).
    """
    spans: list[tuple[int, int]] = []
    last = -1
    unclosed = ""  # kinds whose search once ran to the end: not paid again (a missed span only costs a parse)
    for at in suspicious:
        char = text[at]
        if at < last or char not in "'\"[{" or char in unclosed or not _starts_a_value(text, at):
            continue
        if char in "'\"" and _closes_a_scalar(text, at):
            continue
        if char in "'\"":
            match = (_SINGLE_QUOTED if char == "'" else _DOUBLE_QUOTED).match(text, at)
            end = match.end() if match else None
        else:
            end = _flow_end(text, at)
        if end is None:  # a stray quote in a plain scalar, or really unclosed (fails when parsed)
            unclosed += "[{" if char in "[{" else char
            continue
        last = end
        if text.find("\n", at, end) >= 0:
            spans.append((at, end))
    return spans
