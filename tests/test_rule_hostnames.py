"""The `hostname` rule: every HTTPRoute and listener hostname, generated or not.

Facts: docs/reference/crds.md#5-gateway-api-hostname-rules.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from krm_fn.checks.hostnames import check_hostnames
from krm_fn.gateway.hostnames import describe, intersect, matches, within
from krm_fn.results import Severity
from tests.helpers import DEFAULT_CONFIG_FILE, config_with, route_yaml, run_cli
from tests.helpers import rule_run as run

# --- user routes -----------------------------------------------------------------------------

SEED_GRAFANA_ROUTE = """
# kubernetes/infrastructure/monitoring/httproute-grafana.yaml, as the seed plan writes it
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: grafana
  namespace: monitoring
spec:
  parentRefs:
    - name: traefik-gateway
      namespace: traefik
  hostnames:
    - "grafana.catinthehack.ca"
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: kube-prometheus-stack-grafana
          port: 80
"""


def test_valid_user_hostnames_pass():
    files = {
        "seed.yaml": SEED_GRAFANA_ROUTE,
        "apps.yaml": route_yaml("apps", ["home.example.com", "*.apps.example.com", "a-b.c1.example.org", "x.co"]),
    }
    assert run(check_hostnames, files) == []


@pytest.mark.parametrize(
    ("hostname", "problem", "fix"),
    [
        ("Grafana.Example.com", "uppercase letters", "grafana.example.com"),
        ("grafana.example.com.", "a trailing dot (Gateway API takes the name without it)", "grafana.example.com"),
        ("grafana.example.com\n", "leading or trailing whitespace (a trailing newline?)", "grafana.example.com"),
        (" grafana.example.com", "leading or trailing whitespace", "grafana.example.com"),
        ("a" * 64 + ".example.com", "a label of 64 characters (at most 63)", None),
        (".".join(["a" * 60] * 4) + ".example.com", "255 characters (at most 253)", None),
        ("192.168.1.10", "an IP address, which Gateway API never accepts", None),
        ("2001:db8::1", "an IP address", None),
        ("grafana.*.example.com", "'*' is allowed only as the whole leftmost label", None),
        ("*.*.example.com", "'*' is allowed only as the whole leftmost label", None),
        ("f*.example.com", "'*' is allowed only as the whole leftmost label", None),
        ("*", "a lone '*'", None),
        ("grafana_ui.example.com", "invalid characters '_'", None),
        ("grafana..example.com", "an empty label", "grafana.example.com"),
        ("-grafana.example.com", "starts or ends with '-'", None),
        ("grafana.example.123", "all-numeric last label", None),
        ("", "empty", None),
    ],
)
def test_invalid_user_hostname_is_an_error_with_a_fix(hostname: str, problem: str, fix: str | None):
    files = {"routes/grafana.yaml": route_yaml("grafana-mine", ["ok.example.com", hostname])}
    results = run(check_hostnames, files)
    assert len(results) == 1, results
    found = results[0]
    assert found.rule == "hostname" and found.severity is Severity.ERROR
    assert found.field == "spec.hostnames[1]"
    assert str(found.resource) == "HTTPRoute monitoring/grafana-mine"
    # Located on the offending hostname's line in the user's file.
    lines = textwrap.dedent(files["routes/grafana.yaml"]).lstrip("\n").splitlines()
    assert found.location.path == "routes/grafana.yaml"
    assert found.location.line == next(i for i, line in enumerate(lines, 1) if "ok.example.com" in line) + 1
    assert problem in found.message, found.message
    if fix:
        assert found.message.endswith(f": use {fix}"), found.message
    else:
        assert "use a lowercase DNS name such as grafana.example.com" in found.message


def test_message_names_what_is_wrong_and_how_to_fix_it():
    message = describe("Grafana.EXAMPLE..org.")
    assert message == (
        "hostname 'Grafana.EXAMPLE..org.' is invalid: a trailing dot (Gateway API takes the name without it); "
        "uppercase letters; an empty label (two dots in a row, or a leading dot): use grafana.example.org"
    )
    assert "\n" not in describe("grafana.example.com\n")  # shown escaped, so the result stays one line


def test_wildcards_are_fine_on_user_routes_when_well_formed():
    assert run(check_hostnames, {"r.yaml": route_yaml("wild", ["*.example.com", "*.com"])}) == []


def test_garbage_hostnames_are_left_to_the_schema_rule():
    files = {
        "r.yaml": """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: odd, namespace: monitoring}
        spec:
          hostnames: [123, null, {a: b}, [x], true]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: odder, namespace: monitoring}
        spec:
          hostnames: grafana.example.com
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: oddest, namespace: monitoring}
        spec: [1, 2]
        """
    }
    assert run(check_hostnames, files) == []


def test_other_groups_kinds_named_httproute_are_not_checked():
    text = route_yaml("other", ["NOT.valid."]).replace("gateway.networking.k8s.io/v1", "example.com/v1")
    assert run(check_hostnames, {"r.yaml": text}) == []


def test_gateway_listener_hostnames_are_checked():
    files = {
        "gateway.yaml": """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: traefik-gateway, namespace: traefik}
        spec:
          gatewayClassName: traefik
          listeners:
            - {name: web, port: 80, protocol: HTTP}
            - {name: websecure, port: 443, protocol: HTTPS, hostname: "*.catinthehack.ca"}
            - {name: bad, port: 8443, protocol: HTTPS, hostname: "*.CatInTheHack.ca"}
        """
    }
    results = run(check_hostnames, files)
    assert [(r.field, r.message.split(": use ")[-1]) for r in results] == [
        ("spec.listeners[2].hostname", "*.catinthehack.ca")
    ]


# --- generated routes (the config's UIs) ---------------------------------------------------


def test_generated_hostnames_of_the_default_config_pass():
    assert run(check_hostnames) == []


def test_explicit_ui_hostname_inside_a_subdomain_passes():
    config = config_with(ui={"grafana": {"hostname": "grafana.lab.catinthehack.ca"}})
    assert run(check_hostnames, config=config) == []
    config = config_with(ui={"grafana": {"hostname": "catinthehack.ca"}})
    assert run(check_hostnames, config=config) == []


def test_generated_hostname_outside_the_domain_is_an_error_on_the_config():
    config = config_with(ui={"grafana": {"hostname": "grafana.catinthehack.org"}})
    results = run(check_hostnames, config=config)
    assert len(results) == 1
    found = results[0]
    assert (found.rule, found.severity, found.field) == ("hostname", Severity.ERROR, "spec.ui.grafana.hostname")
    assert str(found.resource) == "ObservabilityConfig observability"
    assert "outside spec.domain catinthehack.ca" in found.message
    assert "such as grafana.catinthehack.ca" in found.message
    # "grafana.notcatinthehack.ca" ends with the domain's text but is not inside it
    config = config_with(ui={"grafana": {"hostname": "grafana.notcatinthehack.ca"}})
    assert [r.field for r in run(check_hostnames, config=config)] == ["spec.ui.grafana.hostname"]


def test_generated_ip_hostname_is_an_error():
    # The config schema's hostname pattern (like the CRD's) accepts an IP address.
    config = config_with(ui={"grafana": {"hostname": "10.0.0.5"}})
    results = run(check_hostnames, config=config)
    assert [r.field for r in results] == ["spec.ui.grafana.hostname"]
    assert "an IP address" in results[0].message


def test_a_bad_domain_is_reported_once_not_once_per_ui():
    config = config_with(domain="10.0.0.5")
    results = run(check_hostnames, config=config)
    assert [r.field for r in results] == ["spec.domain"]
    assert "an IP address" in results[0].message


def test_generated_hostnames_longer_than_253_are_errors():
    domain = ".".join(["a" * 60] * 4) + ".io"  # 246 characters: fine itself, too long with "grafana."
    results = run(check_hostnames, config=config_with(domain=domain))
    assert sorted(r.message.split(":")[0] for r in results) == [
        "the generated HTTPRoute monitoring/alertmanager",
        "the generated HTTPRoute monitoring/grafana",
        "the generated HTTPRoute monitoring/prometheus",
    ]
    assert all(r.field == "spec.domain" and "characters (at most 253)" in r.message for r in results)


def test_no_exposed_ui_means_nothing_to_check():
    ui = {name: {"enabled": False} for name in ("grafana", "prometheus", "alertmanager", "alloy")}
    config = config_with(ui=ui, domain="10.0.0.5")
    config["spec"].pop("gateway")
    assert run(check_hostnames, config=config) == []


def test_check_mode_without_a_config():
    assert [r.field for r in run(check_hostnames, {"r.yaml": route_yaml("x", ["X.example.com"])}, config=False)] == [
        "spec.hostnames[0]"
    ]


# --- matching helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("very.specific.com", "very.specific.com", True),
        ("very.specific.com", "other.specific.com", False),
        ("*.wildcard.io", "foo.wildcard.io", True),
        ("*.wildcard.io", "foo.bar.wildcard.io", True),  # one or more labels
        ("*.wildcard.io", "wildcard.io", False),
        ("*.wildcard.io", "foowildcard.io", False),
        ("*.specific.com", "very.specific.com", True),
        ("*.anotherwildcard.io", "*.anotherwildcard.io", True),
        ("*.com", "*.example.com", True),
        ("*.example.com", "*.ample.com", False),
        ("*.a.example.com", "*.b.example.com", False),
    ],
)
def test_intersection_table(a: str, b: str, expected: bool):
    assert intersect(a, b) is expected
    assert intersect(b, a) is expected


def test_matches_and_within():
    assert matches("*.example.com", "a.example.com") and not matches("*.example.com", "example.com")
    assert within("a.b.example.com", "example.com") and within("example.com", "example.com")
    assert not within("badexample.com", "example.com")


# --- end to end: the `check` command over a directory ----------------------------------------


def test_check_command_reports_hostnames_with_file_and_line(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "monitoring").mkdir(parents=True)
    shutil.copy(DEFAULT_CONFIG_FILE, repo / "observability.yaml")
    route = route_yaml("home", ["Home.CatInTheHack.ca", "ok.catinthehack.ca"], namespace="apps")
    (repo / "monitoring" / "route.yaml").write_text(textwrap.dedent(route).lstrip("\n"))
    proc = run_cli("check", str(repo))
    out = proc.stdout.decode()
    assert proc.returncode == 1, (out, proc.stderr.decode())
    assert "Traceback" not in proc.stderr.decode()
    expected = (
        f"{repo}/monitoring/route.yaml:11: error [hostname] HTTPRoute apps/home spec.hostnames[0]: "
        "hostname 'Home.CatInTheHack.ca' is invalid: uppercase letters: use home.catinthehack.ca"
    )
    assert expected in out.splitlines(), out


# --- Flux post-build substitution placeholders ------------------------------------------------


def test_placeholder_hostnames_are_unknown_not_invalid():
    hosts = ["${APP}.example.com", "${APP:=grafana}.${DOMAIN}", "*.${DOMAIN:-example.com}", "${HOST}"]
    assert run(check_hostnames, {"r.yaml": route_yaml("r", hosts, namespace="${NAMESPACE}")}) == []


@pytest.mark.parametrize(
    ("hostname", "problem"),
    [
        ("${APP}.Example.com", "uppercase letters"),
        ("${APP}_ui.example.com", "invalid characters '_'"),
        ("${APP}..example.com", "an empty label"),
        ("grafana.${DOMAIN}.", "a trailing dot"),
    ],
)
def test_the_known_part_of_a_placeholder_hostname_is_still_checked(hostname, problem):
    results = run(check_hostnames, {"r.yaml": route_yaml("r", [hostname], namespace="apps")})
    assert [(r.severity, r.field) for r in results] == [(Severity.ERROR, "spec.hostnames[0]")]
    assert "whatever its ${...} placeholders become after Flux's substitution" in results[0].message
    assert problem in results[0].message


# --- hostnames HelmRelease values make a chart render ------------------------------------------------------


def release(values: str, chart: str = "app-template", name: str = "mealie") -> str:
    body = textwrap.indent(textwrap.dedent(values).strip(), "    ")
    return (
        f"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: media\n"
        f"spec:\n  chart:\n    spec:\n      chart: {chart}\n      sourceRef: {{kind: HelmRepository, name: r}}\n"
        f"  values:\n{body}\n"
    )


@pytest.mark.parametrize(
    ("chart", "values", "field"),
    [
        ("app-template", "route: {app: {hostnames: ['Mealie_App.${DOMAIN}']}}", "spec.values.route.app.hostnames[0]"),
        (
            "app-template",
            "ingress: {app: {hosts: [{host: mealie..example.org}]}}",
            "spec.values.ingress.app.hosts[0].host",
        ),
        (
            "kube-prometheus-stack",
            "grafana: {route: {main: {enabled: true, hostnames: [Grafana.example.org]}}}",
            "spec.values.grafana.route.main.hostnames[0]",
        ),
        (
            "kube-prometheus-stack",
            "alertmanager: {ingress: {enabled: true, hosts: [alertmanager.example.org.]}}",
            "spec.values.alertmanager.ingress.hosts[0]",
        ),
        (
            "victoria-logs-single",
            "server: {route: {enabled: true, hostnames: [vlogs_example.org]}}",
            "spec.values.server.route.hostnames[0]",
        ),
    ],
)
def test_a_bad_hostname_in_helm_values_is_an_error_at_its_line(tmp_path, chart, values, field):
    results = run(check_hostnames, {"release.yaml": release(values, chart)})
    assert [(r.severity, r.field, str(r.resource)) for r in results] == [
        (Severity.ERROR, field, "HelmRelease media/mealie")
    ]
    assert results[0].location.line is not None


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        ("app-template", "route: {app: {hostnames: ['mealie.${SECRET_DOMAIN}', '${APP}.example.org']}}"),
        ("app-template", "route: {app: {hostnames: ['{{ .Release.Name }}.example.org']}}"),  # a Helm template
        ("app-template", "route: {app: {enabled: false, hostnames: [Off.example.org]}}"),
        ("kube-prometheus-stack", "grafana: {route: {main: {hostnames: [Grafana.example.org]}}}"),  # not enabled
        ("kube-prometheus-stack", "grafana: {ingress: {hosts: [Grafana.example.org]}}"),
        ("some-chart", "route: {main: {hostnames: [Main.example.org]}}"),  # other charts: only with enabled: true
        ("app-template", "route: {app: {hostnames: [mealie.example.org]}}"),
    ],
)
def test_hostnames_a_chart_will_not_render_or_that_are_unknown_pass(chart, values):
    assert run(check_hostnames, {"release.yaml": release(values, chart)}) == []


def test_the_chart_of_an_oci_repository_is_read_from_its_url():
    """onedr0p-style: the OCIRepository is named after the app, its URL names app-template."""
    text = release("route: {app: {hostnames: [Mealie.example.org]}}").replace(
        "  chart:\n    spec:\n      chart: app-template\n      sourceRef: {kind: HelmRepository, name: r}\n",
        "  chartRef: {kind: OCIRepository, name: mealie}\n",
    )
    oci = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: mealie, namespace: media}\n"
        "spec: {url: 'oci://ghcr.io/bjw-s-labs/helm/app-template', ref: {tag: 4.1.0}}\n"
    )
    assert [r.field for r in run(check_hostnames, {"release.yaml": text, "oci.yaml": oci})] == [
        "spec.values.route.app.hostnames[0]"
    ]
    assert run(check_hostnames, {"release.yaml": text}) == []  # unknown chart: only enabled: true renders
