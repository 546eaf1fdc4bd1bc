"""What the cluster gets from our HelmReleases, rendered by real helm from the published charts.

The fixtures (tests/rendered/, tests/helm_render.py) must belong to the current goldens, and the
wiring that only shows after helm renders must hold: the files Alertmanager's receivers read are
mounted, the external URLs are the routes' URLs, Alloy and Grafana reach Services and ports that
exist, and every route backend is a rendered Service port.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import urlsplit

import pytest
import yaml

from krm_fn import charts
from scripts import release_matrix
from tests.helm_render import (
    CASES,
    GOLDEN,
    find,
    golden,
    header,
    matrix_fixture,
    of_kind,
    releases,
    rendered,
    unrendered,
)

GOLDEN_CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _values_digest(release: dict) -> str:
    values = release["spec"].get("values") or {}
    return hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _chart_of(release: dict, stack: list[dict]) -> str:
    spec = release["spec"]
    if "chartRef" in spec:
        name = spec["chartRef"]["name"]
        source = next(o for o in stack if o["kind"] == "OCIRepository" and o["metadata"]["name"] == name)
        return f"{source['spec']['url'].rsplit('/', 1)[1]}@{source['spec']['ref']['tag']}"
    chart = spec["chart"]["spec"]
    return f"{chart['chart']}@{chart['version']}"


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_every_helm_release_has_a_fixture_of_its_current_values(case: str):
    stack = golden(case)
    expected = set()
    for release in of_kind(stack, "HelmRelease"):
        name = release["metadata"]["name"]
        expected.add(name)
        assert name in releases(case), f"no tests/rendered/{case}/{name}.yaml; run make rendered"
        head = header(case, name)
        if "unrendered" not in head:
            assert head["chart"].split()[0] == _chart_of(release, stack), f"{case}/{name}: chart changed"
        assert head["values"] == f"sha256 {_values_digest(release)}", (
            f"tests/rendered/{case}/{name}.yaml was rendered from other values than tests/golden/{case}/stack.yaml "
            "holds; run scripts/update-golden.sh then make rendered"
        )
    assert set(releases(case)) == expected, "fixtures of HelmReleases that are no longer generated"


def _unrendered_service(case: str, service: str) -> bool:
    """A Service of a HelmRelease whose chart cannot be rendered (UNRENDERED says why)."""
    return any(service.startswith(name) for name in unrendered(case))


def _routes(case: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in of_kind(golden(case), "HTTPRoute")}


def _route_url(route: dict, scheme: str = "https") -> str:
    return f"{scheme}://{route['spec']['hostnames'][0]}"


def _services(objects: list[dict]) -> dict[tuple[str, str], set[int]]:
    """(namespace, name) -> the ports of every rendered Service."""
    out: dict[tuple[str, str], set[int]] = {}
    for svc in of_kind(objects, "Service"):
        ports = {p["port"] for p in svc["spec"].get("ports", [])}
        out[(svc["metadata"].get("namespace", "monitoring"), svc["metadata"]["name"])] = ports
    return out


def _alertmanager_config(objects: list[dict]) -> dict:
    secret = find(objects, "Secret", "alertmanager-kube-prometheus-stack-alertmanager")
    text = (
        secret.get("stringData", {}).get("alertmanager.yaml")
        or base64.b64decode(secret["data"]["alertmanager.yaml"]).decode()
    )
    return yaml.safe_load(text)


def _alertmanager_mounts(am: dict) -> tuple[set[str], set[str]]:
    """(directories holding a whole Secret, single Secret key files) the alertmanager container sees."""
    spec = am["spec"]
    whole = {f"{charts.ALERTMANAGER_SECRETS_DIR}/{name}/" for name in spec.get("secrets", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    files = set()
    for mount in spec.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret is None:
            continue
        if "items" in secret:
            files |= {f"{mount['mountPath']}/{item['path']}" for item in secret["items"]}
        else:
            whole.add(f"{mount['mountPath']}/")
    return whole, files


def _assert_alertmanager_mounts_exactly_what_it_reads(objects: list[dict]) -> None:
    whole, mounted = _alertmanager_mounts(find(objects, "Alertmanager"))
    assert not whole, f"Alertmanager mounts whole Secrets at {sorted(whole)}"
    files = set()
    for receiver in _alertmanager_config(objects)["receivers"]:
        for kind, configs in receiver.items():
            if kind.endswith("_configs"):
                files |= {v for c in configs for k, v in c.items() if k.endswith("_file")}
    assert files <= mounted, f"{sorted(files - mounted)} are read but not mounted ({sorted(mounted)})"
    assert mounted <= files, f"{sorted(mounted - files)} are mounted but nothing reads them"


@pytest.mark.parametrize("case", CASES)
def test_alertmanager_mounts_exactly_the_secret_keys_it_reads(case: str):
    _assert_alertmanager_mounts_exactly_what_it_reads(rendered(case, "kube-prometheus-stack"))


@pytest.mark.parametrize("case", CASES)
def test_external_urls_are_the_routes(case: str):
    objects = rendered(case, "kube-prometheus-stack")
    routes = _routes(case)
    for kind, ui in (("Prometheus", "prometheus"), ("Alertmanager", "alertmanager")):
        url = find(objects, kind)["spec"].get("externalUrl")
        if ui in routes:
            assert url == _route_url(routes[ui]), f"{kind} externalUrl {url}"
    if "grafana" in routes:
        ini = find(objects, "ConfigMap", "kube-prometheus-stack-grafana")["data"]["grafana.ini"]
        assert f"root_url = {_route_url(routes['grafana'])}" in ini


@pytest.mark.parametrize("case", CASES)
def test_route_backends_are_rendered_service_ports(case: str):
    services = _services(rendered(case))
    for route in _routes(case).values():
        namespace = route["metadata"]["namespace"]
        for rule in route["spec"]["rules"]:
            for ref in rule.get("backendRefs", []):  # none: the Gateway answers 500 itself
                key = (ref.get("namespace", namespace), ref["name"])
                if _unrendered_service(case, ref["name"]):
                    continue
                assert key in services, f"HTTPRoute {route['metadata']['name']}: no rendered Service {key}"
                assert ref["port"] in services[key], f"{key} has ports {services[key]}, not {ref['port']}"


def _reaches(url: str, services: dict[tuple[str, str], set[int]]) -> bool:
    parts = urlsplit(url)
    host = parts.hostname.split(".")
    name, namespace = host[0], host[1] if len(host) > 1 else "monitoring"
    return parts.port in services.get((namespace, name), set())


@pytest.mark.parametrize("case", CASES)
def test_alloy_pushes_to_a_rendered_loki_service(case: str):
    services = _services(rendered(case))
    config = next(c for c in of_kind(rendered(case, "alloy"), "ConfigMap") if "config.alloy" in c.get("data", {}))
    urls = re.findall(r'url\s*=\s*"([^"]+/loki/api/v1/push)"', config["data"]["config.alloy"])
    assert urls, "no loki.write endpoint in the rendered Alloy config"
    for url in urls:
        assert _reaches(url, services), f"Alloy pushes to {url}, which no rendered Service serves"


@pytest.mark.parametrize("case", CASES)
def test_grafana_datasources_reach_rendered_services(case: str):
    services = _services(rendered(case))
    datasource_maps = [
        c
        for c in of_kind(golden(case) + rendered(case), "ConfigMap")
        if c["metadata"].get("labels", {}).get("grafana_datasource") == "1"
    ]
    urls = []
    for cm in datasource_maps:
        for text in cm["data"].values():
            for ds in (yaml.safe_load(text) or {}).get("datasources", []):
                urls.append(ds["url"])
    assert any("loki" in u for u in urls) and any("prometheus" in u for u in urls), urls
    for url in urls:
        if _unrendered_service(case, urlsplit(url).hostname.split(".")[0]):
            continue
        assert _reaches(url, services), f"a Grafana datasource points at {url}, which no rendered Service serves"


# --- the release matrix: the default config at the first and last release of each major ----------

MATRIX_IDS = [f"{chart}-{version}" for chart, version in release_matrix.MATRIX]


def test_the_matrix_covers_the_first_and_last_release_of_every_major():
    stored = set(release_matrix.fixtures())
    wanted = {release_matrix.fixture_name(chart, version) for chart, version in release_matrix.MATRIX}
    assert stored == wanted, "the release matrix changed: make rendered"
    majors = {(chart, version.split(".")[0]) for chart, version in release_matrix.MATRIX}
    assert ("kube-prometheus-stack", "83") in majors and ("loki", "17") in majors


@pytest.mark.parametrize(("chart", "version"), release_matrix.MATRIX, ids=MATRIX_IDS)
def test_a_matrix_fixture_was_rendered_from_what_the_function_writes_now(chart: str, version: str):
    """The function's output for the matrix config is regenerated in-process and its values digest
    compared with the fixture's: a change to the generated values needs `make rendered`."""
    head, _ = matrix_fixture(chart, version)
    stack = release_matrix.stack(chart, version)
    release = find(stack, "HelmRelease", chart)
    assert head["chart"].split()[0] == _chart_of(release, stack)
    assert head["values"] == f"sha256 {_values_digest(release)}", (
        f"tests/rendered/matrix/{chart}.tar.xz ({chart} {version}) was rendered from other values than the "
        "function writes now; run make rendered"
    )


KPS_MATRIX = [(c, v) for c, v in release_matrix.MATRIX if c == "kube-prometheus-stack"]
LOKI_MATRIX = [(c, v) for c, v in release_matrix.MATRIX if c == "loki"]


@pytest.mark.parametrize(("chart", "version"), KPS_MATRIX, ids=[v for _, v in KPS_MATRIX])
def test_every_kube_prometheus_stack_major_mounts_what_alertmanager_reads(chart: str, version: str):
    _, objects = matrix_fixture(chart, version)
    _assert_alertmanager_mounts_exactly_what_it_reads(objects)
    routes = _routes("default")
    assert find(objects, "Prometheus")["spec"].get("externalUrl") == _route_url(routes["prometheus"])


@pytest.mark.parametrize(("chart", "version"), LOKI_MATRIX, ids=[v for _, v in LOKI_MATRIX])
def test_every_loki_major_serves_the_urls_alloy_and_grafana_use(chart: str, version: str):
    """Alloy's push URL (its HelmRelease values) and Grafana's Loki datasource (a ConfigMap) name a
    Service and port that this Loki release renders."""
    _, objects = matrix_fixture(chart, version)
    services = _services(objects)
    urls = set(re.findall(r'(http://loki[^"\\ ]*)', json.dumps(release_matrix.stack(chart, version))))
    assert len(urls) >= 2, f"the push URL and the datasource URL: {urls}"
    for url in urls:
        assert _reaches(url, services), f"{url} reaches no Service rendered by loki {version}"
