"""A small content-addressed memory of validations that passed.

Validating against JSON Schemas needs `jsonschema` (about 100 ms to import) and megabytes of
schemas, which is more than the function's whole budget inside `kpt fn render`. The inputs
that are validated (the config and the generated objects) rarely change between runs, so a
digest of (function version, what was validated, against which schema) that passed before
lets the next run skip the work. A miss just validates. Nothing that fails is remembered,
and output never depends on the cache.

The memory is one journal file, `passed`, of hex digests, one a line: a run reads it once and
appends what it validated (one short `O_APPEND` write each, so concurrent runs do not tear each
other's lines). Once it holds more than MAX_ENTRIES, the next run that remembers something
rewrites it with only the digests that run used. One file rather than one file a digest: a
cold 20-resource run made ~40 files, ~5 ms (issue 11).

The journal lives in `$OBSERVABILITY_FN_CACHE_DIR`, else `$XDG_CACHE_HOME/observability-fn`,
else `~/.cache/observability-fn`; `OBSERVABILITY_FN_CACHE=off` disables it. A directory or a
journal that is not ours or that others can write to is ignored.
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

JOURNAL = "passed"
MAX_ENTRIES = 50_000  # ~3.3 MB; a 2,000-object repository uses ~2,000

_memory: dict | None = None  # {"where": dir, "known": set, "used": set, "fd": None (not yet), -1 (cannot), fd}


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


def _ours(info: os.stat_result) -> bool:
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _state() -> dict | None:
    """This process's view of the journal, read once (again if the cache's place changes)."""
    global _memory
    directory = _directory()
    if directory is None:
        return None
    if _memory is not None and _memory["where"] == directory:
        return _memory
    forget()
    known: set[str] = set()
    path = os.path.join(directory, JOURNAL)
    try:
        with open(path, "rb") as handle:
            if _ours(os.fstat(handle.fileno())) and _ours(os.stat(directory)):
                known = set(handle.read().decode("ascii", "replace").split())
    except OSError:
        pass
    _memory = {"where": directory, "known": known, "used": set(), "fd": None}
    return _memory


def forget() -> None:
    """Drop this process's view of the journal (the next call reads it again)."""
    global _memory
    if _memory is not None and _memory["fd"] is not None and _memory["fd"] >= 0:
        os.close(_memory["fd"])
    _memory = None


def digest(kind: str, payload: bytes) -> str:
    return sha256(__version__.encode() + b"\0" + kind.encode() + b"\0" + payload).hexdigest()


def passed_before(key: str) -> bool:
    """True when a validation with this digest passed in an earlier run."""
    state = _state()
    if state is None or key not in state["known"]:
        return False
    state["used"].add(key)
    return True


def remember(key: str) -> None:
    """Record that the validation with this digest passed; silently does nothing if it cannot."""
    state = _state()
    if state is None or key in state["known"]:
        return
    try:
        if state["fd"] is None:
            state["fd"] = -1  # tried: a journal that cannot be opened is not tried again this run
            state["fd"] = _open(state)
        if state["fd"] >= 0:
            os.write(state["fd"], f"{key}\n".encode())
    except OSError:
        pass
    state["known"].add(key)
    state["used"].add(key)


def _open(state: dict) -> int:
    """The journal, open for appending; first rewritten with only the used digests when too long."""
    directory = state["where"]
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not _ours(os.stat(directory)):
        return -1
    path = os.path.join(directory, JOURNAL)
    if len(state["known"]) > MAX_ENTRIES:
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="ascii") as handle:
            handle.writelines(f"{key}\n" for key in sorted(state["used"]))
        os.replace(temporary, path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    if not _ours(os.fstat(fd)):
        os.close(fd)
        return -1
    return fd
