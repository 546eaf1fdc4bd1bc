"""Compiled regular expressions kept between runs, as Python keeps bytecode in `__pycache__`.

Every run is a new process, and `re` compiles each pattern in pure Python: the ~125 patterns a
KRM run meets (PyYAML's, json's and ours) cost ~15 ms of a 20-resource run, its largest single
start-up cost (issue 11; one of them, PyYAML's NON_PRINTABLE class, ~6 ms alone). `install()`
lets `re` take a pattern's compiled program from a table an earlier run wrote, and `save()`
adds what this run compiled. Only the entry point (cli.console) calls them.

The table is kept by krm_fn/pycache.py, keyed by the interpreter's exact version and
`_sre.MAGIC`; the program is what `re._compiler.compile` would produce (the same steps, CPython
3.11 to 3.13), and `_sre.compile` validates it before use. Anything unexpected (another
implementation, a damaged or foreign file) means the table is not used, never an error. It is
rebuilt from one run's patterns when it passes MAX_ENTRIES, so patterns built from input cannot
grow it without bound.
"""

from __future__ import annotations

from krm_fn import pycache

MAX_ENTRIES = 512
NAME = "re"

_state: dict | None = None  # {"table": {...}, "used": {...}, "new": int}


def _identity() -> tuple:
    import _sre  # start-up budget: docs/startup.md (what `re` loads anyway; here only for the cache)

    return (_sre.MAGIC, _sre.CODESIZE)


def install() -> None:
    """Route `re`'s compile step through the table (a no-op where `re` is not CPython's)."""
    global _state
    try:
        import _sre  # start-up budget: docs/startup.md (what `re` loads anyway; CPython only)
        from re import _compiler, _parser  # start-up budget: docs/startup.md

        original = _compiler.compile
        code_of, debug = _compiler._code, _compiler.SRE_FLAG_DEBUG
    except (ImportError, AttributeError):
        return
    if _state is not None:
        return
    stored = pycache.load(NAME, _identity())
    state = _state = {"table": stored if isinstance(stored, dict) else {}, "used": {}, "new": 0}
    table, used = state["table"], state["used"]

    def compile(p, flags=0):
        if not isinstance(p, (str, bytes)) or flags & debug:
            return original(p, flags)
        key = (p, flags)
        entry = table.get(key)
        if entry is not None:
            try:
                compiled = _sre.compile(p, *entry)
            except Exception:  # not a program this interpreter accepts: compile it afresh
                entry = None
        if entry is None:
            parsed = _parser.parse(p, flags)
            groupindex = parsed.state.groupdict
            indexgroup = [None] * parsed.state.groups
            for name, index in groupindex.items():
                indexgroup[index] = name
            code = [int(op) for op in code_of(parsed, flags)]  # plain ints: marshal refuses the opcode names
            groups = parsed.state.groups - 1
            entry = (int(flags | parsed.state.flags), code, groups, dict(groupindex), tuple(indexgroup))
            compiled = _sre.compile(p, *entry)
            table[key] = entry
            state["new"] += 1
        used[key] = entry
        return compiled

    _compiler.compile = compile


def save() -> None:
    """Write the table if this run compiled a pattern it lacked."""
    state = _state
    if state is None or not state["new"]:
        return
    pycache.store(NAME, _identity(), state["table"] if len(state["table"]) <= MAX_ENTRIES else state["used"])
