"""The rules. Each module registers its rules with @rule; importing this package loads them all."""

from krm_fn.checks import (  # noqa: F401 - registers rules
    access,
    base,
    hostnames,
    routes,
    schemas,
    secrets,
    templates,
    values,
)
from krm_fn.checks.base import RULES, CheckContext, Rule, rule, run_rules

__all__ = ["RULES", "CheckContext", "Rule", "rule", "run_rules"]
