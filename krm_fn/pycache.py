"""Data derived from the installed code and its dependencies, kept next to the bytecode.

Python keeps each module's compiled form in `__pycache__` so that no run compiles it again; this
does the same for two things every run would otherwise derive again (issue 11): the compiled
regular expressions (krm_fn/regex_cache.py) and a Kubernetes version's shared schema definitions
split one text per definition (krm_fn/validation.py). Neither depends on the config or the input,
so they are not in the validation cache: a run with a new config or an empty cache (every
container call) still has them. The Dockerfile writes them when it builds the image.

Each entry is marshalled as (identity, value) and read back only when its identity, which
includes the interpreter's exact version and its source file's size and mtime (in whole seconds,
as for .pyc files, since a Docker COPY keeps no more), matches. It is written where Python would write
bytecode (never with `PYTHONDONTWRITEBYTECODE`), atomically, and silently not when it cannot.
"""

from __future__ import annotations

import marshal
import os
import sys

DIRECTORY = os.path.join(os.path.dirname(os.path.realpath(__file__)), "__pycache__")


def _file(name: str) -> str:
    return os.path.join(DIRECTORY, f"{name}.{sys.implementation.cache_tag}.bin")


def load(name: str, identity: object) -> object | None:
    """The value stored under `name` for this identity, or None."""
    try:
        with open(_file(name), "rb") as handle:
            stored = marshal.loads(handle.read())  # read() first: marshal.load(handle) is ~40x slower
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if type(stored) is not tuple or len(stored) != 2 or stored[0] != (sys.version, identity):
        return None
    return stored[1]


def store(name: str, identity: object, value: object) -> None:
    """Keep `value` for the next run (only marshallable types: str, bytes, numbers, containers)."""
    if sys.dont_write_bytecode:
        return
    path = _file(name)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        data = marshal.dumps(((sys.version, identity), value))
        os.makedirs(DIRECTORY, exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except (OSError, ValueError):
        _discard(temporary)


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        return
