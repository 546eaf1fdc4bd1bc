"""Rule: no hostname and path is claimed by two HTTPRoutes on one Gateway listener.

Facts: docs/reference/crds.md#5-gateway-api-hostname-rules.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, on_config, result, rule
from krm_fn.config import Config
from krm_fn.gateway.chart_hosts import ChartRoute, chart_routes, known_host, rendered_hosts
from krm_fn.gateway.hostnames import intersect
from krm_fn.gateway.model import ParentRef, PathMatch, Route, paths_overlap, read_route, routes, ui_of
from krm_fn.record import Record
from krm_fn.results import Result, Severity

OVERLAP_RULE = "route-overlap"


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
    rendered = chart_routes(ctx.user_objects("HelmRelease"), ctx.user_objects("OCIRepository"))
    everything = routes(ctx) + [read_route(item) for item in rendered]
    for j, i in _candidate_pairs(everything):
        later, earlier = everything[j], everything[i]
        if later.item.identity == earlier.item.identity:
            continue
        if (later.generated and isinstance(earlier.item, ChartRoute)) or (
            earlier.generated and isinstance(later.item, ChartRoute)
        ):
            continue  # the UIs against chart values: _against_chart_values
        # Report on the user's route when there is one (it has a file, and usually the fix).
        route, other = (earlier, later) if later.generated and not earlier.generated else (later, earlier)
        clash = _clash(route, other)
        if clash is not None:
            yield _overlap_result(ctx.config, route, other, clash)
    yield from _against_chart_values(ctx, [route for route in everything if route.generated])


def _candidate_pairs(everything: list[Route]) -> list[tuple[int, int]]:
    """(j, i), i < j, of the routes that share a parent and could share a hostname: each name
    against the same name and the wildcards, not every route against every other (a homelab
    has hundreds of routes on one Gateway)."""
    on_parent: dict[tuple, list[int]] = {}
    for i, route in enumerate(everything):
        for target in {parent.target for parent in route.parents}:
            on_parent.setdefault(target, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for indexes in on_parent.values():
        exact: dict[str, list[int]] = {}
        wild: list[tuple[str, int]] = []
        for i in indexes:
            for _, host in everything[i].hostnames:
                if host.startswith("*."):
                    wild.append((host, i))
                else:
                    exact.setdefault(host, []).append(i)
        for same in exact.values():
            pairs.update((max(a, b), min(a, b)) for a in same for b in same if a != b)
        for host, i in wild:
            pairs.update(
                (max(i, j), min(i, j)) for name, js in exact.items() if intersect(host, name) for j in js if j != i
            )
            pairs.update((max(i, j), min(i, j)) for other, j in wild if j != i and intersect(host, other))
    return sorted(pairs)


def _against_chart_values(ctx: CheckContext, generated: list[Route]) -> Iterator[Result]:
    """The UIs' hostnames against the routes and ingresses HelmRelease values make charts render.

    A warning: which Gateway (or ingress controller) and paths the chart's objects use is not
    known here, only that the same name is asked for twice.
    """
    config = ctx.config
    if config is None or not generated:
        return
    ours = {route.item.identity for route in generated} | {item.identity for item in ctx.generated}
    releases = [release for release in ctx.user_objects("HelmRelease") if release.identity not in ours]
    # What each release's chart renders: app-template's routes unless disabled, other charts' only when enabled.
    for release, path, written in rendered_hosts(releases, ctx.user_objects("OCIRepository")):
        host = known_host(written)
        if host is None:
            continue
        for route in generated:
            if not any(intersect(host, name) for _, name in route.hostnames):
                continue
            ui = ui_of(config, route.item)
            fix = (
                f"give one of them another hostname (spec.ui.{ui}.hostname in {config.ref})"
                if ui
                else ("give one of them another hostname")
            )
            if ui:
                fix += f", or set spec.ui.{ui}.enabled: false"
            kind = "an HTTPRoute" if path[0] == "route" else "an Ingress"
            yield result(
                OVERLAP_RULE,
                Severity.WARNING,
                f"values ask the chart for {kind} for {host}, which {route.label} also claims: requests for it "
                f"would reach only one of them; {fix}",
                release,
                ["spec", "values", *path],
            )
            break


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
        return on_config(OVERLAP_RULE, severity, message, config, field)
    fix = "give one route another hostname or path, or attach them to different listeners with sectionName"
    if other.generated and config is not None:
        ui = ui_of(config, other.item)
        if ui:
            fix += f"; to drop the generated route instead, set spec.ui.{ui}.enabled: false in {config.ref}"
    item, path = route.item, ["spec", "hostnames", clash.host[0]]
    if isinstance(item, ChartRoute):
        item, path = item.source(path)
    return result(OVERLAP_RULE, severity, f"{what}; {fix}", item, path)


def _by_specificity(a: str, b: str) -> tuple[str, str]:
    """(more specific, more general) of two intersecting hostnames: a precise name, else the longer wildcard."""
    a_wild, b_wild = a.startswith("*."), b.startswith("*.")
    if a_wild != b_wild:
        return (b, a) if a_wild else (a, b)
    return (a, b) if len(a) >= len(b) else (b, a)
