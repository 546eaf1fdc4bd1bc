"""Test configuration: no validation cache, so every test validates for real; shared fixtures."""

import os
from pathlib import Path

import pytest

os.environ["OBSERVABILITY_FN_CACHE"] = "off"


@pytest.fixture(scope="module")
def plugin_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KUSTOMIZE_PLUGIN_HOME with the legacy plugin installed as the docs say (`install-plugin --dir`)."""
    from tests.helpers import run_cli

    home = tmp_path_factory.mktemp("plugin-home")
    proc = run_cli("install-plugin", "--dir", str(home))
    assert proc.returncode == 0, proc.stderr.decode()
    return home
