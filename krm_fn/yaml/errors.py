"""The one exception of the YAML layer, and PyYAML errors turned into it without quoting the input.

Error messages carry a line and column but never the offending text: the input may be a Secret.
"""

from __future__ import annotations

import re


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
    message = _without_input(f"{context}: {problem}" if context else problem)
    if mark is None:
        return YamlError(f"invalid YAML: {message}")
    return YamlError(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _without_input(text: str) -> str:
    """PyYAML quotes bits of the input in some messages (an alias, an anchor, a character): drop them."""
    return _QUOTED.sub("(a piece of the input)", text)
