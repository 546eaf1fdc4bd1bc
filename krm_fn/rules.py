"""Every rule id in one registry: the `@rule` checks and the pipeline's own (parsing, the config,
conflicts, the repository walk, suppressions). The README's rule table is generated from it
(scripts/rules_table.py), and `spec.checks.rules` accepts exactly the configurable ids.

This module imports nothing of the project but `results`, so the protocol layer, the config
loader and the file reader can name their rule ids without loading the checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from krm_fn.record import Record
from krm_fn.results import Severity


class Rule(Record):
    id: str
    severity: Severity
    summary: str
    check: Callable[..., Iterable] | None = None  # None: reported by the pipeline, not by a check function
    configurable: bool = True  # may be suppressed or given another severity


RULES: list[Rule] = []


def declare(
    rule_id: str,
    severity: Severity,
    summary: str,
    check: Callable[..., Iterable] | None = None,
    configurable: bool = True,
) -> str:
    """Add a rule to the registry; its id, for the module that reports it."""
    if any(r.id == rule_id for r in RULES):
        raise ValueError(f"duplicate rule id {rule_id}")
    RULES.append(Rule(rule_id, severity, summary, check, configurable))
    return rule_id


def get(rule_id: str) -> Rule | None:
    return next((r for r in RULES if r.id == rule_id), None)


def configurable_ids() -> list[str]:
    """The ids `spec.checks.rules` and the ignore annotation may name (checks imported first)."""
    return [r.id for r in RULES if r.configurable]


# --- the pipeline's own rules (reported before or around the checks) --------------------------

CONFIG_SCHEMA = declare(
    "config-schema",
    Severity.ERROR,
    "The ObservabilityConfig against its JSON Schema: unknown fields (with the nearest known one), "
    "missing fields, bad names, durations, quantities, unsupported chart versions",
    configurable=False,
)
CHART_VERSION = declare(
    "chart-version",
    Severity.ERROR,
    "spec.charts versions: a release the function knows (a newer one renders with a warning; spec.charts.strict "
    "makes it an error); an older one, or one never released, is an error naming the nearest known",
    configurable=False,
)
CONFIG = declare(
    "config", Severity.ERROR, "No ObservabilityConfig, several, or a functionConfig of another kind", configurable=False
)
INPUT = declare(
    "input",
    Severity.ERROR,
    "The input itself: not a ResourceList, not UTF-8, over the size limit, an unreadable config file",
    configurable=False,
)
PARSE = declare(
    "yaml-parse",
    Severity.ERROR,
    "YAML that does not parse, duplicate keys (named, with both lines), alias bombs",
    configurable=False,
)
CONFLICT = declare(
    "resource-conflict",
    Severity.ERROR,
    "An object of yours with the identity of a generated one (one would silently replace the other)",
)
KUSTOMIZATION = declare(
    "kustomization",
    Severity.ERROR,
    "`check`: a kustomization or Flux Kustomization names a file or directory that is not there",
)
PATCH = declare(
    "patch-target",
    Severity.ERROR,
    "`check`: a patch names an object the build does not have (kustomize fails on a strategic-merge "
    "patch without a target; a target selector matching nothing is a warning)",
)
NOT_BUILT = declare(
    "not-built",
    Severity.WARNING,
    "`check`: files of Kubernetes objects that no Flux Kustomization of any cluster builds (once per file or "
    "directory, with why; never checked as objects)",
)
SUPPRESSION = declare(
    "suppression",
    Severity.ERROR,
    "An ignore annotation without a reason or naming an unknown rule (one info line counts what was suppressed)",
    configurable=False,
)
INTERNAL = declare(
    "internal-error",
    Severity.ERROR,
    "A rule crashed: reported with the exception's type only; please report it",
    configurable=False,
)
