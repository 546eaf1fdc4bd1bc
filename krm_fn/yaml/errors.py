"""The one exception of the YAML layer, and PyYAML errors turned into it without quoting the input.

Error messages carry a line and column but never the offending text: the input may be a Secret.
"""

from __future__ import annotations

import re


class YamlError(Exception):
    """A YAML problem, safe to show: a message, a 1-based line and column, no input text."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, related: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.related = related  # another line the message names ("first defined at line N")

    def shift(self, offset: int) -> None:
        """Count lines from the file rather than from the document that starts `offset` lines in."""
        if offset and self.line is not None:
            self.line += offset
        if offset and self.related is not None:
            old, self.related = self.related, self.related + offset
            self.message = self.message.replace(f"line {old}", f"line {self.related}")

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "") if self.line else ""
        return f"{self.message} ({where})" if where else self.message


def _yaml_error(exc: Exception) -> YamlError:
    """A YamlError from a PyYAML error: its line as go-yaml reports it, no text of the input."""
    if isinstance(getattr(exc, "character", None), int) and isinstance(getattr(exc, "position", None), int):
        return YamlError(  # a ReaderError: its code point (not the text around it) is safe to show
            f"invalid YAML: character U+{exc.character:04X} at offset {exc.position} is not allowed in YAML "
            "(control characters such as NUL must be escaped in a double-quoted string)"
        )
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    if problem == "exceeded maximum nesting depth":
        problem = "nested too deeply (libyaml stops at 1,000 levels)"
    message = "invalid YAML: " + _without_input(f"{context}: {problem}" if context else problem)
    mark = problem_mark or context_mark
    if mark is None:
        return YamlError(message)
    if type(exc).__name__ in ("ScannerError", "ParserError"):
        line = _go_yaml_line(problem_mark, context_mark, type(exc).__name__ == "ScannerError")
        if line is not None and line != mark.line + 1:
            message += f" (the problem is at line {mark.line + 1}, column {mark.column + 1})"
            return YamlError(message, line, related=mark.line + 1)
    return YamlError(message, mark.line + 1, mark.column + 1)


def _go_yaml_line(problem_mark: object, context_mark: object, scanner: bool) -> int | None:
    """The line go-yaml v3 (kustomize, kpt, Flux) names for the same error, so both point the same way.

    go-yaml's parser.fail(): the context mark's 0-based line if not 0, else the problem mark's;
    plus one for a scanner error only (so a parser error names the line before its context).
    """
    for mark in (context_mark, problem_mark):
        if mark is not None and mark.line != 0:
            return mark.line + (1 if scanner else 0)
    return None


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
# What PyYAML and libyaml quote that is YAML's own, not the input's: one indicator, a tab, a
# token name (`'<block end>'`, `'<scalar>'`), a document marker.
_STRUCTURAL = re.compile(r"""['"](?:[-:{}\[\],|>&*!#?%@`'"=~.]|\\t|\\\\t|<[a-z ]+>|---|\.\.\.)['"]""")


def _without_input(text: str) -> str:
    """PyYAML quotes bits of the input in some messages (an alias, an anchor, a scalar): drop them,
    keeping what is YAML's own vocabulary (`expected ',' or ']'`) so the message stays readable."""
    return _QUOTED.sub(lambda m: m.group() if _STRUCTURAL.fullmatch(m.group()) else "(input text)", text)
