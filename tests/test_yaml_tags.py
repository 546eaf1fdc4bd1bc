"""Local and custom tags read as go-yaml v3 reads them: the value, whatever the tag.

App configs mounted through configMapGenerator and identity-provider blueprints use tags
(`!secret`, `!env_var`, `!include`, `!Find`, `!KeyOf`, `!Env`); kustomize and kpt read them.
Checked against the real kustomize: what it decodes is what we load. The strictness that
kustomize shares stays (duplicate keys, recursive aliases).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from krm_fn import yaml as yamlio
from tests.tools import tool

TAGGED_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: tagged
data:
  password: !secret db_password
  port: !env_var PORT 8080
  include: !include other.yaml
  found: !Find [authentik_flows.flow, [slug, default-authentication-flow]]
  key: !KeyOf flow
  env: !Env [SMTP_HOST, localhost]
  mapping: !Custom {a: 1, b: [x]}
  block: !Template
    inner: !secret nested
  text: !!str 12
  global: !<tag:example.com,2026:thing> value
  empty: !secret
"""
BLUEPRINT = """\
# an identity provider's blueprint, next to the manifests
version: 1
metadata:
  name: flows
entries:
  - model: authentik_core.user
    identifiers:
      username: !Env [ADMIN_USER, akadmin]
    attrs:
      flow: !Find [authentik_flows.flow, [slug, default]]
      key: !KeyOf flow-id
"""
HOME_ASSISTANT = """\
homeassistant:
  name: Home
  latitude: !secret home_latitude
http:
  server_port: !env_var HA_PORT
automation: !include automations.yaml
"""


def kustomize_build(tmp_path: Path, manifest: str) -> dict:
    (tmp_path / "object.yaml").write_text(manifest)
    (tmp_path / "kustomization.yaml").write_text("resources:\n- object.yaml\n")
    proc = subprocess.run(
        [tool("kustomize"), "build", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_tagged_values_load_as_kustomize_decodes_them(tmp_path: Path):
    ours = yamlio.load_one(TAGGED_CONFIGMAP)
    assert ours["data"]["password"] == "db_password"
    assert ours["data"]["found"] == ["authentik_flows.flow", ["slug", "default-authentication-flow"]]
    assert ours == kustomize_build(tmp_path, TAGGED_CONFIGMAP)


@pytest.mark.parametrize("text", [BLUEPRINT, HOME_ASSISTANT])
def test_documents_with_app_tags_parse(text: str):
    raws = yamlio.split_documents(text)
    assert len(raws) == 1
    data = yamlio.parse_raw_item(raws[0])
    assert isinstance(data, dict) and "apiVersion" not in data


def test_a_tagged_item_in_a_resource_list_reads_alone():
    entry = "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(TAGGED_CONFIGMAP.splitlines()))
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + entry
    split = yamlio.split_resource_list(text)
    assert [raw.text for raw in split.items] == [entry]
    assert yamlio.parse_raw_item(split.items[0]) == yamlio.load_one(TAGGED_CONFIGMAP)


def test_a_tag_on_a_duplicate_key_mapping_is_still_a_duplicate_key():
    with pytest.raises(yamlio.YamlError, match="duplicate key") as err:
        yamlio.load_one("a: !Custom\n  b: 1\n  b: 2\n")
    assert "first defined at line 2" in err.value.message


@pytest.mark.parametrize("text", ["c: &r [*r]\n", "c: &r !Custom {self: *r}\n"])
def test_a_recursive_alias_is_an_error_not_a_hang(text: str):
    with pytest.raises(yamlio.YamlError, match="recursive alias"):
        yamlio.load_one(text)
