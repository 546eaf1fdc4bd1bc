"""A small content-addressed memory of validations that passed.

Validating against JSON Schemas needs `jsonschema` (about 100 ms to import) and megabytes of
schemas, which is more than the function's whole budget inside `kpt fn render`. The inputs
that are validated (the config and the generated objects) rarely change between runs, so a
digest of (function version, what was validated, against which schema) that passed before
lets the next run skip the work. A miss just validates. Nothing that fails is remembered,
and output never depends on the cache.

The cache lives in `$OBSERVABILITY_FN_CACHE_DIR`, else `$XDG_CACHE_HOME/observability-fn`,
else `~/.cache/observability-fn`; `OBSERVABILITY_FN_CACHE=off` disables it. A directory
that is not ours or that others can write to is ignored.
"""

from __future__ import annotations

import os
import stat

from krm_fn import __version__

# CPython's own SHA-256 (`_sha256` up to 3.11, `_sha2` from 3.12): the digest hashlib gives, without
# loading OpenSSL (~4 ms per run). hashlib where neither exists. start-up budget: docs/startup.md
try:
    from _sha256 import sha256
except ImportError:
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256


def _directory() -> str | None:
    if os.environ.get("OBSERVABILITY_FN_CACHE", "").lower() in ("off", "0", "false", "no"):
        return None
    explicit = os.environ.get("OBSERVABILITY_FN_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or (os.path.join(os.path.expanduser("~"), ".cache"))
    if not base or base.startswith("~"):
        return None
    return os.path.join(base, "observability-fn", __version__)


def _usable(directory: str) -> bool:
    try:
        info = os.stat(directory)
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def digest(kind: str, payload: bytes) -> str:
    return sha256(__version__.encode() + b"\0" + kind.encode() + b"\0" + payload).hexdigest()


def passed_before(key: str) -> bool:
    """True when a validation with this digest passed in an earlier run."""
    directory = _directory()
    return bool(directory) and _usable(directory) and os.path.exists(os.path.join(directory, key))


def remember(key: str) -> None:
    """Record that the validation with this digest passed; silently does nothing if it cannot."""
    directory = _directory()
    if directory is None:
        return
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if _usable(directory):
            with open(os.path.join(directory, key), "a"):  # created if missing, left alone if there
                pass
    except OSError:
        pass
