"""A tolerant model of HTTPRoutes and Gateway listeners, with Gateway API defaults applied.

Gateway API facts (docs/reference/crds.md#5-gateway-api-hostname-rules, gateway-api v1.6.1): a parentRef
defaults to group gateway.networking.k8s.io, kind Gateway and the route's namespace; a
route with no `hostnames` matches any listener; a listener with no `hostname` matches any
route; `allowedRoutes.namespaces.from` defaults to Same; `allowedRoutes.kinds`, when unset
or empty, follows the listener protocol (HTTP and HTTPS take HTTPRoute).

Every reader here is tolerant: a field of the wrong type is skipped, never an exception.
The `schema` rule reports shape errors; the route rules do not report them a second time.
"""

from __future__ import annotations

from krm_fn.checks.base import CheckContext
from krm_fn.config import Config
from krm_fn.gateway.chart_hosts import ChartRoute
from krm_fn.gateway.hostnames import is_valid
from krm_fn.items import Item
from krm_fn.placeholders import has_placeholder
from krm_fn.record import Record

GATEWAY_GROUP = "gateway.networking.k8s.io"
NAME_LABEL = "kubernetes.io/metadata.name"  # set on every Namespace by the API server
NON_HTTP_PROTOCOLS = ("TCP", "UDP", "TLS")  # listeners whose default route kind is not HTTPRoute


def is_gateway_api(item: Item) -> bool:
    api_version = item.api_version or ""
    return api_version.split("/", 1)[0] == GATEWAY_GROUP and "/" in api_version


def spec_of(item: Item) -> dict:
    spec = item.obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def ui_of(config: Config, route: Item) -> str | None:
    """The UI a generated route serves: routes are named after their UI; else the one whose hostname it carries."""
    if any(ui.name == route.name for ui in config.ui):
        return route.name
    hostnames = spec_of(route).get("hostnames")
    hostnames = hostnames if isinstance(hostnames, list) else []
    return next((ui.name for ui in config.exposed_uis if ui.hostname in hostnames), None)


def qualified(namespace: str | None, name: str) -> str:
    """namespace/name, or the name alone when the namespace is not known yet."""
    return f"{namespace}/{name}" if namespace is not None else name


class ParentRef(Record):
    index: int
    group: str
    kind: str
    namespace: str | None  # None: set later (by kustomize's `namespace:` or Flux's targetNamespace)
    name: str
    section: str | None
    port: int | None

    @property
    def target(self) -> tuple[str, str, str | None, str]:
        return (self.group, self.kind, self.namespace, self.name)

    @property
    def unknown(self) -> bool:
        """Does Flux's post-build substitution decide which parent this is?"""
        return has_placeholder(self.name) or has_placeholder(self.group) or has_placeholder(self.kind)

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
        shown = qualified(self.namespace, self.name)
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
    namespace: str | None
    name: str
    port: int | None


class Route(Record):
    item: Item
    namespace: str | None  # None: set later (kustomize `namespace:`, Flux targetNamespace), never "default"
    hostnames: tuple[tuple[int, str], ...]  # (index in spec.hostnames, name), valid names only
    parents: tuple[ParentRef, ...]
    paths: tuple[PathMatch, ...]
    backends: tuple[BackendRef, ...]
    unknown_hostnames: bool = False  # some hostname is a substitution placeholder: known only after Flux runs

    @property
    def generated(self) -> bool:
        return self.item.generated

    @property
    def label(self) -> str:
        """How a message names this route: kind, namespace/name and, for the user's, where it is."""
        name = f"HTTPRoute {qualified(self.namespace, self.item.name or '')}"
        if isinstance(self.item, ChartRoute):
            return self.item.label()
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


def namespace_of(item: Item) -> str | None:
    """The object's namespace; None when it is set later.

    An object without metadata.namespace gets one from kustomize's `namespace:` or Flux's
    `targetNamespace` after this function has seen it (only kubectl would put it in `default`);
    a substitution placeholder is known only after Flux's post-build substitution.
    """
    namespace = item.namespace
    return namespace if namespace and not has_placeholder(namespace) else None


def _namespace(value: object, default: str | None) -> str | None:
    """An explicit namespace field (None when it is a placeholder), else the default."""
    value = _str(value)
    if value is None:
        return default
    return None if has_placeholder(value) else value


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
                _namespace(ref.get("namespace"), namespace),
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
                        _namespace(ref.get("namespace"), namespace),
                        ref["name"],
                        _int(ref.get("port")),
                    )
                )
    unknown = any(has_placeholder(host) for host in _list(spec.get("hostnames")))
    return Route(item, namespace, hostnames, tuple(parents), tuple(paths), tuple(backends), unknown)


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


def close_match(word: str, candidates: list[str], cutoff: float) -> str | None:
    """The candidate nearest to a name that matched none (difflib: imported only then)."""
    import difflib  # start-up budget: docs/startup.md

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return close[0] if close else None
