"""Rules: HTTPRoutes against each other, against their Gateway, and against the Services they send to.

Gateway API facts (shared/reference/crds.md section 5, gateway-api v1.6.1): a parentRef
defaults to group gateway.networking.k8s.io, kind Gateway and the route's namespace; a
route with no `hostnames` matches any listener; a listener with no `hostname` matches any
route; `allowedRoutes.namespaces.from` defaults to Same; `allowedRoutes.kinds`, when unset
or empty, follows the listener protocol (HTTP and HTTPS take HTTPRoute). Service names and
ports: shared/reference/charts.md section 2, through `krm_fn.charts`.

Every reader here is tolerant: a field of the wrong type is skipped, never an exception.
The `schema` rule reports shape errors; these rules do not report them a second time.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.charts import CHARTS, LOKI_SERVICE, UI_SERVICES, Service
from krm_fn.checks.base import CheckContext, dig, result, rule
from krm_fn.checks.hostnames import GATEWAY_GROUP, intersect, is_gateway_api, is_valid, show, spec_of, ui_of
from krm_fn.config import Config
from krm_fn.items import Item
from krm_fn.record import Record
from krm_fn.results import Result, Severity

OVERLAP_RULE = "route-overlap"
ATTACH_RULE = "route-attachment"
BACKEND_RULE = "route-backend"
DEFAULT_NAMESPACE = "default"  # where kubectl and Flux put an object that names no namespace
NAME_LABEL = "kubernetes.io/metadata.name"  # set on every Namespace by the API server
NON_HTTP_PROTOCOLS = ("TCP", "UDP", "TLS")  # listeners whose default route kind is not HTTPRoute


# --- a tolerant model of routes and Gateways -----------------------------------------------


class ParentRef(Record):
    index: int
    group: str
    kind: str
    namespace: str
    name: str
    section: str | None
    port: int | None

    @property
    def target(self) -> tuple[str, str, str, str]:
        return (self.group, self.kind, self.namespace, self.name)

    @property
    def is_gateway(self) -> bool:
        return self.group == GATEWAY_GROUP and self.kind == "Gateway"

    def shares_listener(self, other: ParentRef) -> bool:
        """Could both refs land on one listener? Same parent, and sectionName/port equal where both set."""
        return (
            self.target == other.target
            and (self.section is None or other.section is None or self.section == other.section)
            and (self.port is None or other.port is None or self.port == other.port)
        )

    def __str__(self) -> str:
        shown = f"{self.namespace}/{self.name}"
        return f"Gateway {shown}" if self.is_gateway else f"{self.kind} {shown}"


class PathMatch(Record):
    kind: str  # PathPrefix, Exact or RegularExpression
    value: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class BackendRef(Record):
    rule_index: int
    index: int
    group: str
    kind: str
    namespace: str
    name: str
    port: int | None


class Route(Record):
    item: Item
    namespace: str
    hostnames: tuple[tuple[int, str], ...]  # (index in spec.hostnames, name), valid names only
    parents: tuple[ParentRef, ...]
    paths: tuple[PathMatch, ...]
    backends: tuple[BackendRef, ...]

    @property
    def generated(self) -> bool:
        return self.item.generated

    @property
    def label(self) -> str:
        """How a message names this route: kind, namespace/name and, for the user's, where it is."""
        name = f"HTTPRoute {self.namespace}/{self.item.name}"
        if self.generated:
            return f"the generated {name}"
        where = self.item.location()
        return f"{name} ({where})" if where.path else name


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def namespace_of(item: Item) -> str:
    return item.namespace or DEFAULT_NAMESPACE


def read_route(item: Item) -> Route:
    """The parts of an HTTPRoute the rules read, with Gateway API defaults applied."""
    spec = spec_of(item)
    namespace = namespace_of(item)
    hostnames = tuple(
        (i, host.lower()) for i, host in enumerate(_list(spec.get("hostnames"))) if is_valid(host, wildcard_ok=True)
    )
    parents = []
    for i, ref in enumerate(_list(spec.get("parentRefs"))):
        if not isinstance(ref, dict) or _str(ref.get("name")) is None:
            continue
        parents.append(
            ParentRef(
                i,
                ref["group"] if isinstance(ref.get("group"), str) else GATEWAY_GROUP,
                _str(ref.get("kind")) or "Gateway",
                _str(ref.get("namespace")) or namespace,
                ref["name"],
                _str(ref.get("sectionName")),
                _int(ref.get("port")),
            )
        )
    rules = spec.get("rules")
    if rules is None or rules == []:
        rules = [{}]  # the CRD's default: one rule matching PathPrefix /
    paths: list[PathMatch] = []
    backends: list[BackendRef] = []
    for r, rule_obj in enumerate(_list(rules)):
        if not isinstance(rule_obj, dict):
            continue
        paths.extend(_paths(rule_obj.get("matches")))
        for b, ref in enumerate(_list(rule_obj.get("backendRefs"))):
            if isinstance(ref, dict) and _str(ref.get("name")):
                backends.append(
                    BackendRef(
                        r,
                        b,
                        ref["group"] if isinstance(ref.get("group"), str) else "",
                        _str(ref.get("kind")) or "Service",
                        _str(ref.get("namespace")) or namespace,
                        ref["name"],
                        _int(ref.get("port")),
                    )
                )
    return Route(item, namespace, hostnames, tuple(parents), tuple(paths), tuple(backends))


def _paths(matches: object) -> list[PathMatch]:
    if matches is None or matches == []:
        return [PathMatch("PathPrefix", "/")]  # no matches: every path
    found = []
    for match in _list(matches):
        if not isinstance(match, dict):
            continue
        path = match.get("path")
        if path is None:
            found.append(PathMatch("PathPrefix", "/"))
        elif isinstance(path, dict):
            kind = path.get("type", "PathPrefix")
            value = path.get("value", "/")
            if kind in ("PathPrefix", "Exact", "RegularExpression") and isinstance(value, str):
                found.append(PathMatch(kind, value))
    return found


def routes(ctx: CheckContext) -> list[Route]:
    """Every Gateway API HTTPRoute, generated first."""
    return [read_route(item) for item in ctx.all_objects("HTTPRoute") if is_gateway_api(item)]


class Listener(Record):
    index: int
    name: str | None
    hostname: str | None  # None: any host (also when the hostname is invalid: reported by `hostname`)
    port: int | None
    protocol: str | None
    allowed_from: str
    selector: object
    kinds: tuple[tuple[str, str], ...]  # (group, kind); empty: decided by the protocol

    @property
    def label(self) -> str:
        return f"listener {self.name}" if self.name else f"listener #{self.index}"


def read_listeners(gateway: Item) -> list[Listener]:
    found = []
    for i, listener in enumerate(_list(spec_of(gateway).get("listeners"))):
        if not isinstance(listener, dict):
            continue
        allowed = listener.get("allowedRoutes") if isinstance(listener.get("allowedRoutes"), dict) else {}
        namespaces = allowed.get("namespaces") if isinstance(allowed.get("namespaces"), dict) else {}
        kinds = tuple(
            (k["group"] if isinstance(k.get("group"), str) else GATEWAY_GROUP, k["kind"])
            for k in _list(allowed.get("kinds"))
            if isinstance(k, dict) and isinstance(k.get("kind"), str)
        )
        host = listener.get("hostname")
        found.append(
            Listener(
                i,
                _str(listener.get("name")),
                host.lower() if is_valid(host) else None,
                _int(listener.get("port")),
                _str(listener.get("protocol")),
                _str(namespaces.get("from")) or "Same",
                namespaces.get("selector"),
                kinds,
            )
        )
    return found


# --- paths -----------------------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def paths_overlap(a: PathMatch, b: PathMatch) -> bool:
    """Can one request path match both? Symmetric.

    PathPrefix matches whole path segments (`/api` matches `/api/v1`, not `/apis`), so two
    prefixes overlap when one's segments start the other's; an Exact path overlaps a prefix
    that matches it, and another Exact path when equal. RegularExpression is treated as
    overlapping anything: whether two regular expressions (or a regex and a prefix) share a
    path is not decidable here in general, and the flavour is implementation-specific.
    """
    if "RegularExpression" in (a.kind, b.kind):
        return True
    if a.kind == "Exact" and b.kind == "Exact":
        return a.value == b.value
    if a.kind == "Exact":
        a, b = b, a
    shorter, longer = _segments(a.value), _segments(b.value)
    if b.kind == "Exact":
        return longer[: len(shorter)] == shorter
    if len(shorter) > len(longer):
        shorter, longer = longer, shorter
    return longer[: len(shorter)] == shorter


# --- route-overlap ---------------------------------------------------------------------------


class _Clash(Record):
    parent: ParentRef
    host: tuple[int, str]  # of the route reported on
    other_host: str
    path: PathMatch
    other_path: PathMatch

    @property
    def same_name(self) -> bool:
        return self.host[1] == self.other_host


def _clashes(route: Route, other: Route) -> Iterator[_Clash]:
    for parent in route.parents:
        for other_parent in other.parents:
            if not parent.shares_listener(other_parent):
                continue
            for host in route.hostnames:
                for _, other_host in other.hostnames:
                    if not intersect(host[1], other_host):
                        continue
                    pair = next(((p, q) for p in route.paths for q in other.paths if paths_overlap(p, q)), None)
                    if pair is not None:
                        yield _Clash(parent, host, other_host, *pair)


def _clash(route: Route, other: Route) -> _Clash | None:
    """The first hostname and path both routes claim on one listener, preferring a same-name clash."""
    first = None
    for clash in _clashes(route, other):
        if clash.same_name:
            return clash
        first = first or clash
    return first


@rule(OVERLAP_RULE, Severity.ERROR, "no hostname and path is claimed by two HTTPRoutes on the same Gateway listener")
def check_overlap(ctx: CheckContext) -> Iterator[Result]:
    """Two routes on one Gateway with intersecting hostnames and overlapping paths.

    The same hostname on both is an error: for the shared paths Gateway API picks one route
    (by path length, then creation time), and the other silently loses requests. A wildcard
    covering the other's name is a warning: Gateway API deterministically prefers the more
    specific hostname, which may be intended but often is not (an HTTP-to-HTTPS redirect on
    `*.example.com` does not apply to a route for `grafana.example.com` on the same listener).
    Routes without hostnames claim no name and are not compared. Only paths are compared,
    not header, query or method matches. A user route with the identity of a generated one
    is reported by the engine (resource-conflict), not here.
    """
    everything = routes(ctx)
    on_parent: dict[tuple[str, str, str, str], list[int]] = {}
    for i, route in enumerate(everything):
        for target in {parent.target for parent in route.parents}:
            on_parent.setdefault(target, []).append(i)
    pairs = sorted({(j, i) for indexes in on_parent.values() for j in indexes for i in indexes if i < j})
    for j, i in pairs:
        later, earlier = everything[j], everything[i]
        if later.item.identity == earlier.item.identity:
            continue
        # Report on the user's route when there is one (it has a file, and usually the fix).
        route, other = (earlier, later) if later.generated and not earlier.generated else (later, earlier)
        clash = _clash(route, other)
        if clash is not None:
            yield _overlap_result(ctx.config, route, other, clash)


def _overlap_result(config: Config | None, route: Route, other: Route, clash: _Clash) -> Result:
    host, other_host = clash.host[1], clash.other_host
    if clash.same_name:
        severity = Severity.ERROR
        what = (
            f"hostname {host} with path {clash.path} is also claimed by {other.label} (path {clash.other_path}) "
            f"on {clash.parent}: requests that match both go to only one of them"
        )
    else:
        severity = Severity.WARNING
        specific, general = _by_specificity(host, other_host)
        what = (
            f"hostname {host} with path {clash.path} overlaps {other_host} of {other.label} on {clash.parent}: "
            f"requests for {specific} go to the route with that more specific name, never to the one with "
            f"{general} (an HTTP-to-HTTPS redirect on {general}, say, would not apply to them)"
        )
    if route.generated and config is not None:  # two UIs: fixed in the config
        ui = ui_of(config, route.item)
        field = f"spec.ui.{ui}.hostname" if ui else "spec.ui"
        message = f"{route.label}: {what}; give each UI its own hostname"
        return Result(OVERLAP_RULE, severity, message, config.ref, field, config.location)
    fix = "give one route another hostname or path, or attach them to different listeners with sectionName"
    if other.generated and config is not None:
        ui = ui_of(config, other.item)
        if ui:
            fix += f"; to drop the generated route instead, set spec.ui.{ui}.enabled: false in {config.ref}"
    return result(OVERLAP_RULE, severity, f"{what}; {fix}", route.item, ["spec", "hostnames", clash.host[0]])


def _by_specificity(a: str, b: str) -> tuple[str, str]:
    """(more specific, more general) of two intersecting hostnames: a precise name, else the longer wildcard."""
    a_wild, b_wild = a.startswith("*."), b.startswith("*.")
    if a_wild != b_wild:
        return (b, a) if a_wild else (a, b)
    return (a, b) if len(a) >= len(b) else (b, a)


# --- route-attachment ------------------------------------------------------------------------


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

    def of(self, name: str) -> dict[str, str] | None:
        if name not in self.labels:
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


def _verdict(route: Route, listener: Listener, gateway_namespace: str, namespaces: _Namespaces) -> _Verdict:
    """Does one listener accept the route? Kinds, then namespaces, then hostnames."""
    if listener.kinds:
        if (GATEWAY_GROUP, "HTTPRoute") not in listener.kinds:
            kinds = ", ".join(kind for _, kind in listener.kinds)
            return _Verdict(listener, "rejected", f"allowedRoutes.kinds lists {kinds}, not HTTPRoute")
    elif listener.protocol in NON_HTTP_PROTOCOLS:
        protocol = listener.protocol
        return _Verdict(listener, "rejected", f"protocol {protocol} takes {protocol}Route, not HTTPRoute")

    if listener.allowed_from == "Same" and route.namespace != gateway_namespace:
        return _Verdict(
            listener,
            "rejected",
            f"allowedRoutes.namespaces.from is Same (the default), so only routes in namespace {gateway_namespace} "
            "attach (set from: All, or Selector with a selector that matches the route's namespace)",
        )
    if listener.allowed_from == "Selector":
        selector = listener.selector
        labels = namespaces.of(route.namespace)
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

    if listener.hostname and route.hostnames and not any(intersect(h, listener.hostname) for _, h in route.hostnames):
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
    gateways: dict[tuple[str, str], Item] = {}
    for item in ctx.user_objects("Gateway"):
        if is_gateway_api(item) and item.name:
            gateways.setdefault((namespace_of(item), item.name), item)
    namespaces = _Namespaces(ctx)
    missing: dict[tuple[str, str], int] = {}
    findings: list[_Finding] = []
    for route in routes(ctx):
        for parent in route.parents:
            if not parent.is_gateway:
                continue
            gateway = gateways.get((parent.namespace, parent.name))
            if gateway is not None:
                findings.extend(_attach(route, parent, gateway, namespaces))
                continue
            missing[(parent.namespace, parent.name)] = missing.get((parent.namespace, parent.name), 0) + 1
            near = _near_miss(parent, gateways)
            if near is not None:
                message = f"{parent} is not in the pipeline, but Gateway {near[0]}/{near[1]} is: did you mean it?"
                findings.append(_Finding(route, parent, Severity.WARNING, message))
    yield from _report(ctx.config, findings)
    if missing:
        yield _skipped(ctx, missing)


def _report(config: Config | None, findings: list[_Finding]) -> Iterator[Result]:
    on_config: dict[tuple[Severity, str, str], list[str]] = {}
    for finding in findings:
        if finding.route.generated and config is not None:
            field = "spec.gateway" + (".sectionName" if finding.part == "sectionName" else "")
            route = finding.route
            on_config.setdefault((finding.severity, field, finding.message), []).append(
                f"{route.namespace}/{route.item.name}"
            )
            continue
        message = finding.message.replace("{who}", "this route")
        if finding.hostname is not None:
            path: list[str | int] = ["spec", "hostnames", finding.hostname]
        else:
            path = ["spec", "parentRefs", finding.parent.index] + ([finding.part] if finding.part else [])
        yield result(ATTACH_RULE, finding.severity, message, finding.route.item, path)
    for (severity, field, message), names in on_config.items():
        who = f"the generated HTTPRoute{'s' if len(names) > 1 else ''} {', '.join(names)}"
        text = message.replace("{who}", who) if "{who}" in message else f"{who}: {message}"
        yield Result(ATTACH_RULE, severity, text, config.ref, field, config.location)


def _near_miss(parent: ParentRef, gateways: dict[tuple[str, str], Item]) -> tuple[str, str] | None:
    same_name = sorted(key for key in gateways if key[1] == parent.name)
    if same_name:
        return same_name[0]
    in_namespace = [name for ns, name in gateways if ns == parent.namespace]
    if not in_namespace:
        return None
    close = _close_match(parent.name, in_namespace, cutoff=0.8)
    return (parent.namespace, close) if close else None


def _close_match(word: str, candidates: list[str], cutoff: float) -> str | None:
    """The candidate nearest to a name that matched none (difflib: imported only then)."""
    import difflib

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return close[0] if close else None


def _attach(route: Route, parent: ParentRef, gateway: Item, namespaces: _Namespaces) -> Iterator[_Finding]:
    listeners = read_listeners(gateway)
    if not listeners:
        return  # a Gateway without readable listeners: the schema rule reports it
    candidates = listeners
    if parent.section is not None:
        candidates = [listener for listener in listeners if listener.name == parent.section]
        if not candidates:
            names = [listener.name for listener in listeners if listener.name]
            close = _close_match(parent.section, names, cutoff=0.6)
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


def _skipped(ctx: CheckContext, missing: dict[tuple[str, str], int]) -> Result:
    names = sorted(f"{ns}/{name}" for ns, name in missing)
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


# --- route-backend ---------------------------------------------------------------------------


def _chart_of(service: Service) -> str:
    """The chart whose release creates `service` (its name starts with the release name)."""
    owners = [c for c in CHARTS.values() if service.name == c.release or service.name.startswith(c.release + "-")]
    return max(owners, key=lambda c: len(c.release)).name if owners else "?"


def _known_services() -> dict[str, Service]:
    """What a user may mean: each UI's Service, and Loki's."""
    return {**UI_SERVICES, "loki": LOKI_SERVICE}


# Values that change the Service behind a UI (paths under the chart's values; evidence:
# charts.md section 2 and the fullname helper every one of these charts uses; kps values.yaml
# L7/L23 and prometheus|alertmanager.service.port, grafana values service.port and
# service.enabled, alloy values nameOverride/fullnameOverride, alloy.listenPort, service.enabled).
_RENAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "grafana": (("grafana", "fullnameOverride"), ("grafana", "nameOverride")),
    "prometheus": (("fullnameOverride",), ("nameOverride",)),
    "alertmanager": (("fullnameOverride",), ("nameOverride",)),
    "alloy": (("fullnameOverride",), ("nameOverride",)),
}
_PORTS: dict[str, tuple[str, ...]] = {
    "grafana": ("grafana", "service", "port"),
    "prometheus": ("prometheus", "service", "port"),
    "alertmanager": ("alertmanager", "service", "port"),
    "alloy": ("alloy", "listenPort"),
}
_ENABLED: dict[str, tuple[str, ...]] = {
    "grafana": ("grafana", "service", "enabled"),
    "alloy": ("service", "enabled"),
}


@rule(BACKEND_RULE, Severity.ERROR, "HTTPRoute backendRefs name the Services the charts really create, on their ports")
def check_backends(ctx: CheckContext) -> Iterator[Result]:
    config = ctx.config
    if config is None:
        return
    renamed: dict[str, list[str]] = {}  # values field -> the generated routes it breaks
    for route in routes(ctx):
        if route.generated:
            yield from _generated_backends(config, route, renamed)
        else:
            yield from _user_backends(config, route)
    for field, broken in renamed.items():
        yield Result(
            BACKEND_RULE,
            Severity.WARNING,
            f"{field} renames the chart's Services, but the generated {' and '.join(broken)} (and the rest of the "
            "stack) expect the default names: remove it",
            config.ref,
            field,
            config.location,
        )


def _generated_backends(config: Config, route: Route, renamed: dict[str, list[str]]) -> Iterator[Result]:
    """Our own routes: the backend is the UI's chart Service, and no value override moves that Service."""
    ui = ui_of(config, route.item)
    expected = UI_SERVICES.get(ui or "")
    if ui is None or expected is None:
        return
    for backend in route.backends:
        wanted = ("Service", "", config.namespace, expected.name, expected.port)
        if (backend.kind, backend.group, backend.namespace, backend.name, backend.port) != wanted:
            yield result(
                BACKEND_RULE,
                Severity.ERROR,
                f"observability-fn bug: the generated route sends to {backend.kind} {backend.namespace}/"
                f"{backend.name}:{backend.port}, but the {_chart_of(expected)} chart serves {ui} as Service "
                f"{config.namespace}/{expected.name}:{expected.port}; please report this",
                route.item,
                ["spec", "rules", backend.rule_index, "backendRefs", backend.index],
                config.location,
            )
    chart = _chart_of(expected)
    values = config.values.get(chart, {})
    target = f"HTTPRoute {route.namespace}/{route.item.name} ({expected.name}:{expected.port})"
    for path in _RENAMES.get(ui, ()):
        value = dig(values, path)
        if isinstance(value, str) and value:
            renamed.setdefault(_values_field(chart, path), []).append(target)
    port_path = _PORTS.get(ui)
    port = dig(values, port_path) if port_path else None
    if port_path and port is not None and str(port) != str(expected.port):
        yield _on_values(
            config,
            chart,
            port_path,
            f"moves the {ui} Service off port {expected.port}, which the generated {target} sends to: remove it",
        )
    enabled_path = _ENABLED.get(ui)
    if enabled_path and dig(values, enabled_path) is False:
        yield _on_values(
            config,
            chart,
            enabled_path,
            f"removes the {ui} Service the generated {target} sends to: remove it, or set spec.ui.{ui}.enabled: false",
        )


def _values_field(chart: str, path: tuple[str, ...]) -> str:
    return f"spec.values.{chart}." + ".".join(path)


def _on_values(config: Config, chart: str, path: tuple[str, ...], message: str) -> Result:
    field = _values_field(chart, path)
    return Result(BACKEND_RULE, Severity.ERROR, f"{field} {message}", config.ref, field, config.location)


def _user_backends(config: Config, route: Route) -> Iterator[Result]:
    """Warn when a route into the stack's namespace means one of our Services but names it wrongly."""
    known = _known_services()
    for backend in route.backends:
        if backend.kind != "Service" or backend.group != "" or backend.namespace != config.namespace:
            continue
        meant = _meant(backend.name, known)
        if meant is None:
            continue
        key, service = meant
        field: list[str | int] = ["spec", "rules", backend.rule_index, "backendRefs", backend.index]
        if backend.name != service.name:
            yield result(
                BACKEND_RULE,
                Severity.WARNING,
                f"backendRef {show(backend.name)} looks like the {key} Service, but the {_chart_of(service)} chart "
                f"creates it as {service.name} (port {service.port}): use name: {service.name}, port: {service.port}",
                route.item,
                [*field, "name"],
            )
        elif backend.port is not None and backend.port != service.port:
            yield result(
                BACKEND_RULE,
                Severity.WARNING,
                f"Service {service.name} serves {key} on port {service.port}, not {backend.port} "
                f"(a container's targetPort is not the Service's port): use port: {service.port}",
                route.item,
                [*field, "port"],
            )


def _meant(name: str, known: dict[str, Service]) -> tuple[str, Service] | None:
    """Which of our Services a backendRef name means: exact, the bare UI name, `*-<ui>`, or a near typo."""
    for key, service in known.items():
        if name == service.name:
            return key, service
    for key, service in known.items():
        if name == key or name.endswith("-" + key):
            return key, service
    names = {service.name: key for key, service in known.items()}
    close = _close_match(name, list(names), cutoff=0.85)
    return (names[close], known[names[close]]) if close else None
