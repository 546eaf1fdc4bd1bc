"""The guides of docs/guides/ stay true: each config snippet is a valid piece of a config, the stack it
gives passes its rules, and each `sh` block is the command of an example tests/test_examples.py runs."""

from __future__ import annotations

import re

import pytest
import yaml

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.checks import CheckContext, run_rules
from krm_fn.items import Item
from tests.helpers import REPO, protected_config

GUIDES = ("external-secrets", "grafana-operator", "flux-operator", "silences")
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def text(guide: str) -> str:
    return (REPO / "docs" / "guides" / f"{guide}.md").read_text()


@pytest.mark.parametrize("guide", GUIDES)
def test_the_config_snippet_is_valid_and_its_stack_passes_the_rules(guide: str):
    snippet = yaml.safe_load(YAML_BLOCK.search(text(guide)).group(1))
    config = protected_config()
    config["spec"].update(snippet["spec"])
    loaded, errors = config_model.load(config)
    assert errors == [], [e.message for e in errors]
    generated = [Item.from_data(obj) for obj in components.generate(loaded)]
    found = [r for r in run_rules(CheckContext(loaded, generated, [], sees_pipeline=False)) if r.is_error]
    assert found == [], [r.message for r in found]


@pytest.mark.parametrize("guide", GUIDES)
def test_the_commands_are_those_of_examples(guide: str):
    for block in SH_BLOCK.findall(text(guide)):
        directory, command = block.strip().splitlines()
        example = REPO / directory.removeprefix("cd ")
        assert (example / ".expected" / "config.yaml").is_file(), directory
        expected = yaml.safe_load((example / ".expected" / "config.yaml").read_text())["command"]
        assert command.removeprefix("! ") == " ".join(expected)  # `! cmd`: the example's command fails
