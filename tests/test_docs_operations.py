"""docs/operations/*.md say what the function does: their config snippets load, their commands run,
their tables match the defaults."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from krm_fn import config as config_model
from krm_fn.components.common import deep_merge
from tests import kps_firing
from tests.helpers import REPO, default_config
from tests.sops_fixtures import make_sops, secret_text, upstream_values
from tests.tools import tool

DOCS = REPO / "docs" / "operations"
PAGES = sorted(DOCS.glob("*.md"))
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def spec_snippets() -> list[tuple[str, str]]:
    return [
        (page.name, block)
        for page in PAGES
        for block in YAML_BLOCK.findall(page.read_text())
        if block.startswith("spec:")
    ]


def test_the_pages_exist_and_the_readme_links_them():
    readme = (REPO / "README.md").read_text()
    assert {p.name for p in PAGES} >= {"pushover.md", "heartbeat.md", "storage.md", "sizing.md", "alerts.md"}
    for page in ("pushover.md", "heartbeat.md", "storage.md", "sizing.md", "alerts.md"):
        assert f"docs/operations/{page}" in readme


@pytest.mark.parametrize(("page", "snippet"), spec_snippets())
def test_every_config_snippet_is_a_valid_config(page: str, snippet: str):
    config = deep_merge(default_config(), {"spec": yaml.safe_load(snippet)["spec"]})
    loaded, errors = config_model.load(config)
    assert loaded is not None, (page, [e.message for e in errors])


def test_the_alert_table_is_the_default_list_and_names_real_alerts():
    text = (DOCS / "alerts.md").read_text()
    off = re.findall(r"^\| `(\w+)` \| off \(`spec\.alerting\.disabledRules`\)", text, re.MULTILINE)
    schema_default = config_model.schema()["properties"]["spec"]["properties"]["alerting"]["properties"]
    assert off == schema_default["disabledRules"]["default"]
    chart_alerts = {
        rule["alert"]
        for group in yaml.safe_load(kps_firing.RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert len(chart_alerts) > 100 and set(off) <= chart_alerts
    assert {"Watchdog", "InfoInhibitor", "CPUThrottlingHigh"} <= chart_alerts


@pytest.mark.e2e
def test_the_heartbeat_commands_run_as_written(tmp_path: Path):
    """heartbeat.md's sh block: the URL goes into the encrypted Secret, and the render stops warning."""
    (block,) = SH_BLOCK.findall((DOCS / "heartbeat.md").read_text())
    sops = make_sops(tmp_path / "keys")
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(sops.config, work / ".sops.yaml")
    sops.encrypt_text(secret_text(upstream_values()), work / "monitoring-secrets.enc.yaml")
    config = default_config()
    config["spec"]["alerting"] = {"heartbeat": {}}
    (work / "observability.yaml").write_text(yaml.safe_dump(config))
    env = {**sops.env(), "OBSERVABILITY_FN_CACHE": "off"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(Path(tool("sops")).parent), env["PATH"]])
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "heartbeat-missing" not in proc.stderr and "sops-required-keys" not in proc.stderr, proc.stderr
    assert "hc-ping.com" not in (work / "monitoring-secrets.enc.yaml").read_text()  # encrypted
    assert "hc-ping.com" not in (work / "stack.yaml").read_text()  # read from the file, never rendered
    decrypted = subprocess.run(
        [tool("sops"), "decrypt", "monitoring-secrets.enc.yaml"], cwd=work, env=env, capture_output=True, text=True
    )
    assert yaml.safe_load(decrypted.stdout)["stringData"]["heartbeat-url"].startswith("https://hc-ping.com/")
