"""Plain data, what YAML and JSON hold (dicts, lists, scalars): a deep copy without `copy`.

`copy.deepcopy` works too, but the `copy` module (with `weakref`) costs ~1 ms of every run's
start-up (start-up budget: docs/startup.md) and nothing here copies anything but plain data.
"""

from __future__ import annotations


def plain_copy(value: object) -> object:
    """A deep copy of dicts and lists (tuples become tuples); other values are shared, as
    deepcopy shares immutable ones."""
    kind = type(value)
    if kind is dict:
        return {key: plain_copy(item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind is list:
        return [plain_copy(item) for item in value]  # type: ignore[attr-defined]
    if kind is tuple:
        return tuple(plain_copy(item) for item in value)  # type: ignore[attr-defined]
    return value
