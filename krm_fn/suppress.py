"""Suppressions: an annotation on an object naming rules to skip for it (with a reason), and
`spec.checks.rules` (rule id -> error | warning | info | off) in the ObservabilityConfig.

    metadata:
      annotations:
        observability.catinthehack.ca/ignore: "route-overlap,hostname: the old UI moves next week"

The reason after the colon is required: an annotation without one, or naming a rule that does
not exist or cannot be suppressed, is itself an error and suppresses nothing. What was
suppressed is counted (krm_fn.report shows one line), never silently dropped.
"""

from __future__ import annotations

from krm_fn import rules
from krm_fn.items import Item
from krm_fn.results import Result, Severity

ANNOTATION = "observability.catinthehack.ca/ignore"
BY_ANNOTATION = "annotation"
BY_CONFIG = "spec.checks.rules"


def parse(value: object) -> tuple[set[str], str | None]:
    """(rule ids, problem): `"a,b: reason"` -> ({"a", "b"}, None)."""
    if not isinstance(value, str):
        return set(), "must be a string: 'RULE[,RULE...]: reason'"
    ids_text, colon, reason = value.partition(":")
    ids = {part.strip() for part in ids_text.split(",") if part.strip()}
    if not ids:
        return set(), "names no rule; write 'RULE[,RULE...]: reason'"
    if not colon or not reason.strip():
        return ids, "needs a reason after the rule ids ('RULE[,RULE...]: why this finding is accepted')"
    known = set(rules.configurable_ids())
    unknown = sorted(ids - known)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        return ids, f"names {names}, not a rule that can be suppressed{_nearest(unknown[0])}"
    return ids, None


def _nearest(rule_id: str) -> str:
    import difflib  # start-up budget: docs/startup.md (only for a wrong name)

    close = difflib.get_close_matches(rule_id, rules.configurable_ids(), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def apply(
    results: list[Result], items: list[Item], severities: tuple[tuple[str, str], ...] = ()
) -> tuple[list[Result], list[tuple[str, str]]]:
    """The results left after suppressions (plus any problem with an annotation), and what was
    suppressed as (rule, how) pairs."""
    annotated: dict[tuple[str, str, str], set[str]] = {}
    out: list[Result] = []
    for item in items:
        if item.raw is not None and ANNOTATION not in item.raw.text:
            continue  # cheap: most objects never mention it and are never parsed for it
        if item.parse_error() is not None or ANNOTATION not in item.annotations():
            continue
        ids, problem = parse(item.annotations()[ANNOTATION])
        if problem is not None:
            field = ["metadata", "annotations", ANNOTATION]
            location = item.location(field)
            out.append(
                Result(rules.SUPPRESSION, Severity.ERROR, f"{ANNOTATION} {problem}", item.ref, _dotted(field), location)
            )
            continue
        annotated[_key(item.kind, item.namespace, item.name)] = ids
    overrides = dict(severities)
    suppressed: list[tuple[str, str]] = []
    for result in results:
        res = result.resource
        if res is not None and annotated and result.rule in annotated.get(_key(res.kind, res.namespace, res.name), ()):
            suppressed.append((result.rule, BY_ANNOTATION))
            continue
        level = overrides.get(result.rule)
        if level == "off":
            suppressed.append((result.rule, BY_CONFIG))
            continue
        if level is not None and result.severity is not Severity.INFO and result.severity.value != level:
            result = Result(
                result.rule, Severity(level), result.message, result.resource, result.field, result.location
            )
        out.append(result)
    return out, suppressed


def _key(kind: str | None, namespace: str | None, name: str | None) -> tuple[str, str, str]:
    return (kind or "", namespace or "", name or "")


def _dotted(path: list[str]) -> str:
    return ".".join(f"[{p}]" if "." in p or "/" in p else p for p in path)
