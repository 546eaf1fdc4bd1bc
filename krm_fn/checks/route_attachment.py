"""Rule: each HTTPRoute attaches to its Gateway (listener, hostname, allowed namespaces).

Facts: docs/reference/crds.md#5-gateway-api-hostname-rules.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, result, rule
from krm_fn.config import Config
from krm_fn.gateway.hostnames import intersect
from krm_fn.gateway.model import (
    GATEWAY_GROUP,
    NAME_LABEL,
    NON_HTTP_PROTOCOLS,
    Listener,
    ParentRef,
    Route,
    close_match,
    is_gateway_api,
    namespace_of,
    qualified,
    read_listeners,
    routes,
)
from krm_fn.items import Item
from krm_fn.record import Record
from krm_fn.results import Result, Severity

ATTACH_RULE = "route-attachment"


class _Verdict(Record):
    listener: Listener
    status: str  # "ok", "rejected" or "unknown"
    reason: str = ""


class _Namespaces:
    """Labels of the Namespaces in the pipeline (generated ones included)."""

    def __init__(self, ctx: CheckContext) -> None:
        self.labels: dict[str, dict[str, str]] = {}
        for item in ctx.all_objects("Namespace"):
            if item.api_version != "v1" or not item.name:
                continue
            meta = item.obj.get("metadata") if isinstance(item.obj.get("metadata"), dict) else {}
            labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
            self.labels.setdefault(item.name, {str(k): v for k, v in labels.items() if isinstance(v, str)})

    def of(self, name: str | None) -> dict[str, str] | None:
        if name is None or name not in self.labels:
            return None
        return {**self.labels[name], NAME_LABEL: name}


def selector_matches(selector: object, labels: dict[str, str]) -> bool | None:
    """A Kubernetes LabelSelector against labels; None when the selector cannot be read."""
    if not isinstance(selector, dict):
        return None
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return None
    for key, value in match_labels.items():
        if not isinstance(value, str):
            return None
        if labels.get(str(key)) != value:
            return False
    for expression in expressions:
        if not isinstance(expression, dict) or not isinstance(expression.get("key"), str):
            return None
        key, operator = expression["key"], expression.get("operator")
        values = expression.get("values") if isinstance(expression.get("values"), list) else []
        if operator == "In":
            ok = key in labels and labels[key] in values
        elif operator == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif operator == "Exists":
            ok = key in labels
        elif operator == "DoesNotExist":
            ok = key not in labels
        else:
            return None
        if not ok:
            return False
    return True


def _selector_keys(selector: dict) -> set[str]:
    keys = {str(k) for k in (selector.get("matchLabels") or {})}
    return keys | {str(e.get("key")) for e in selector.get("matchExpressions") or [] if isinstance(e, dict)}


def _verdict(route: Route, listener: Listener, gateway_namespace: str | None, namespaces: _Namespaces) -> _Verdict:
    """Does one listener accept the route? Kinds, then namespaces, then hostnames.

    A namespace not known yet (None) is never a reason to reject: both objects may well be
    given the same one by the kustomization that includes them.
    """
    if listener.kinds:
        if (GATEWAY_GROUP, "HTTPRoute") not in listener.kinds:
            kinds = ", ".join(kind for _, kind in listener.kinds)
            return _Verdict(listener, "rejected", f"allowedRoutes.kinds lists {kinds}, not HTTPRoute")
    elif listener.protocol in NON_HTTP_PROTOCOLS:
        protocol = listener.protocol
        return _Verdict(listener, "rejected", f"protocol {protocol} takes {protocol}Route, not HTTPRoute")

    if (
        listener.allowed_from == "Same"
        and None not in (route.namespace, gateway_namespace)
        and route.namespace != gateway_namespace
    ):
        return _Verdict(
            listener,
            "rejected",
            f"allowedRoutes.namespaces.from is Same (the default), so only routes in namespace {gateway_namespace} "
            "attach (set from: All, or Selector with a selector that matches the route's namespace)",
        )
    if listener.allowed_from == "Selector":
        selector = listener.selector
        labels = namespaces.of(route.namespace)
        if route.namespace is None:
            return _Verdict(
                listener,
                "unknown",
                "allowedRoutes.namespaces.selector needs the route's namespace, which is set later (the route has no "
                "metadata.namespace)",
            )
        if labels is None and isinstance(selector, dict) and _selector_keys(selector) <= {NAME_LABEL}:
            labels = {NAME_LABEL: route.namespace}
        if labels is None:
            return _Verdict(
                listener,
                "unknown",
                f"allowedRoutes.namespaces.selector needs the labels of Namespace {route.namespace}, which is not "
                "in the pipeline (include it to check this)",
            )
        matched = selector_matches(selector, labels)
        if matched is False:
            return _Verdict(
                listener,
                "rejected",
                f"allowedRoutes.namespaces.selector does not match the labels of Namespace {route.namespace}",
            )

    if (
        listener.hostname
        and route.hostnames
        and not route.unknown_hostnames  # a placeholder hostname may be the one the listener takes
        and not any(intersect(h, listener.hostname) for _, h in route.hostnames)
    ):
        names = ", ".join(h for _, h in route.hostnames[:3])
        return _Verdict(listener, "rejected", f"its hostname {listener.hostname} does not match the route's {names}")
    return _Verdict(listener, "ok")


class _Finding(Record):
    """One attachment problem of one route; `{who}` in the message stands for the route(s)."""

    route: Route
    parent: ParentRef
    severity: Severity
    message: str
    part: str | None = None  # sectionName or port: the parentRef field at fault
    hostname: int | None = None  # index in spec.hostnames, for a hostname the Gateway ignores


@rule(ATTACH_RULE, Severity.ERROR, "each HTTPRoute attaches to its Gateway: listener, hostname and namespace allow it")
def check_attachment(ctx: CheckContext) -> Iterator[Result]:
    """parentRefs resolve and the Gateway's listeners accept the route, when the Gateway is in the pipeline.

    When it is not, one info result says which checks were skipped (never one per route).
    Problems of generated routes are reported on the config (spec.gateway), once for all
    the routes they share.
    """
    gateways: dict[tuple[str | None, str], Item] = {}
    for item in ctx.user_objects("Gateway"):
        if is_gateway_api(item) and item.name:
            gateways.setdefault((namespace_of(item), item.name), item)
    namespaces = _Namespaces(ctx)
    missing: dict[tuple[str | None, str], int] = {}
    findings: list[_Finding] = []
    for route in routes(ctx):
        for parent in route.parents:
            if not parent.is_gateway or parent.unknown:
                continue  # a parent named by a substitution placeholder is known only after Flux runs
            found = _find_gateways(parent, gateways)
            if len(found) > 1:
                continue  # which one is decided by the namespaces set later
            gateway = found[0] if found else None
            if gateway is not None:
                findings.extend(_attach(route, parent, gateway, namespaces))
                continue
            missing[(parent.namespace, parent.name)] = missing.get((parent.namespace, parent.name), 0) + 1
            near = _near_miss(parent, gateways)
            if near is not None:
                message = f"{parent} is not in the pipeline, but Gateway {qualified(*near)} is: did you mean it?"
                findings.append(_Finding(route, parent, Severity.WARNING, message))
    yield from _report(ctx.config, findings)
    if missing:
        yield _skipped(ctx, missing)


def _report(config: Config | None, findings: list[_Finding]) -> Iterator[Result]:
    about_config: dict[tuple[Severity, str, str], list[str]] = {}
    for finding in findings:
        if finding.route.generated and config is not None:
            field = "spec.gateway" + (".sectionName" if finding.part == "sectionName" else "")
            route = finding.route
            about_config.setdefault((finding.severity, field, finding.message), []).append(
                qualified(route.namespace, route.item.name or "")
            )
            continue
        message = finding.message.replace("{who}", "this route")
        if finding.hostname is not None:
            path: list[str | int] = ["spec", "hostnames", finding.hostname]
        else:
            path = ["spec", "parentRefs", finding.parent.index] + ([finding.part] if finding.part else [])
        yield result(ATTACH_RULE, finding.severity, message, finding.route.item, path)
    for (severity, field, message), names in about_config.items():
        who = f"the generated HTTPRoute{'s' if len(names) > 1 else ''} {', '.join(names)}"
        text = message.replace("{who}", who) if "{who}" in message else f"{who}: {message}"
        yield on_config(ATTACH_RULE, severity, text, config, field)


def _find_gateways(parent: ParentRef, gateways: dict[tuple[str | None, str], Item]) -> list[Item]:
    """The Gateways a parentRef may name: the exact one, else those a namespace not known yet may match."""
    exact = gateways.get((parent.namespace, parent.name))
    if exact is not None:
        return [exact]
    return [
        gateway
        for (namespace, name), gateway in gateways.items()
        if name == parent.name and (namespace is None or parent.namespace is None)
    ]


def _near_miss(parent: ParentRef, gateways: dict[tuple[str | None, str], Item]) -> tuple[str | None, str] | None:
    same_name = sorted((key for key in gateways if key[1] == parent.name), key=lambda k: (k[0] or "", k[1]))
    if same_name:
        return same_name[0]
    in_namespace = [name for ns, name in gateways if ns == parent.namespace]
    if not in_namespace:
        return None
    close = close_match(parent.name, in_namespace, cutoff=0.8)
    return (parent.namespace, close) if close else None


def _attach(route: Route, parent: ParentRef, gateway: Item, namespaces: _Namespaces) -> Iterator[_Finding]:
    listeners = read_listeners(gateway)
    if not listeners:
        return  # a Gateway without readable listeners: the schema rule reports it
    candidates = listeners
    if parent.section is not None:
        candidates = [listener for listener in listeners if listener.name == parent.section]
        if not candidates:
            names = [listener.name for listener in listeners if listener.name]
            close = close_match(parent.section, names, cutoff=0.6)
            hint = f"did you mean {close}? " if close else ""
            message = (
                f"{parent} has no listener named {parent.section!r}: {hint}"
                f"its listeners are {', '.join(names) or 'unnamed'}"
            )
            yield _Finding(route, parent, Severity.ERROR, message, "sectionName")
            return
    if parent.port is not None:
        candidates = [listener for listener in candidates if listener.port == parent.port]
        if not candidates:
            ports = sorted({listener.port for listener in listeners if listener.port is not None})
            named = f" named {parent.section!r}" if parent.section else ""
            message = f"{parent} has no listener on port {parent.port}{named}: its ports are "
            yield _Finding(route, parent, Severity.ERROR, message + (", ".join(map(str, ports)) or "unset"), "port")
            return

    verdicts = [_verdict(route, listener, namespace_of(gateway), namespaces) for listener in candidates]
    accepting = [v for v in verdicts if v.status != "rejected"]
    if not accepting:
        reasons = "; ".join(f"{v.listener.label}: {v.reason}" for v in verdicts[:4])
        more = f"; and {len(verdicts) - 4} more listeners" if len(verdicts) > 4 else ""
        message = f"{{who}} will not attach to {parent}{_where(gateway)}: {reasons}{more}"
        yield _Finding(route, parent, Severity.ERROR, message)
        return
    if not any(v.status == "ok" for v in accepting):
        reasons = "; ".join(f"{v.listener.label}: {v.reason}" for v in accepting[:4])
        yield _Finding(route, parent, Severity.INFO, f"could not check attachment to {parent}: {reasons}")
        return
    listener_hosts = sorted({v.listener.hostname or "" for v in accepting})
    if "" in listener_hosts:
        return  # a listener without a hostname takes every name
    for index, host in route.hostnames:
        if not any(intersect(host, listener_host) for listener_host in listener_hosts):
            message = (
                f"hostname {host} matches no listener of {parent} that accepts {{who}} (their hostnames: "
                f"{', '.join(listener_hosts)}), so the Gateway ignores it: remove it or add a listener for it"
            )
            yield _Finding(route, parent, Severity.WARNING, message, hostname=index)


def _where(item: Item) -> str:
    location = item.location()
    return f" ({location})" if location.path else ""


def _skipped(ctx: CheckContext, missing: dict[tuple[str | None, str], int]) -> Result:
    names = sorted(qualified(ns, name) for ns, name in missing)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    count = sum(missing.values())
    if not ctx.sees_pipeline:
        message = (
            f"the routes were not checked against Gateway {shown}: the function saw only its config (kustomize "
            "`generators:`, or `render` given the config alone); to check them, run it under `transformers:`, "
            "with kpt, or pass the Gateway's file to render, and include the Gateway"
        )
    else:
        message = (
            f"Gateway {shown} is not in the pipeline, so the checks that need it (parentRef resolves, listener "
            f"hostname, allowedRoutes) were skipped for {count} parentRef(s); include the Gateway in the "
            "kustomization or kpt package to run them"
        )
    config = ctx.config
    return Result(
        ATTACH_RULE,
        Severity.INFO,
        message,
        config.ref if config else None,
        None,
        config.location if config else None,
    )
