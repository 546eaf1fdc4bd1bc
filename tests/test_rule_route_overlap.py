"""route-overlap: overlapping claims of HTTPRoutes on one listener, and path overlap.

Facts: docs/reference/crds.md#5-gateway-api-hostname-rules.
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from krm_fn.checks.route_overlap import check_overlap
from krm_fn.gateway.model import PathMatch, paths_overlap
from krm_fn.results import Severity
from tests.helpers import (
    DEFAULT_CONFIG_FILE,
    FUNCTION,
    GATEWAY,
    config_with,
    default_config,
    route_yaml,
    run_krm,
    summary,
    user_route,
)
from tests.helpers import (
    rule_run as run,
)
from tests.tools import tool

# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("PathPrefix", "/"), ("PathPrefix", "/api"), True),
        (("PathPrefix", "/api"), ("PathPrefix", "/api/v1"), True),
        (("PathPrefix", "/api/"), ("PathPrefix", "/api"), True),
        (("PathPrefix", "/api"), ("PathPrefix", "/apis"), False),  # segments, not characters
        (("PathPrefix", "/a"), ("PathPrefix", "/b"), False),
        (("Exact", "/api"), ("Exact", "/api"), True),
        (("Exact", "/api"), ("Exact", "/api/"), False),
        (("Exact", "/api/v1"), ("PathPrefix", "/api"), True),
        (("Exact", "/apis"), ("PathPrefix", "/api"), False),
        (("Exact", "/"), ("PathPrefix", "/api"), False),
        (("Exact", "/anything"), ("PathPrefix", "/"), True),
        (("RegularExpression", "/x/[0-9]+"), ("Exact", "/y"), True),  # regex: always treated as overlapping
    ],
)
def test_path_overlap_table(a, b, expected):
    assert paths_overlap(PathMatch(*a), PathMatch(*b)) is expected
    assert paths_overlap(PathMatch(*b), PathMatch(*a)) is expected


# --- route-overlap ---------------------------------------------------------------------------


def test_distinct_hostnames_paths_or_gateways_do_not_overlap():
    files = {
        "home.yaml": route_yaml("home", ["home.catinthehack.ca"]),
        "api.yaml": user_route(
            "api",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: [api.catinthehack.ca]
            rules: [{matches: [{path: {type: PathPrefix, value: /api}}]}]
            """,
        ),
        "apis.yaml": user_route(
            "apis",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: [api.catinthehack.ca]
            rules: [{matches: [{path: {type: PathPrefix, value: /apis}}]}]
            """,
        ),
        "other-gateway.yaml": user_route(
            "grafana-internal",
            """
            parentRefs: [{name: internal, namespace: traefik}]
            hostnames: [grafana.catinthehack.ca]
            """,
        ),
        "other-listener.yaml": user_route(
            "a",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik, sectionName: web}]
            hostnames: [shared.catinthehack.ca]
            """,
        ),
        "other-listener-2.yaml": user_route(
            "b",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik, sectionName: websecure}]
            hostnames: [shared.catinthehack.ca]
            """,
        ),
        "catch-all.yaml": user_route("catch-all", "parentRefs: [{name: traefik-gateway, namespace: traefik}]"),
    }
    assert run(check_overlap, files) == []


def test_a_user_route_claiming_a_generated_hostname_is_an_error_naming_both():
    files = {"apps/grafana.yaml": route_yaml("my-grafana", ["grafana.catinthehack.ca"], namespace="apps")}
    results = run(check_overlap, files)
    assert summary(results) == [("route-overlap", "error", "spec.hostnames[0]", "HTTPRoute apps/my-grafana")]
    message = results[0].message
    assert "hostname grafana.catinthehack.ca with path PathPrefix / is also claimed by" in message
    assert "the generated HTTPRoute monitoring/grafana (path PathPrefix /)" in message
    assert "on Gateway traefik/traefik-gateway" in message
    assert "set spec.ui.grafana.enabled: false in ObservabilityConfig observability" in message
    assert results[0].location.path == "apps/grafana.yaml"


def test_two_user_routes_with_one_hostname_name_each_other_and_their_files():
    files = {
        "a/first.yaml": user_route(
            "first",
            """
            parentRefs: [{name: gw, namespace: infra}]
            hostnames: [app.example.com]
            rules: [{matches: [{path: {type: Exact, value: /login}}]}]
            """,
            namespace="a",
        ),
        # the parentRef namespace defaults to the route's own: infra/gw again
        "infra/second.yaml": user_route(
            "second",
            """
            parentRefs: [{name: gw}]
            hostnames: [other.example.com, app.example.com]
            rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]
            """,
            namespace="infra",
        ),
    }
    results = run(check_overlap, files, config=False)
    assert summary(results) == [("route-overlap", "error", "spec.hostnames[1]", "HTTPRoute infra/second")]
    assert "also claimed by HTTPRoute a/first (a/first.yaml:1) (path Exact /login)" in results[0].message
    assert results[0].location.path == "infra/second.yaml"


def test_regular_expression_paths_overlap_anything_on_the_same_host():
    files = {
        "r.yaml": user_route(
            "regex",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: [prometheus.catinthehack.ca]
            rules: [{matches: [{path: {type: RegularExpression, value: "/graph/.*"}}]}]
            """,
        )
    }
    results = run(check_overlap, files)
    assert summary(results) == [("route-overlap", "error", "spec.hostnames[0]", "HTTPRoute monitoring/regex")]


def test_a_wildcard_over_a_generated_hostname_is_a_warning_that_explains_precedence():
    files = {
        "redirect.yaml": user_route(
            "https-redirect",
            """
            parentRefs: [{name: traefik-gateway, namespace: traefik}]
            hostnames: ["*.catinthehack.ca"]
            rules:
              - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]
            """,
            namespace="traefik",
        )
    }
    results = run(check_overlap, files)
    # One per generated route: grafana, prometheus, alertmanager, alloy.
    assert [(r.rule, r.severity) for r in results] == [("route-overlap", Severity.WARNING)] * 4
    assert "requests for grafana.catinthehack.ca go to the route with that more specific name" in results[0].message
    assert "sectionName" in results[0].message


def test_two_uis_with_one_hostname_is_an_error_on_the_config():
    config = config_with(ui={"alloy": {"hostname": "grafana.catinthehack.ca"}})
    results = run(check_overlap, config=config)
    assert summary(results) == [
        ("route-overlap", "error", "spec.ui.alloy.hostname", "ObservabilityConfig observability")
    ]
    assert "give each UI its own hostname" in results[0].message


def test_a_copy_of_a_generated_route_is_left_to_the_engine():
    # Same kind/namespace/name as the generated route: the engine reports resource-conflict.
    files = {"seed/httproute-grafana.yaml": route_yaml("grafana", ["grafana.catinthehack.ca"])}
    assert run(check_overlap, files) == []


# --- end to end -------------------------------------------------------------------------------


def test_through_the_krm_protocol():
    user = yaml.safe_load(textwrap.dedent(route_yaml("my-grafana", ["grafana.catinthehack.ca"], namespace="apps")))
    user["metadata"]["annotations"] = {"config.kubernetes.io/path": "apps/my-grafana.yaml"}
    gw = yaml.safe_load(GATEWAY)
    gw["metadata"]["annotations"] = {"config.kubernetes.io/path": "traefik/gateway.yaml"}
    output, outcome = run_krm([gw, user], default_config())
    assert outcome.exit_code == 1
    by_rule = {r["tags"]["rule"]: r for r in output["results"] if r["tags"]["rule"].startswith("route-")}
    overlap = by_rule["route-overlap"]
    assert overlap["severity"] == "error"
    assert overlap["resourceRef"] == {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "name": "my-grafana",
        "namespace": "apps",
    }
    assert overlap["file"] == {"path": "apps/my-grafana.yaml"}
    assert overlap["field"] == {"path": "spec.hostnames[0]"}
    assert "route-attachment" not in by_rule  # the Gateway is there and accepts every route
    assert "apps/my-grafana.yaml: error [route-overlap] HTTPRoute apps/my-grafana spec.hostnames[0]:" in outcome.stderr


@pytest.mark.e2e
def test_through_kpt_fn_eval(tmp_path: Path):
    """The real kpt: results name the user's files, the function fails and kpt writes nothing."""
    package = tmp_path / "pkg"
    (package / "apps").mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG_FILE, package / "obs.yaml")
    (package / "gateway.yaml").write_text(textwrap.dedent(GATEWAY).lstrip("\n"))
    route = textwrap.dedent(route_yaml("my-grafana", ["grafana.catinthehack.ca", "Home.catinthehack.ca"], "apps"))
    (package / "apps" / "route.yaml").write_text(route.lstrip("\n"))
    before = (package / "apps" / "route.yaml").read_bytes()
    proc = subprocess.run(
        [tool("kpt"), "fn", "eval", str(package), "--exec", FUNCTION, "--fn-config", str(package / "obs.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert (
        "apps/route.yaml: error [route-overlap] HTTPRoute apps/my-grafana spec.hostnames[0]: hostname "
        "grafana.catinthehack.ca with path PathPrefix / is also claimed by the generated HTTPRoute monitoring/grafana"
    ) in output
    assert (
        "apps/route.yaml: error [hostname] HTTPRoute apps/my-grafana spec.hostnames[1]: hostname "
        "'Home.catinthehack.ca' is invalid: uppercase letters: use home.catinthehack.ca"
    ) in output
    assert (package / "apps" / "route.yaml").read_bytes() == before
    assert not (package / "monitoring").exists()  # on failure kpt writes nothing


# --- hostnames that HelmRelease values make charts render -------------------------------------


def release_with_values(values: str, name: str = "media", chart: str = "app-template") -> str:
    return f"""
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 1h
  chart:
    spec:
      chart: {chart}
      sourceRef: {{kind: HelmRepository, name: bjw-s, namespace: flux-system}}
  values:
{textwrap.indent(textwrap.dedent(values).strip(), "    ")}
"""


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ("route: {main: {hostnames: [grafana.catinthehack.ca]}}", "spec.values.route.main.hostnames[0]"),
        (
            "ingress: {main: {hosts: [{host: grafana.catinthehack.ca, paths: [{path: /}]}]}}",
            "spec.values.ingress.main.hosts[0].host",
        ),
        ("ingress: {enabled: true, hosts: [grafana.catinthehack.ca]}", "spec.values.ingress.hosts[0]"),
        ("ingress: {enabled: true, hosts: [{host: Grafana.catinthehack.ca}]}", "spec.values.ingress.hosts[0].host"),
    ],
)
def test_a_ui_hostname_a_chart_will_also_render_is_a_warning_naming_the_release_and_path(values, field):
    results = run(check_overlap, {"media.yaml": release_with_values(values)})
    assert [(r.severity, r.field, str(r.resource)) for r in results] == [
        (Severity.WARNING, field, "HelmRelease apps/media")
    ]
    assert "the generated HTTPRoute monitoring/grafana also claims" in results[0].message
    assert "spec.ui.grafana.hostname" in results[0].message


@pytest.mark.parametrize(
    "values",
    [
        "route: {main: {hostnames: [media.catinthehack.ca]}}",
        "route: {main: {enabled: false, hostnames: [grafana.catinthehack.ca]}}",
        "ingress: {hosts: [grafana.catinthehack.ca]}",  # ingress.enabled defaults to false in such charts
        "ingress: {main: {enabled: false, hosts: [{host: grafana.catinthehack.ca}]}}",
        'route: {main: {hostnames: ["{{ .Release.Name }}.catinthehack.ca", "${APP}.catinthehack.ca"]}}',
        "persistence: {config: {enabled: true}}",
    ],
)
def test_chart_values_that_render_no_colliding_name_pass(values):
    assert run(check_overlap, {"media.yaml": release_with_values(values)}) == []


def test_another_chart_renders_its_route_only_when_enabled():
    # The grafana chart (and charts like it) render route.main only with enabled: true; app-template unless false.
    route = "route: {main: %s hostnames: [grafana.catinthehack.ca]}}"
    assert run(check_overlap, {"media.yaml": release_with_values(route % "{", chart="grafana")}) == []
    results = run(check_overlap, {"media.yaml": release_with_values(route % "{enabled: true,", chart="grafana")})
    assert [(r.severity, r.field) for r in results] == [(Severity.WARNING, "spec.values.route.main.hostnames[0]")]


def test_two_app_template_releases_claiming_one_hostname_on_one_gateway_is_an_error_at_the_values():
    values = "route: {app: {hostnames: [media.example.org], parentRefs: [{name: envoy, namespace: network}]}}"
    files = {"a.yaml": release_with_values(values, "jellyfin"), "b.yaml": release_with_values(values, "plex")}
    results = run(check_overlap, files)
    assert [(r.severity, r.field, str(r.resource)) for r in results] == [
        (Severity.ERROR, "spec.values.route.app.hostnames[0]", "HelmRelease apps/plex")
    ]
    assert "HelmRelease apps/jellyfin values.route.app" in results[0].message


def test_a_release_route_and_an_httproute_claiming_one_hostname_overlap():
    values = "route: {app: {hostnames: [home.example.com], parentRefs: [{name: traefik-gateway, namespace: traefik}]}}"
    files = {"a.yaml": release_with_values(values, "home"), "route.yaml": route_yaml("home", ["home.example.com"])}
    assert [r.rule for r in run(check_overlap, files)] == ["route-overlap"]
    other = values.replace("traefik-gateway", "other")
    files["a.yaml"] = release_with_values(other, "home")
    assert run(check_overlap, files) == []
