"""The generated Namespace: Pod Security level node-exporter needs, and the user's labels and annotations."""

from __future__ import annotations

from krm_fn import components
from krm_fn import config as config_model
from krm_fn.components.namespace import ENFORCE_LABEL
from tests.helpers import config_with, default_config


def namespace(config: dict | None = None) -> dict:
    cfg, errors = config_model.load(config or default_config())
    assert cfg is not None, [e.message for e in errors]
    (found,) = [o for o in components.generate(cfg) if o["kind"] == "Namespace"]
    return found


def test_default_namespace_enforces_privileged_for_node_exporter():
    labels = namespace()["metadata"]["labels"]
    assert labels[ENFORCE_LABEL] == "privileged"


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
    assert meta["labels"][ENFORCE_LABEL] == "privileged"
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "observability-fn"
    assert meta["annotations"]["owner"] == "me@example.com"
    assert meta["annotations"]["observability.catinthehack.ca/config"] == "observability"


def test_pod_security_level_can_be_changed_or_left_to_the_cluster():
    baseline = namespace(config_with(namespaceMetadata={"podSecurity": "baseline"}))
    assert baseline["metadata"]["labels"][ENFORCE_LABEL] == "baseline"
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
