"""The rules. Each module registers its rules with @rule; importing this package loads them all."""

# The import order is the order the rules run in, and so the order of their results.
# isort: off
from krm_fn.checks import base, hostnames, route_overlap, route_attachment, route_backend  # noqa: F401 - registers rules
from krm_fn.checks import schemas, stack_secret, secrets, templates, values, existing  # noqa: F401 - registers rules
from krm_fn.checks import alloy_rbac, pushover, heartbeat, resources, storage  # noqa: F401 - registers rules
from krm_fn.checks import access, topology, privilege  # noqa: F401 - registers rules
from krm_fn.checks import external_secret, grafana_operator, flux_operator, silences  # noqa: F401 - registers rules

# isort: on
from krm_fn.checks.base import RULES, CheckContext, Rule, rule, run_rules

__all__ = ["RULES", "CheckContext", "Rule", "rule", "run_rules"]
