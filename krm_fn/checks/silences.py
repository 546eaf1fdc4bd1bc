"""Rule `silences`: spec.alerting.silences silence something, and still can.

- A silence whose matchers match no alert the stack defines is an error (a typo in an alert name
  silences nothing, and the real alert keeps paging), unless it is marked `external` (another
  chart's rules). What the stack defines: kube-prometheus-stack's default rules as the generated
  values leave them on (krm_fn/charts/alerts.py), the rules in `additionalPrometheusRulesMap`
  (the stack's and yours through spec.values), PrometheusRule objects in the pipeline, and Flux
  events, which notification-controller names `Flux<Kind><Reason>` (docs/reference/crds.md). Only
  the `alertname` and `severity` matchers are compared: other labels (namespace, job, instance)
  exist only at run time.
- Alertmanager refuses a silence whose every matcher matches the empty string (its API answers
  400; tests/test_silences.py asks the real Alertmanager), so silence-operator could never create it.
- An `expires` in the past is a warning: remove the silence. silence-operator starts a silence when
  its object is created, and Alertmanager refuses one that ends before it starts ("start time must
  be before end time", tests/test_silences.py asks the real one).
- Two silences of one name would be one object.
- silence-operator's HelmRelease, when in the pipeline, must point at this stack's Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from krm_fn.charts import alerts as chart_alerts
from krm_fn.checks.base import CheckContext, dig, on_config, result, rule
from krm_fn.checks.existing import chart_of, oci_repository_urls
from krm_fn.config import Config, Silence, SilenceMatcher
from krm_fn.gateway.model import close_match
from krm_fn.results import Result, Severity

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    import datetime

RULE = "silences"
KPS = "kube-prometheus-stack"
SILENCE_OPERATOR_CHART = "silence-operator"
# Reasons Flux controllers put in events (fluxcd/pkg apis/meta and the controllers' own): a regex
# matcher on alertname is taken to match a Flux event when it matches Flux<Kind><one of these>.
FLUX_REASONS = (
    "ReconciliationFailed", "ReconciliationSucceeded", "Progressing", "ProgressingWithRetry", "DependencyNotReady",
    "HealthCheckFailed", "ArtifactFailed", "BuildFailed", "PruneFailed", "GitOperationFailed",
    "AuthenticationFailed", "StorageOperationFailed", "URLInvalid", "VerificationError", "ChartPullFailed",
    "ChartPackageFailed", "InstallFailed", "InstallSucceeded", "UpgradeFailed", "UpgradeSucceeded", "TestFailed",
    "TestSucceeded", "RollbackFailed", "RollbackSucceeded", "UninstallFailed", "UninstallSucceeded",
    "RetriesExceeded", "NewArtifact", "ArtifactUpToDate", "IndexationFailed", "InvalidPath",
)  # fmt: skip
# Where silence-operator may send: the chart's Service or the operator's governing one, port 9093.
ALERTMANAGER_HOSTS = ("kube-prometheus-stack-alertmanager", "alertmanager-operated")


class Candidate:
    """An alert the stack can send: its name (or, for Flux events, the fixed start of it) and severity."""

    def __init__(self, name: str, severity: str, source: str, prefix: bool = False):
        self.name, self.severity, self.source, self.prefix = name, severity, source, prefix


def _regex(value: str) -> re.Pattern | None:
    try:
        return re.compile(value)
    except re.error:
        return None  # a Go-only pattern: claim nothing


def matches(matcher: SilenceMatcher, value: str) -> bool:
    """Alertmanager's matching of one label value (regexes anchored at both ends)."""
    if matcher.match_type in ("=", "!="):
        return (value == matcher.value) == (matcher.match_type == "=")
    pattern = _regex(matcher.value)
    if pattern is None:
        return True
    return (pattern.fullmatch(value) is not None) == (matcher.match_type == "=~")


def _name_matches(matcher: SilenceMatcher, candidate: Candidate) -> bool:
    if not candidate.prefix:
        return matches(matcher, candidate.name)
    if matcher.match_type == "=":
        return matcher.value.startswith(candidate.name)
    if matcher.match_type == "=~":
        return _regex(matcher.value) is None or any(matches(matcher, candidate.name + r) for r in FLUX_REASONS)
    return True  # a negative matcher leaves most Flux event names in


def _silences(candidates: list[Candidate], silence: Silence) -> bool:
    checked = [m for m in silence.matchers if m.name in ("alertname", "severity")]
    for candidate in candidates:
        if all(
            _name_matches(m, candidate) if m.name == "alertname" else matches(m, candidate.severity) for m in checked
        ):
            return True
    return False


def _rule_alerts(groups: object, source: str) -> Iterator[Candidate]:
    for group in groups if isinstance(groups, list) else []:
        for entry in dig(group, ("rules",), []) or []:
            if isinstance(entry, dict) and isinstance(entry.get("alert"), str):
                severity = dig(entry, ("labels", "severity"), "")
                yield Candidate(entry["alert"], str(severity), source)


def candidates(ctx: CheckContext, config: Config) -> tuple[list[Candidate], dict[str, str]]:
    """Every alert the stack (and the pipeline's PrometheusRules) can send; and the kube-prometheus-stack
    default alerts that the values turn off, each with the value that does."""
    out: list[Candidate] = []
    off: dict[str, str] = {}
    release = config.chart_data[KPS]
    kps_values: dict = {}
    for item in ctx.generated:
        if item.kind == "HelmRelease" and item.name == KPS:
            kps_values = dig(item.obj, ("spec", "values"), {}) or {}
    defined = chart_alerts.default_alerts(release, kps_values)
    out += [Candidate(name, severity, f"{KPS} {release}") for name, severity in defined.items()]
    for name, (_, gates) in chart_alerts.catalog(release).items():
        if name not in defined:
            turned_off = [p for p, d in gates or () if not dig(kps_values, tuple(p.split(".")), d)]
            off[name] = f"{turned_off[0]}: false" if turned_off else f"defaultRules.disabled.{name}: true"
    for rule_set in (kps_values.get("additionalPrometheusRulesMap") or {}).values():
        out += _rule_alerts(dig(rule_set, ("groups",)), "the stack's rules")
    for item in ctx.user_objects("PrometheusRule"):
        out += _rule_alerts(dig(item.obj, ("spec", "groups")), f"PrometheusRule {item.name}")
    for item in ctx.generated:
        if item.kind == "Alert":
            severity = str(dig(item.obj, ("spec", "eventSeverity"), "error"))
            for source in dig(item.obj, ("spec", "eventSources"), []) or []:
                out.append(Candidate(f"Flux{source.get('kind')}", severity, "Flux events", prefix=True))
    loki = config.values.get("loki") or {}
    if dig(loki, ("monitoring", "rules", "enabled")) is True or dig(loki, ("monitoring", "rules", "alerting")) is True:
        out.append(Candidate("Loki", "", "the loki chart's rules", prefix=True))
    return out, off


def _why_none(silence: Silence, found: list[Candidate], off: dict[str, str]) -> str:
    """What is wrong with a silence that matches nothing, as precisely as the matchers allow."""
    names = sorted({c.name for c in found if not c.prefix})
    for matcher in silence.matchers:
        if matcher.name != "alertname" or matcher.match_type != "=":
            continue
        same = [c for c in found if _name_matches(matcher, c)]
        if not same and matcher.value in off:
            return f"{matcher.value} is off in this stack ({KPS} values: {off[matcher.value]})"
        if not same:
            near = close_match(matcher.value, names, cutoff=0.6)
            hint = f" (did you mean {near}?)" if near else ""
            return f"the stack defines no alert named {matcher.value}{hint}"
        severities = sorted({c.severity for c in same})
        return f"{matcher.value} has severity {', '.join(severities)}, which the severity matcher excludes"
    return "its matchers match no alert the stack defines"


def _expiry(text: str) -> datetime.datetime:
    """When silence-operator ends the silence: a date at 08:00 UTC (SilenceEndsAt), else the time given."""
    import datetime  # start-up budget: docs/startup.md (only a silence with an expiry gets here)

    if len(text) == 10:
        day = datetime.date.fromisoformat(text)
        return datetime.datetime(day.year, day.month, day.day, 8, tzinfo=datetime.UTC)
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now() -> datetime.datetime:
    import datetime  # start-up budget: docs/startup.md

    return datetime.datetime.now(datetime.UTC)


@rule(
    RULE,
    Severity.ERROR,
    "spec.alerting.silences: each matches an alert the stack defines (unless external), can be created by "
    "Alertmanager, has not expired (a warning), and silence-operator points at this Alertmanager",
)
def check_silences(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    silences = config.alerting.silences
    if silences:
        found, off = candidates(ctx, config)
        seen: set[str] = set()
        for index, silence in enumerate(silences):
            yield from _one(config, index, silence, found, off, seen)
    yield from _operator(ctx, config)


def _one(
    config: Config, index: int, silence: Silence, found: list[Candidate], off: dict[str, str], seen: set[str]
) -> Iterator[Result]:
    field = f"spec.alerting.silences[{index}]"

    def on(severity: Severity, message: str, sub: str) -> Result:
        text = f"silence {silence.name}: {message}"
        return on_config(RULE, severity, text, config, f"{field}.{sub}")

    if silence.name in seen:
        yield on(Severity.ERROR, "another silence has this name, and both would be one Silence object", "name")
    seen.add(silence.name)
    if all(matches(m, "") for m in silence.matchers):
        yield on(
            Severity.ERROR,
            "every matcher matches the empty string, so it would match every alert and Alertmanager refuses it "
            "(at least one matcher must not match the empty string): name the alert, alertname=...",
            "matchers",
        )
    elif not silence.external and not _silences(found, silence):
        yield on(
            Severity.ERROR,
            f"it silences nothing: {_why_none(silence, found, off)}; fix the matchers, or set external: true if "
            "the alert comes from rules outside the stack",
            "matchers",
        )
    if silence.expires and _expiry(silence.expires) <= now():
        yield on(
            Severity.WARNING,
            f"expired on {silence.expires}, so it silences nothing, and silence-operator cannot create it again "
            "(it starts a silence when the object is created; Alertmanager refuses one that ends before it starts); "
            "remove it, or move expires",
            "expires",
        )


def _operator(ctx: CheckContext, config: Config) -> Iterator[Result]:
    """silence-operator's HelmRelease sends to this stack's Alertmanager (when it is in the pipeline)."""
    urls = oci_repository_urls(ctx)
    for release in ctx.user_objects("HelmRelease"):
        if chart_of(release, urls) != SILENCE_OPERATOR_CHART:
            continue
        address = dig(release.obj, ("spec", "values", "alertmanagerAddress"))
        if not isinstance(address, str) or "${" in address:
            continue
        match = re.fullmatch(r"https?://([^.:/]+)\.([^.:/]+)(?:\.svc(?:\.[^:/]+)?)?:(\d+)/?", address)
        ok = match is not None and match.group(1) in ALERTMANAGER_HOSTS and match.group(2) == config.namespace
        if ok and match is not None and match.group(3) == "9093":
            continue
        wanted = f"http://{ALERTMANAGER_HOSTS[0]}.{config.namespace}.svc:9093"
        yield result(
            RULE,
            Severity.WARNING,
            f"sends silences to {address}, not to this stack's Alertmanager: set alertmanagerAddress: {wanted}",
            release,
            ["spec", "values", "alertmanagerAddress"],
        )
