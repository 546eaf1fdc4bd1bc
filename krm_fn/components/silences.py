"""spec.alerting.silences as giantswarm silence-operator `Silence` objects (observability.giantswarm.io/v1alpha2).

silence-operator turns each into an Alertmanager silence (the matchers as they are; comment
`silence-operator-<namespace>-<name>`, which it uses to find its own silences again) that lasts
until the `valid-until` annotation, a date (ended at 08:00 UTC) or an RFC 3339 time, or 100 years
without one (giantswarm/silence-operator v0.20.1 internal/controller/silence_v2_controller.go
getSilenceFromCR, pkg/alertmanager/alertmanager.go SilenceEndsAt). The annotation works with
v0.20.1, which onedr0p/home-ops and bjw-s-labs/home-ops run, and with v0.21.0, whose new
spec.endsAt the 0.20 CRD lacks. The comment goes to the `motivation` annotation, the one
silence-operator's migration guide keeps as the user's reason (MIGRATION.md).
Evidence: docs/reference/operators.md#3-silence-operator.
"""

from __future__ import annotations

from krm_fn.components.common import metadata
from krm_fn.config import Config, Silence

API_VERSION = "observability.giantswarm.io/v1alpha2"
KIND = "Silence"
MOTIVATION = "motivation"
VALID_UNTIL = "valid-until"


def silence(config: Config, spec: Silence) -> dict:
    """One Silence in the stack namespace."""
    meta = metadata(spec.name, config.namespace)
    meta["annotations"] = {MOTIVATION: spec.comment}
    if spec.expires:
        meta["annotations"][VALID_UNTIL] = spec.expires
    matchers = [{"name": m.name, "value": m.value, "matchType": m.match_type} for m in spec.matchers]
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": {"matchers": matchers}}


def resources(config: Config) -> list[dict]:
    """A Silence per spec.alerting.silences entry."""
    return [silence(config, spec) for spec in config.alerting.silences]
