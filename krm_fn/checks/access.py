"""Rule `ui-access-control`: Prometheus, Thanos Query, Alertmanager and Alloy are not exposed to anyone
who reaches the Gateway.

Their UIs have no login of their own (Grafana has one, so it is not flagged). A UI counts as
protected when the config gives it an access policy (spec.ui.<ui>.access or spec.access.all),
or when the user's own Envoy Gateway SecurityPolicy targets its HTTPRoute or the Gateway. Thanos
Query (the ha profile) is exposed with the Prometheus UI and takes its policy (thanos.query_ui).
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, rule
from krm_fn.components import thanos
from krm_fn.results import Result, Severity

RULE = "ui-access-control"

# What anyone who reaches the Gateway can do with each UI.
EXPOSURE = {
    "prometheus": "read every metric (host, pod and version names included) and run costly queries",
    "alertmanager": "silence every alert, so nothing reaches your phone, and read all of them",
    "alloy": "read the log pipeline's configuration and every target it discovers",
    "thanos": "read every metric of the long-term store and run queries over all of its history",
}
# The config field that holds a UI's access policy (Thanos Query has none of its own).
POLICY_OF = {"thanos": "prometheus"}


def _protected_by_user_policy(ctx: CheckContext, route: str) -> bool:
    gateway = ctx.config.gateway.name if ctx.config and ctx.config.gateway else None
    for item in ctx.user_objects("SecurityPolicy"):
        spec = item.obj.get("spec") if isinstance(item.obj.get("spec"), dict) else {}
        refs = spec.get("targetRefs") if isinstance(spec.get("targetRefs"), list) else []
        if isinstance(spec.get("targetRef"), dict):
            refs = [*refs, spec["targetRef"]]
        for ref in refs:
            if isinstance(ref, dict) and (ref.get("kind"), ref.get("name")) in (
                ("HTTPRoute", route),
                ("Gateway", gateway),
            ):
                return True
    return False


@rule(RULE, Severity.WARNING, "Prometheus, Thanos Query, Alertmanager and Alloy are not exposed without access control")
def check_access(ctx: CheckContext) -> Iterator[Result]:
    """An exposed UI without a login of its own and without an access policy."""
    config = ctx.config
    if config is None:
        return
    thanos_query = thanos.query_ui(config)
    for ui in (*config.exposed_uis, *([thanos_query] if thanos_query else [])):
        if ui.name not in EXPOSURE or config.access_for(ui) is not None:
            continue
        if _protected_by_user_policy(ctx, ui.name):
            continue
        field = POLICY_OF.get(ui.name, ui.name)
        url = f"{config.gateway.scheme}://{ui.hostname}" if config.gateway else ui.hostname
        shared = " (Thanos Query takes the Prometheus UI's policy)" if field != ui.name else ""
        yield on_config(
            RULE,
            Severity.WARNING,
            f"{ui.name} is exposed at {url} with no access control: anyone who reaches the Gateway can "
            f"{EXPOSURE[ui.name]}; set spec.ui.{field}.access or spec.access.all (allowNetworks, basicAuth "
            f"or forwardAuth){shared}, or spec.ui.{field}.enabled: false",
            config,
            f"spec.ui.{field}",
        )
