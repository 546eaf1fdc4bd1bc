"""The README stays true: its config example is valid and every value it sets is a real chart value."""

from __future__ import annotations

import re

import yaml

from krm_fn import components, config
from krm_fn.checks import CheckContext, run_rules
from krm_fn.items import Item
from tests.helpers import REPO

README = (REPO / "README.md").read_text()


def test_config_example_is_valid_and_its_values_are_real_chart_values():
    section = README.split("## The config", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    loaded, errors = config.load(yaml.safe_load(example))
    assert errors == []
    generated = [Item.from_data(obj) for obj in components.generate(loaded)]
    results = [r for r in run_rules(CheckContext(loaded, generated, [], sees_pipeline=False)) if r.is_error]
    assert results == []
