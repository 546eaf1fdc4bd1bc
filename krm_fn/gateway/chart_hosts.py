"""Hostnames that a HelmRelease's values make its chart render as routes or ingresses.

The values conventions read here (a chart that renders them is what makes them real):
  * `route.<name>.hostnames[]`: bjw-s app-template (v3+) and charts modelled on it, an HTTPRoute
    per enabled `route.<name>` (enabled unless `enabled: false`);
  * `ingress.<name>.hosts[].host`: app-template's Ingresses (enabled unless `enabled: false`);
  * `ingress.hosts[]` (names, or maps with `host`): the common single-Ingress layout (grafana,
    bitnami and most others), rendered only with `ingress.enabled: true`.
Hostnames made of Helm templates (`{{ }}`) or Flux substitution placeholders are unknown and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.placeholders import has_placeholder

Path = tuple[str | int, ...]


def _known(host: object) -> str | None:
    if not isinstance(host, str) or not host or "{{" in host or has_placeholder(host):
        return None
    return host.strip().lower()


def _hosts(hosts: object, path: Path) -> Iterator[tuple[Path, str]]:
    """Names in a `hosts` list whose items are names or maps with `host`."""
    for index, entry in enumerate(hosts if isinstance(hosts, list) else []):
        if isinstance(entry, dict):
            host, where = _known(entry.get("host")), (*path, index, "host")
        else:
            host, where = _known(entry), (*path, index)
        if host:
            yield where, host


def chart_hostnames(values: object) -> Iterator[tuple[Path, str]]:
    """(path under spec.values, hostname) of each route or ingress host the values ask the chart for."""
    if not isinstance(values, dict):
        return
    route = values.get("route")
    if isinstance(route, dict):
        for name, block in route.items():
            if isinstance(block, dict) and block.get("enabled") is not False:
                hostnames = block.get("hostnames")
                for index, host in enumerate(hostnames if isinstance(hostnames, list) else []):
                    known = _known(host)
                    if known:
                        yield ("route", str(name), "hostnames", index), known
    ingress = values.get("ingress")
    if not isinstance(ingress, dict):
        return
    if ingress.get("enabled") is True:
        yield from _hosts(ingress.get("hosts"), ("ingress", "hosts"))
    for name, block in ingress.items():
        if isinstance(block, dict) and isinstance(block.get("hosts"), list) and block.get("enabled") is not False:
            yield from _hosts(block["hosts"], ("ingress", str(name), "hosts"))
