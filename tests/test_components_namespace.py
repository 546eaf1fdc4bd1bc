"""The generated Namespaces: the stack's at baseline with the user's labels and annotations, and
node-exporter's own, at privileged."""

from __future__ import annotations

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.components import kube_prometheus_stack
from krm_fn.components.namespace import ENFORCE_LABEL, node_exporter_namespace
from tests.helpers import config_with, default_config, load


def namespace(config: dict | None = None) -> dict:
    cfg, errors = config_model.load(config or default_config())
    assert cfg is not None, [e.message for e in errors]
    (found,) = [o for o in namespaces(cfg) if o["metadata"]["name"] == cfg.namespace]
    return found


def namespaces(cfg) -> list[dict]:
    return [o for o in components.generate(cfg) if o["kind"] == "Namespace"]


def test_default_namespace_enforces_baseline_and_node_exporter_gets_its_own_privileged_one():
    assert namespace()["metadata"]["labels"][ENFORCE_LABEL] == "baseline"
    cfg = load(config_with(namespace="obs", namespaceMetadata={"podSecurity": "restricted", "labels": {"a": "b"}}))
    stack, node_exporter = namespaces(cfg)
    assert stack["metadata"]["labels"][ENFORCE_LABEL] == "restricted"
    assert node_exporter["metadata"]["name"] == "obs-node-exporter" == node_exporter_namespace(cfg)
    assert node_exporter["metadata"]["labels"] == {
        ENFORCE_LABEL: "privileged",
        "app.kubernetes.io/managed-by": "observability-fn",
    }
    assert kube_prometheus_stack.values(cfg)["prometheus-node-exporter"].get("namespaceOverride") is None
    release = next(o for o in components.generate(cfg) if o["metadata"]["name"] == "kube-prometheus-stack")
    assert release["spec"]["values"]["prometheus-node-exporter"]["namespaceOverride"] == "obs-node-exporter"


def test_a_namespace_too_long_for_node_exporters_is_refused_with_the_reason():
    ((field, message),) = field_errors({"namespace": "n" * 50})
    assert field == "spec.namespace" and "node-exporter" in message and "49" in message
    assert field_errors({"namespace": "n" * 49}) == []


def test_user_labels_and_annotations_are_added_and_ours_kept():
    meta = namespace(
        config_with(
            namespaceMetadata={
                "labels": {"team": "ops", "example.com/tier": ""},
                "annotations": {"owner": "me@example.com"},
            }
        )
    )["metadata"]
    assert meta["labels"]["team"] == "ops" and meta["labels"]["example.com/tier"] == ""
    assert meta["labels"][ENFORCE_LABEL] == "baseline"
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "observability-fn"
    assert meta["annotations"]["owner"] == "me@example.com"
    assert meta["annotations"]["observability.catinthehack.ca/config"] == "observability"


def test_pod_security_level_can_be_changed_or_left_to_the_cluster():
    privileged = namespace(config_with(namespaceMetadata={"podSecurity": "privileged"}))
    assert privileged["metadata"]["labels"][ENFORCE_LABEL] == "privileged"
    none = namespace(config_with(namespaceMetadata={"podSecurity": "none"}))
    assert ENFORCE_LABEL not in none["metadata"]["labels"]


def field_errors(spec: dict) -> list[tuple[str, str]]:
    _, errors = config_model.load(config_with(**spec))
    return [(e.field, e.message) for e in errors]


def test_labels_the_function_writes_are_refused_with_the_field_to_use():
    ((field, message),) = field_errors({"namespaceMetadata": {"labels": {ENFORCE_LABEL: "baseline"}}})
    assert field == "spec.namespaceMetadata.labels" and "spec.namespaceMetadata.podSecurity" in message
    ((field, message),) = field_errors({"namespaceMetadata": {"labels": {"app.kubernetes.io/managed-by": "me"}}})
    assert field == "spec.namespaceMetadata.labels"
    ((field, _),) = field_errors({"namespaceMetadata": {"annotations": {"observability.catinthehack.ca/config": "x"}}})
    assert field == "spec.namespaceMetadata.annotations"


def test_invalid_label_keys_and_values_are_named():
    errors = field_errors({"namespaceMetadata": {"labels": {"a/b/c": "x", "ok": "two words"}}})
    assert [f for f, _ in errors] == ["spec.namespaceMetadata.labels", "spec.namespaceMetadata.labels.ok"]
    assert "'a/b/c' is not a label or annotation key" in errors[0][1]
    assert "'two words' is not a label value" in errors[1][1]
