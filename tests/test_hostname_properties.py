"""Properties of the hostname grammar, wildcard intersection, path overlap, and the route rules on any input."""

from __future__ import annotations

import functools
import ipaddress
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from krm_fn.checks import RULES, CheckContext, run_rules
from krm_fn.checks.hostnames import check_hostnames
from krm_fn.checks.route_attachment import check_attachment
from krm_fn.checks.route_backend import check_backends
from krm_fn.checks.route_overlap import check_overlap
from krm_fn.gateway.hostnames import describe, intersect, is_valid, problems
from krm_fn.gateway.model import PathMatch, paths_overlap
from krm_fn.items import Item
from tests.helpers import context

# The CRD's Hostname pattern (gateway-api v1.6.1), anchored with fullmatch.
CRD_PATTERN = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MY_RULES = {"hostname", "route-overlap", "route-attachment", "route-backend"}

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


LABELS = st.builds(
    lambda first, middle, last: first + middle + last if middle or last else first,
    st.sampled_from(ALNUM),
    st.text(ALNUM + "-", max_size=61),
    st.sampled_from(["", *ALNUM]),
).map(lambda label: label if not label.endswith("-") else label + "a")


@st.composite
def hostnames(draw, wildcard: bool | None = None) -> str:
    """A valid Gateway API hostname: 1-5 labels, the last one not all digits, at most 253 characters."""
    parts = draw(st.lists(LABELS, min_size=1, max_size=5))
    tld = draw(LABELS.filter(lambda label: not label.isdigit()))
    use_wildcard = draw(st.booleans()) if wildcard is None else wildcard
    name = ".".join([*parts, tld])[-(251 if use_wildcard else 253) :].lstrip(".-")
    assume(name and all(part for part in name.split(".")) and is_valid(name))
    return "*." + name if use_wildcard else name


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@FAST
@given(hostnames())
def test_generated_valid_hostnames_always_pass(host: str):
    assert problems(host) == [], host
    assert CRD_PATTERN.fullmatch(host) and len(host) <= 253  # and the CRD agrees


@FAST
@given(hostnames(wildcard=False), st.data())
def test_uppercase_always_fails(host: str, data):
    letters = [i for i, c in enumerate(host) if c.isalpha()]
    assume(letters)
    i = data.draw(st.sampled_from(letters))
    assert "uppercase letters" in problems(host[:i] + host[i].upper() + host[i + 1 :])


@FAST
@given(hostnames())
def test_trailing_dot_newline_or_space_always_fails(host: str):
    assert problems(host + ".")
    assert problems(host + "\n")  # what `re.match(...$)` would let through
    assert CRD_PATTERN.fullmatch(host + "\n") is None
    assert problems(host + " ") and problems("\t" + host)


@FAST
@given(hostnames(wildcard=False), st.text(ALNUM, min_size=64, max_size=80))
def test_a_label_longer_than_63_always_fails(host: str, long_label: str):
    assert any("at most 63" in p for p in problems(f"{long_label}.{host}"))


@settings(max_examples=100, deadline=None)
@given(st.lists(hostnames(wildcard=False), min_size=1, max_size=8))
def test_more_than_253_characters_always_fails(hosts: list[str]):
    name = ".".join(hosts)
    while len(name) <= 253:
        name = f"{hosts[0].split('.')[0]}.{name}"
    assert any("at most 253" in p for p in problems(name))


@FAST
@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_ip_addresses_always_fail(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    assert any("IP address" in p for p in problems(str(address)))


@FAST
@given(hostnames(wildcard=False), hostnames(wildcard=False), st.sampled_from(["*", "*x", "x*", "*-a"]))
def test_a_star_anywhere_but_the_whole_leftmost_label_always_fails(left: str, right: str, star: str):
    assert problems(f"{left}.{star}.{right}")
    assert problems(f"{star}.{right}") if star != "*" else problems(f"*.*.{right}")


@FAST
@given(hostnames(wildcard=True))
def test_a_wildcard_is_rejected_where_not_allowed(host: str):
    assert is_valid(host, wildcard_ok=True) and not is_valid(host, wildcard_ok=False)


# Small alphabets so that intersections actually happen.
SMALL_HOST = st.builds(
    lambda wild, labels: ("*." if wild else "") + ".".join(labels),
    st.booleans(),
    st.lists(st.sampled_from(["a", "b", "example", "com"]), min_size=1, max_size=4),
)


@settings(max_examples=500, deadline=None)
@given(SMALL_HOST, SMALL_HOST)
def test_intersection_is_symmetric(a: str, b: str):
    assert intersect(a, b) == intersect(b, a)


@settings(max_examples=300, deadline=None)
@given(SMALL_HOST, SMALL_HOST, st.lists(st.sampled_from(["x", "y", "a", "b"]), min_size=1, max_size=3))
def test_intersection_agrees_with_a_concrete_witness(a: str, b: str, prefix: list[str]):
    """If some concrete name is matched by both, the two intersect."""

    def covers(pattern: str, name: str) -> bool:
        return (
            name.endswith(pattern[1:]) and len(name) > len(pattern) - 1 if pattern.startswith("*.") else name == pattern
        )

    for base in (a, b):
        name = base if not base.startswith("*.") else ".".join(prefix) + base[1:]
        if covers(a, name) and covers(b, name):
            assert intersect(a, b)


@settings(max_examples=300, deadline=None)
@given(SMALL_HOST)
def test_a_hostname_intersects_itself(a: str):
    assert intersect(a, a)


PATHS = st.builds(
    PathMatch,
    st.sampled_from(["PathPrefix", "Exact", "RegularExpression"]),
    st.lists(st.sampled_from(["a", "b", "api", ""]), max_size=3).map(lambda parts: "/" + "/".join(parts)),
)


@settings(max_examples=500, deadline=None)
@given(PATHS, PATHS)
def test_path_overlap_is_symmetric_and_reflexive(a: PathMatch, b: PathMatch):
    assert paths_overlap(a, b) == paths_overlap(b, a)
    assert paths_overlap(a, a)


# --- the rules never raise, whatever the objects hold -------------------------------------------


@functools.cache
def base_context() -> CheckContext:
    """The default config and what it generates, built once: the rules only read it."""
    return context()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
# Values that look almost right, so the readers get past their first type check.
NEAR = st.one_of(
    JSONISH,
    st.lists(st.one_of(JSONISH, st.sampled_from(["grafana.catinthehack.ca", "*.catinthehack.ca", "A..b", "1.2.3.4"]))),
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.one_of(JSONISH, st.sampled_from(["traefik-gateway", "web", "websecure"])),
                "namespace": st.one_of(JSONISH, st.just("traefik")),
                "sectionName": JSONISH,
                "port": JSONISH,
                "kind": st.one_of(JSONISH, st.just("Gateway")),
                "group": JSONISH,
                "hostname": st.one_of(JSONISH, st.just("*.catinthehack.ca")),
                "protocol": st.one_of(JSONISH, st.just("HTTP")),
                "allowedRoutes": st.one_of(
                    JSONISH,
                    st.fixed_dictionaries(
                        {
                            "namespaces": st.fixed_dictionaries(
                                {"from": st.sampled_from(["All", "Same", "Selector", 3])}
                            )
                        },
                        optional={"kinds": JSONISH},
                    ),
                ),
                "matches": JSONISH,
                "backendRefs": JSONISH,
                "path": JSONISH,
            },
        ),
        max_size=3,
    ),
)


def obj(kind: str, name: object, namespace: object, spec: object) -> dict:
    api = "v1" if kind == "Namespace" else "gateway.networking.k8s.io/v1"
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


SPEC = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {},
        optional={
            "hostnames": NEAR,
            "parentRefs": NEAR,
            "rules": NEAR,
            "listeners": NEAR,
            "gatewayClassName": JSONISH,
        },
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(
            obj,
            st.sampled_from(["HTTPRoute", "Gateway", "Namespace"]),
            st.one_of(st.sampled_from(["traefik-gateway", "grafana", "r"]), JSONISH),
            st.one_of(st.sampled_from(["traefik", "monitoring"]), JSONISH),
            SPEC,
        ),
        max_size=5,
    )
)
def test_the_rules_never_raise_on_arbitrary_routes_and_gateways(objects: list[dict]):
    base = base_context()
    pipeline = [Item.from_data(o, generated=False) for o in objects]
    ctx = CheckContext(base.config, base.generated, pipeline, True)
    for check in (check_hostnames, check_overlap, check_attachment, check_backends):
        for found in check(ctx):  # raising fails the test
            assert found.message and found.rule in MY_RULES
    internal = [r for r in run_rules(ctx, [r for r in RULES if r.id in MY_RULES]) if r.rule == "internal-error"]
    assert internal == []


def test_garbage_shapes_are_not_reported_by_these_rules():
    """Type errors are the schema rule's to report; these rules say nothing about them."""
    ctx = context()
    garbage = [
        obj("HTTPRoute", "r", "monitoring", {"hostnames": [1, None], "parentRefs": "x", "rules": {"a": 1}}),
        obj("HTTPRoute", "s", "monitoring", {"hostnames": "grafana.catinthehack.ca", "parentRefs": [None, 3]}),
        obj("Gateway", "traefik-gateway", "traefik", {"listeners": "all of them"}),
        obj("Gateway", "other", "traefik", [1, 2]),
    ]
    ctx.pipeline = [Item.from_data(o, generated=False) for o in garbage]
    found = [r for check in (check_hostnames, check_overlap, check_attachment, check_backends) for r in check(ctx)]
    assert found == []  # Gateway traefik/traefik-gateway is present, but has no listeners to check against


# --- Flux substitution placeholders: unknown, never wrong; the known rest still judged -------------

PLACEHOLDERS = st.builds(
    lambda name, operator: f"${{{name}{operator}}}",
    st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
    st.sampled_from(["", ":=grafana", ":-Default.Example.com", ":=x_y"]),
)


@FAST
@given(hostnames(wildcard=False), PLACEHOLDERS, st.data())
def test_a_placeholder_for_any_label_of_a_valid_hostname_passes(host: str, placeholder: str, data):
    labels = host.split(".")
    i = data.draw(st.integers(0, len(labels) - 1))
    assert describe(".".join([*labels[:i], placeholder, *labels[i + 1 :]])) is None


@FAST
@given(hostnames(wildcard=False), PLACEHOLDERS)
def test_a_placeholder_never_hides_an_invalid_known_part(host: str, placeholder: str):
    broken = [f"{placeholder}.{host}.", f"{placeholder}..{host}", f"{placeholder}_x.{host}"]
    if host != host.upper():
        broken.append(f"{placeholder}.{host.upper()}")
    for name in broken:
        message = describe(name)
        assert message is not None and "placeholders become after Flux's substitution" in message, name
