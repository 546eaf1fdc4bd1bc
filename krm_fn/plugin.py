"""`observability-fn install-plugin`: put the legacy exec plugin where kubectl kustomize looks.

kubectl has no `--enable-exec`, so under `kubectl kustomize --enable-alpha-plugins` the function
runs as a legacy exec plugin: kustomize looks for an executable at
`<plugin home>/<group>/<version>/<lowercase kind>/<Kind>`. The plugin home is the first of
`$KUSTOMIZE_PLUGIN_HOME`, `$XDG_CONFIG_HOME/kustomize/plugin`, `~/.config/kustomize/plugin`
(kustomize 5 prints these in that order when it finds none;
docs/reference/consumers.md#2-kubectl-kustomize-legacy-exec-plugins).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from krm_fn.config import API_VERSION, KIND
from krm_fn.protocol import Outcome

SCRIPT_NAME = "observability-fn"


def default_home() -> Path:
    """The plugin home kustomize uses when KUSTOMIZE_PLUGIN_HOME is not set."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config_home) / "kustomize" / "plugin"


def plugin_home(explicit: str | None) -> Path:
    """Where to install: --dir, else $KUSTOMIZE_PLUGIN_HOME, else kustomize's default."""
    if explicit:
        return Path(explicit).absolute()
    if os.environ.get("KUSTOMIZE_PLUGIN_HOME"):
        return Path(os.environ["KUSTOMIZE_PLUGIN_HOME"]).absolute()
    return default_home().absolute()


def plugin_path(home: Path) -> Path:
    """The file kustomize executes for an ObservabilityConfig under `home`."""
    group, version = API_VERSION.split("/")
    return home / group / version / KIND.lower() / KIND


def _console_script() -> Path | None:
    """The observability-fn script this process was started as (its shebang names a real interpreter)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == SCRIPT_NAME and argv0.is_file() and os.access(argv0, os.X_OK):
        return argv0.resolve()
    return None


def _wrapper() -> str:
    """A shell script running this interpreter's krm_fn (when started as `python -m krm_fn`).

    `-P`: the kustomization directory (the cwd) must not shadow the installed package.
    """
    interpreter = sys.executable.replace("'", "'\\''")
    return f"#!/bin/sh\nexec '{interpreter}' -P -m krm_fn \"$@\"\n"


def install(explicit_dir: str | None) -> Outcome:
    """Link (or, without a console script, write a wrapper for) the plugin; print where it went."""
    home = plugin_home(explicit_dir)
    target = plugin_path(home)
    script = _console_script()
    temporary = target.with_name(f".{KIND}.tmp{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            return Outcome("", f"cannot install the plugin at {target}: it is a directory; remove it\n", 1)
        if temporary.is_symlink() or temporary.exists():
            temporary.unlink()
        if script is not None:
            temporary.symlink_to(script)
        else:
            temporary.write_text(_wrapper())
            temporary.chmod(0o755)
        temporary.replace(target)  # atomic: a kustomize running now sees the old or the new plugin
    except OSError as err:
        try:
            if temporary.is_symlink() or temporary.exists():
                temporary.unlink()
        except OSError:
            pass  # the error below is the one that matters
        return Outcome("", f"cannot install the plugin at {target}: {err.strerror}\n", 1)

    build = "kubectl kustomize --enable-alpha-plugins DIR"
    env_home = os.environ.get("KUSTOMIZE_PLUGIN_HOME")
    if env_home and Path(env_home).resolve() == home.resolve():
        hint = f"installed; run `{build}` (KUSTOMIZE_PLUGIN_HOME points here)"
    elif not env_home and home.resolve() == default_home().resolve():
        hint = f"installed; run `{build}`"
    else:
        hint = f"installed; run `KUSTOMIZE_PLUGIN_HOME={home} {build}`"
    return Outcome(f"{target}\n", hint + "\n", 0)
