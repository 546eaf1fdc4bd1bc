"""Hostnames and HTTPRoutes that a HelmRelease's values make its chart render.

The values conventions read here (a chart that renders them is what makes them real):
  * `route.<name>` (bjw-s app-template v3+ and charts modelled on it): an HTTPRoute per block,
    with `hostnames`, `parentRefs` and `rules[].matches`; app-template renders a block unless
    `enabled: false`, other charts only with `enabled: true` (kube-prometheus-stack's
    `alertmanager.route.main`, grafana's `route.main`). A `route` holding `hostnames` itself is one
    block (victoria-logs' `server.route`);
  * `ingress.<name>.hosts[].host` (app-template's Ingresses, the same rule for `enabled`);
  * `ingress.hosts[]` (names, or maps with `host`): the common single-Ingress layout (grafana,
    bitnami and most others), rendered only with `ingress.enabled: true`;
  * the same one level down, under a subchart's or a component's key
    (`grafana.ingress.hosts`, `prometheus.route.main.hostnames`): only with `enabled: true`.
Which chart a release installs: `spec.chart.spec.chart`, or the last segment of the URL of the
OCIRepository its `spec.chartRef` names (onedr0p-style repositories name that OCIRepository
after the app). Hostnames made of Helm templates (`{{ }}`) are unknown and skipped; Flux
placeholders are left for the rules to treat as unknown.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.items import Item
from krm_fn.placeholders import has_placeholder
from krm_fn.results import Location, ResourceRef

Path = tuple[str | int, ...]
APP_TEMPLATE = "app-template"
GATEWAY_VERSION = "gateway.networking.k8s.io/v1"


def known_host(host: object) -> str | None:
    """The hostname, lowercased, unless it is empty, templated (`{{`) or a Flux placeholder."""
    if not isinstance(host, str) or not host or "{{" in host or has_placeholder(host):
        return None
    return host.strip().lower()


def _rendered(block: dict, renders_unless_off: bool) -> bool:
    enabled = block.get("enabled")
    return enabled is not False if renders_unless_off else enabled is True


def _hosts(hosts: object, path: Path) -> Iterator[tuple[Path, str]]:
    """Names in a `hosts` list whose items are names or maps with `host` (as written)."""
    for index, entry in enumerate(hosts if isinstance(hosts, list) else []):
        if isinstance(entry, dict):
            host, where = entry.get("host"), (*path, index, "host")
        else:
            host, where = entry, (*path, index)
        if isinstance(host, str) and "{{" not in host:
            yield where, host


def route_blocks(values: object, app_template: bool) -> Iterator[tuple[Path, dict]]:
    """(path under spec.values, block) of each `route` block the chart renders."""
    if not isinstance(values, dict):
        return
    scopes: list[tuple[Path, dict, bool]] = [((), values, app_template)]
    scopes += [((str(k),), v, False) for k, v in values.items() if isinstance(v, dict) and k != "route"]
    for prefix, scope, unless_off in scopes:
        route = scope.get("route")
        if not isinstance(route, dict):
            continue
        if "hostnames" in route or "parentRefs" in route:
            if _rendered(route, unless_off):
                yield (*prefix, "route"), route
            continue
        for name, block in route.items():
            if isinstance(block, dict) and _rendered(block, unless_off):
                yield (*prefix, "route", str(name)), block


def value_hosts(values: object, app_template: bool) -> Iterator[tuple[Path, str]]:
    """(path under spec.values, hostname as written) of each route or ingress host the chart renders."""
    if not isinstance(values, dict):
        return
    for path, block in route_blocks(values, app_template):
        hostnames = block.get("hostnames")
        for index, host in enumerate(hostnames if isinstance(hostnames, list) else []):
            if isinstance(host, str) and "{{" not in host:
                yield (*path, "hostnames", index), host
    scopes: list[tuple[Path, dict, bool]] = [((), values, app_template)]
    scopes += [((str(k),), v, False) for k, v in values.items() if isinstance(v, dict) and k != "ingress"]
    for prefix, scope, unless_off in scopes:
        ingress = scope.get("ingress")
        if not isinstance(ingress, dict):
            continue
        if ingress.get("enabled") is True:
            yield from _hosts(ingress.get("hosts"), (*prefix, "ingress", "hosts"))
        for name, block in ingress.items():
            if isinstance(block, dict) and isinstance(block.get("hosts"), list) and _rendered(block, unless_off):
                yield from _hosts(block["hosts"], (*prefix, "ingress", str(name), "hosts"))


def chart_hostnames(values: object, app_template: bool = True) -> Iterator[tuple[Path, str]]:
    """(path under spec.values, lowercased hostname) of each known host the values ask the chart for."""
    for path, host in value_hosts(values, app_template):
        known = known_host(host)
        if known:
            yield path, known


def chart_of(release: Item, oci_urls: dict[tuple[str | None, str], str]) -> str:
    """The chart a HelmRelease installs, as far as its files say (`""` when unknown)."""
    spec = release.obj.get("spec") if isinstance(release.obj.get("spec"), dict) else {}
    chart = spec.get("chart")
    inner = chart.get("spec") if isinstance(chart, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get("chart"), str):
        return inner["chart"].rstrip("/").rsplit("/", 1)[-1]
    ref = spec.get("chartRef")
    if isinstance(ref, dict) and ref.get("kind") == "OCIRepository" and isinstance(ref.get("name"), str):
        namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else release.namespace
        url = oci_urls.get((namespace, ref["name"])) or oci_urls.get((None, ref["name"]), "")
        return url.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0] if url else ref["name"]
    return ""


def is_app_template(chart: str) -> bool:
    return APP_TEMPLATE in chart


class ChartRoute(Item):
    """The HTTPRoute a `route` block of HelmRelease values renders, for the route rules; its
    locations are the values' lines in the HelmRelease's file."""

    def __init__(self, release: Item, path: Path, block: dict, namespace: str | None):
        name = f"{release.name}-{path[-1]}" if path[-1] != "route" else str(release.name)
        spec: dict = {}
        for key in ("hostnames", "parentRefs"):
            if isinstance(block.get(key), list):
                spec[key] = block[key]
        rules = block.get("rules")
        if isinstance(rules, list):
            spec["rules"] = [{"matches": r.get("matches")} for r in rules if isinstance(r, dict)]
        elif isinstance(block.get("matches"), list):
            spec["rules"] = [{"matches": block["matches"]}]
        metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
        data = {"apiVersion": GATEWAY_VERSION, "kind": "HTTPRoute", "metadata": metadata, "spec": spec}
        super().__init__(raw=None, data=data, file=release.file)
        self.release = release
        self.values_path = path

    def source(self, field_path: list[str | int] | None) -> tuple[Item, list[str | int]]:
        """The HelmRelease and the field of its values that a field of this route comes from."""
        path: list[str | int] = ["spec", "values", *self.values_path]
        if field_path and field_path[:2] == ["spec", "hostnames"]:
            path += ["hostnames", *field_path[2:]]
        return self.release, path

    def location(self, field_path: list[str | int] | None = None) -> Location:
        release, path = self.source(field_path)
        return release.location(path)

    @property
    def ref(self) -> ResourceRef:
        return self.release.ref

    def label(self) -> str:
        shown = ".".join(str(p) for p in self.values_path)
        return f"the HTTPRoute of {self.release.ref} values.{shown} ({self.location()})"


def chart_routes(releases: list[Item], ocirepositories: list[Item]) -> list[ChartRoute]:
    """The HTTPRoutes the releases' values render, in the namespace the release installs into."""
    urls = _urls(ocirepositories)
    found = []
    for release in releases:
        spec = release.obj.get("spec")
        if not isinstance(spec, dict):
            continue
        target = spec.get("targetNamespace")
        namespace = target if isinstance(target, str) and target else release.namespace
        app_template = is_app_template(chart_of(release, urls))
        for path, block in route_blocks(spec.get("values"), app_template):
            found.append(ChartRoute(release, path, block, namespace))
    return found


def _urls(ocirepositories: list[Item]) -> dict[tuple[str | None, str], str]:
    urls: dict[tuple[str | None, str], str] = {}
    for repo in ocirepositories:
        spec = repo.obj.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("url"), str) and repo.name:
            urls[(repo.namespace, repo.name)] = spec["url"]
            urls.setdefault((None, repo.name), spec["url"])
    return urls


def rendered_hosts(releases: list[Item], ocirepositories: list[Item]) -> Iterator[tuple[Item, Path, str]]:
    """(release, path under spec.values, hostname as written) of each host the releases' charts render."""
    urls = _urls(ocirepositories)
    for release in releases:
        spec = release.obj.get("spec")
        if isinstance(spec, dict):
            app_template = is_app_template(chart_of(release, urls))
            for path, host in value_hosts(spec.get("values"), app_template):
                yield release, path, host
