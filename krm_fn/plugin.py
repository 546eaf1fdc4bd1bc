"""`observability-fn install-plugin`: where kubectl kustomize looks for the legacy exec plugin.

kustomize finds a legacy plugin at `$KUSTOMIZE_PLUGIN_HOME/<group>/<version>/<lowercase kind>/<Kind>`
(or under `$XDG_CONFIG_HOME/kustomize/plugin`, then `~/.config/kustomize/plugin`).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from krm_fn.config import API_VERSION, KIND
from krm_fn.protocol import Outcome


def plugin_home(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("KUSTOMIZE_PLUGIN_HOME"):
        return Path(os.environ["KUSTOMIZE_PLUGIN_HOME"])
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config_home) / "kustomize" / "plugin"


def install(explicit_dir: str | None) -> Outcome:
    """Symlink the console script into the plugin home (a symlink keeps its interpreter: no shim)."""
    executable = shutil.which("observability-fn") or os.path.abspath(sys.argv[0])
    group, version = API_VERSION.split("/")
    target = plugin_home(explicit_dir) / group / version / KIND.lower() / KIND
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(os.path.realpath(executable))
    except OSError as err:
        return Outcome("", f"cannot install the plugin at {target}: {err.strerror}\n", 1)
    home = target.parents[3]
    return Outcome(
        f"{target}\n",
        f"installed; run `KUSTOMIZE_PLUGIN_HOME={home} kubectl kustomize --enable-alpha-plugins DIR`\n",
        0,
    )
