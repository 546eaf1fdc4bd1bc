"""The rules. Each module registers its rules with @rule; importing this package loads them all."""

from krm_fn.checks import alloy_rbac, base, hostnames, pushover, resources, routes, schemas, secrets, templates, values  # noqa: F401 - registers rules
from krm_fn.checks.base import RULES, CheckContext, Rule, rule, run_rules

__all__ = ["RULES", "CheckContext", "Rule", "rule", "run_rules"]
