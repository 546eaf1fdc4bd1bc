"""Object validation against kubernetes-validate's strict schemas and the converted CRD schemas."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from krm_fn import config as config_model
from krm_fn import schemacheck, validation
from tests.helpers import REPO, UPSTREAM


def configmap(**extra) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "monitoring"}, **extra}


def problems(obj: dict, version: str = "1.32") -> list[tuple[str, str]]:
    return [(".".join(map(str, p.path)), p.message) for p in validation.validate(obj, version)]


# --- `$` must not accept a trailing newline ------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^[a-z]+$", "abc", True),
        (r"^[a-z]+$", "abc\n", False),
        (r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$", "X-Forwarded-For", True),  # `$` inside a class (HTTPRoute)
        (r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$", "a$b", True),
        (r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$", "X-Forwarded-For\n", False),
        (r"^a\$$", "a$", True),  # an escaped dollar stays literal
        (r"^[]$]+$", "]$", True),  # a leading ] is a literal inside the class
        (r"^(http|https|oci)://.*$", "https://example.com\n", False),
    ],
)
def test_anchored_patterns_reject_a_trailing_newline(pattern, text, matches):
    assert bool(schemacheck.anchored(pattern).search(text)) is matches


# --- which schema -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("v1", "ConfigMap", "v1.32.0-local-strict/configmap-v1.json"),
        ("v1", "Secret", "v1.32.0-local-strict/secret-v1.json"),
        ("v1", "Namespace", "v1.32.0-local-strict/namespace-v1.json"),
        ("apps/v1", "Deployment", "v1.32.0-local-strict/deployment-apps-v1.json"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "v1.32.0-local-strict/clusterrole-rbac-v1.json"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "helm.toolkit.fluxcd.io/helmrelease_v2.json"),
        ("gateway.networking.k8s.io/v1beta1", "HTTPRoute", "gateway.networking.k8s.io/httproute_v1beta1.json"),
        ("monitoring.coreos.com/v1", "PodMonitor", None),  # CRD not vendored: a known gap
        ("apps.example.com/v1", "Deployment", None),  # a custom group never borrows a core schema
        ("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease", None),  # removed version: no schema
        ("v1", "../../etc/passwd", None),
        ("../../helm.toolkit.fluxcd.io/v2", "HelmRelease", None),
        ("", "ConfigMap", None),
    ],
)
def test_schema_for(api_version, kind, expected):
    ref = validation.schema_for(api_version, kind, "1.32")
    assert (ref.name if ref else None) == expected


def test_kubernetes_version_picks_the_newest_bundled_not_newer():
    assert validation.kubernetes_schema_dir("1.32").name == "v1.32.0-local-strict"
    assert validation.kubernetes_schema_dir("v1.30.4").name == "v1.30.0-local-strict"
    assert validation.kubernetes_schema_dir("1.99").name == "v1.37.0-local-strict"
    assert validation.kubernetes_schema_dir("1.9").name == "v1.25.0-local-strict"  # older than any: the oldest
    assert validation.kubernetes_schema_dir("latest") is None


def test_unknown_kinds_have_no_schema_and_no_problems():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}, "spec": {"anything": 1}}
    assert validation.schema_for("example.com/v1", "Widget", "1.32") is None
    assert validation.validate(obj, "1.32") == []


# --- core kinds (strict) ----------------------------------------------------------------------------


def test_valid_core_objects_pass():
    assert problems(configmap(data={"datasource.yaml": "x"})) == []
    assert problems({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}) == []


def test_unknown_fields_are_rejected_with_the_nearest_name():
    assert problems(configmap(datum={"a": "b"})) == [("datum", "unknown field 'datum'; did you mean 'data'?")]
    found = problems({**configmap(), "metadata": {"name": "cm", "lables": {"a": "b"}}})
    assert found == [("metadata.lables", "unknown field 'lables'; did you mean 'labels'?")]


def test_wrong_types_and_names_are_reported():
    assert problems(configmap(data={"k": 1})) == [("data.k", "must be a string, not an integer")]
    assert problems(configmap(data={"bad key": "x"})) == [
        ("data.bad key", "key must be letters, digits, '-', '_' or '.' (at most 253)")
    ]
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Bad_Name"}}
    assert [p for p, _ in problems(namespace)] == ["metadata.name"]
    assert problems({"apiVersion": "v1", "kind": "ConfigMap"}) == [
        ("metadata", "missing: every object needs metadata with a name")
    ]


def test_secret_is_validated_without_sops_and_without_its_values():
    secret = yaml_load(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml")
    assert "sops" in secret
    assert problems(secret) == []
    bad = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"bad key": "hunter2-secret-value", "n": 42},
        "sops": {"anything": "goes"},
        "extra": "hunter2-secret-value",
    }
    found = problems(bad)
    assert found == [
        ("extra", "unknown field 'extra'; allowed: apiVersion, data, immutable, kind, metadata, stringData, type"),
        ("stringData.bad key", "key must be letters, digits, '-', '_' or '.' (at most 253)"),
        ("stringData.n", "must be a string, not an integer"),
    ]
    assert "hunter2" not in json.dumps(found)
    assert validation._subject(bad)["stringData"] == {"bad key": "", "n": 42}


# --- custom resources ---------------------------------------------------------------------------------


def route(hostname: str) -> dict:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "grafana", "namespace": "monitoring"},
        "spec": {
            "parentRefs": [{"name": "gw", "namespace": "traefik"}],
            "hostnames": [hostname],
            "rules": [{"backendRefs": [{"name": "svc", "port": 80}]}],
        },
    }


def test_httproute_hostname_with_a_trailing_newline_fails():
    assert problems(route("grafana.example.com")) == []
    found = problems(route("grafana.example.com\n"))
    assert [p for p, _ in found] == ["spec.hostnames.0"]
    assert found[0][1].startswith("must match the pattern ^(\\*\\.)?[a-z0-9]")
    assert "ends with whitespace or a newline" in found[0][1]


def test_helmrelease_enum_typo_and_chart_xor_chart_ref():
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "loki", "namespace": "monitoring"},
        "spec": {
            "interval": "30m",
            "chart": {"spec": {"chart": "loki", "sourceRef": {"kind": "HelmRepo", "name": "grafana"}}},
            "chartRef": {"kind": "OCIRepository", "name": "loki"},
        },
    }
    assert problems(release) == [
        ("spec", "set exactly one of spec.chart and spec.chartRef"),
        ("spec.chart.spec.sourceRef.kind", 'must be one of "HelmRepository", "GitRepository", "Bucket"'),
    ]


def test_int_or_string_and_integer_ranges():
    provider = {
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
        "kind": "Provider",
        "metadata": {"name": "am", "namespace": "flux-system"},
        "spec": {"type": "alertmanager", "address": "http://am:9093/api/v2/alerts"},
    }
    assert problems(provider) == []
    provider["spec"]["type"] = "pagerdutyy"
    assert [p for p, _ in problems(provider)] == ["spec.type"]
    assert problems({**route("a.example.com"), "spec": {"parentRefs": [{"name": "gw", "port": 70000}]}}) == [
        ("spec.parentRefs.0.port", "must be <= 65535")
    ]


# --- one validator per schema, never kubernetes_validate.validate() ---------------------------------


def test_validators_are_built_once_and_kubernetes_validate_is_never_called(monkeypatch):
    import kubernetes_validate

    def forbidden(*args, **kwargs):
        raise AssertionError("kubernetes_validate.validate reloads 1.8 MB per call")

    monkeypatch.setattr(kubernetes_validate, "validate", forbidden)
    ref = validation.schema_for("v1", "ConfigMap", "1.31")
    for i in range(50):
        assert problems(configmap(data={"k": str(i)}), "1.31") == []
        assert problems(configmap(data={"k": i}), "1.31") == [("data.k", "must be a string, not an integer")]
    before = validation._validator.cache_info()
    validation.validate(configmap(data={"k": 0}), "1.31")
    after = validation._validator.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 1
    assert validation._validator(ref) is validation._validator(ref)


# --- the cache keeps jsonschema out of warm runs --------------------------------------------------------

WARM_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from krm_fn import validation
    objects = json.loads(sys.stdin.read())
    found = [[list(p.path), p.message] for o in objects for p in validation.validate(o, "1.32")]
    print(json.dumps({"problems": found, "jsonschema": "jsonschema" in sys.modules}))
    """
)


def _run(objects: list[dict], cache_dir) -> dict:
    env = {**os.environ, "OBSERVABILITY_FN_CACHE": "on", "OBSERVABILITY_FN_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", WARM_SCRIPT],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_valid_objects_pass_without_jsonschema_even_cold(tmp_path):
    cache_dir = tmp_path / "cache"
    good = [configmap(data={"a": "b"}), route("grafana.example.com")]
    cold = _run(good, cache_dir)
    assert cold == {"problems": [], "jsonschema": False}
    assert (cache_dir / "passed").read_text().count("\n") == 2  # one digest a line, nothing else there
    assert [p.name for p in cache_dir.iterdir()] == ["passed"]
    warm = _run(good, cache_dir)
    assert warm == {"problems": [], "jsonschema": False}


def test_failures_are_never_remembered(tmp_path):
    cache_dir = tmp_path / "cache"
    bad = [configmap(datum={})]
    for _ in range(2):
        result = _run(bad, cache_dir)
        assert result["problems"] == [[["datum"], "unknown field 'datum'; did you mean 'data'?"]]
        assert result["jsonschema"] is True
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []


def yaml_load(path) -> dict:
    from krm_fn import yaml as yamlio

    return yamlio.load_one(path.read_text())


# --- Flux post-build substitution placeholders and component placeholders ------------------------


def deployment(name: str = "web", namespace: str | None = "apps", **spec) -> dict:
    metadata = {"name": name} | ({"namespace": namespace} if namespace is not None else {})
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}
    body = {"selector": {"matchLabels": {"app": "web"}}, "template": template} | spec
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": body}


@pytest.mark.parametrize(
    "obj",
    [
        deployment(name="${APP}-proxy"),
        deployment(name="${APP:=web}"),
        deployment(namespace="${NAMESPACE:-default}"),
        deployment(namespace="${NAMESPACE}"),
        deployment(replicas="${REPLICAS}"),  # Flux substitutes before parsing: the number comes later
        configmap(metadata={"name": "${APP}-config", "namespace": "${NS}"}, data={"${KEY}.yaml": "x"}),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "_"}},  # renamed by kustomize `namespace:`
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "${NAMESPACE}"}},
    ],
)
def test_placeholders_are_unknown_never_wrong(obj):
    assert problems(obj) == []


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (deployment(name="${APP}_proxy"), ("metadata.name", "must be a DNS subdomain")),  # `_` is known
        (deployment(name="My-App"), ("metadata.name", "must be a DNS subdomain")),
        (deployment(namespace="${NS}_x"), ("metadata.namespace", "must be a DNS label")),
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "__"}}, ("metadata.name", "must be a DNS")),
        (deployment(name="${APP}", replicas="three"), ("spec.replicas", "must be an integer, not a string")),
        (deployment(name="${APP}", paused="${X}", minReadySeconds=[1]), ("spec.minReadySeconds", "must be")),
    ],
)
def test_placeholders_do_not_hide_what_is_known(obj, expected):
    found = problems(obj)
    assert len(found) == 1 and found[0][0] == expected[0] and found[0][1].startswith(expected[1]), found


def test_a_missing_required_field_is_caught_next_to_placeholders():
    obj = deployment(name="${APP}", namespace="${NS}")
    del obj["spec"]["selector"]
    assert problems(obj) == [("spec", "missing required field 'selector'")]


# --- the fast check agrees with jsonschema (krm_fn.schemacheck) -----------------------------------


def _generated_objects() -> list[dict]:
    from krm_fn import components, config
    from tests.helpers import default_config

    cfg, errors = config.load(default_config())
    assert not errors
    return components.generate(cfg)


GENERATED = _generated_objects()
# Objects of the user's side of a pipeline (deep core schemas: PodSpec, Service ports).
PIPELINE = [
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "apps", "labels": {"app": "x"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/example/app:1.0",
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
                        }
                    ]
                },
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {"selector": {"app": "x"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "traefik"},
        "spec": {
            "gatewayClassName": "traefik",
            "listeners": [{"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "*.example.com"}],
        },
    },
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 70000)
    | st.sampled_from([0.0, 1.0, 2.5, -1.0, float("nan"), float("inf")])
    | st.sampled_from(["", "a", "monitoring", "a\n", "A_B", "x" * 300, "10Gi", "5m", "https://x.example.com"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "name", "kind"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node, prefix=()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def mutated(draw, objects: list[dict]) -> dict:
    """A valid object with one value replaced, one key removed or one key added, somewhere."""
    obj = copy.deepcopy(draw(st.sampled_from(objects)))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(_paths(obj)[1:]))
        parent = obj
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace" or (action == "delete" and isinstance(parent, list)):
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(["extra", "name", "enabled"]))] = draw(JSON_VALUES)
    return obj


def _agree(schema_ref, obj: dict) -> None:
    subject = validation._subject(obj)
    fast = schemacheck.conforms(
        validation._schema(schema_ref), subject, validation._resolver(schema_ref), validation._draft(schema_ref)
    )
    slow = list(validation._validator(schema_ref).iter_errors(subject))
    if fast is True:
        assert slow == [], [e.message for e in slow]
    elif fast is False:
        assert slow != []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(GENERATED + PIPELINE + [yaml_load(UPSTREAM / "sops" / "monitoring-secrets.enc.yaml")]))
def test_the_fast_check_agrees_with_jsonschema_on_objects(obj):
    ref = validation.schema_for(str(obj.get("apiVersion", "")), str(obj.get("kind", "")), "1.32")
    assume(ref is not None)
    _agree(ref, obj)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated([config_model.apply_defaults(yaml_load(REPO / "function-config" / "observability.yaml"))]))
def test_the_fast_check_agrees_with_jsonschema_on_configs(obj):
    fast = schemacheck.conforms(config_model.schema(), obj, config_model._resolve_ref)
    slow = list(schemacheck.validator(config_model.schema()).iter_errors(obj))
    if fast is True:
        assert slow == [], [e.message for e in slow]
    elif fast is False:
        assert slow != []


def test_the_fast_check_passes_the_generated_stack_and_the_default_config():
    for obj in GENERATED + PIPELINE:
        ref = validation.schema_for(obj["apiVersion"], obj["kind"], "1.32")
        if ref is not None:
            subject = validation._subject(obj)
            assert schemacheck.conforms(
                validation._schema(ref), subject, validation._resolver(ref), validation._draft(ref)
            ), obj["kind"]
    config = config_model.apply_defaults(yaml_load(REPO / "function-config" / "observability.yaml"))
    assert schemacheck.conforms(config_model.schema(), config, config_model._resolve_ref) is True


@pytest.mark.parametrize(
    ("schema", "instance", "expected"),
    [
        ({"type": "integer"}, 1.0, None),  # jsonschema says integer; the fast check leaves it to jsonschema
        ({"type": "integer"}, True, False),
        ({"enum": [1]}, True, False),
        ({"enum": ["a"]}, ["a"], None),
        ({"pattern": "^a$"}, "a\n", False),
        ({"unknownKeyword": 1}, "a", None),
        ({"not": {"type": "string"}}, 1, True),
        ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "a", False),
        ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x", "b": 1}, False),
        ({"$ref": "#/nowhere"}, 1, None),
        ({"not": {"minimum": 5}}, float("nan"), None),  # jsonschema lets NaN through every bound
        ({"maximum": 5}, 7, False),
    ],
)
def test_the_fast_check_answers_only_when_sure(schema, instance, expected):
    assert schemacheck.conforms(schema, instance, lambda ref: None) is expected
