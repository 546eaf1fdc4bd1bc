"""One run of the function: config discovery, generate, replace what we generated, conflicts, modes."""

from __future__ import annotations

import yaml

from krm_fn import components, engine, protocol
from krm_fn import yaml as yamlio
from tests.helpers import UPSTREAM, config_with, default_config, generated_of_kind, resource_list, run_krm

SECRET = yaml.safe_load((UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text())
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "apps"}, "data": {}}


def kinds(output: dict) -> list[tuple[str, str]]:
    return [(i["kind"], i["metadata"]["name"]) for i in output["items"]]


def test_generates_the_stack_and_passes_other_items_through():
    out, outcome = run_krm([CONFIGMAP, SECRET], default_config())
    assert outcome.exit_code == 0, outcome.stderr
    assert out["items"][:2] == [CONFIGMAP, SECRET]
    generated = out["items"][2:]
    assert generated, "nothing generated"
    for obj in generated:
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "observability-fn"
        assert obj["metadata"]["annotations"][components.CONFIG_ANNOTATION] == "observability"
    assert {"Namespace", "HelmRepository", "HelmRelease", "HTTPRoute"} <= {o["kind"] for o in generated}


def test_rerun_on_own_output_replaces_and_never_duplicates():
    first, _ = run_krm([CONFIGMAP, SECRET], default_config())
    second, outcome = run_krm(first["items"], default_config())
    assert outcome.exit_code == 0, outcome.stderr
    assert kinds(second) == kinds(first)
    assert second["items"] == first["items"]


def test_rerun_removes_what_the_config_no_longer_asks_for():
    first, _ = run_krm([SECRET], default_config())
    config = config_with(ui={"alloy": {"enabled": False}})
    second, _ = run_krm(first["items"], config)
    assert "alloy" in [r["metadata"]["name"] for r in generated_of_kind(first, "HTTPRoute")]
    assert "alloy" not in [r["metadata"]["name"] for r in generated_of_kind(second, "HTTPRoute")]


def test_objects_of_another_config_are_left_alone():
    other = dict(
        CONFIGMAP,
        metadata={
            "name": "theirs",
            "namespace": "apps",
            "labels": {"app.kubernetes.io/managed-by": "observability-fn"},
            "annotations": {components.CONFIG_ANNOTATION: "another-cluster"},
        },
    )
    out, _ = run_krm([other, SECRET], default_config())
    assert other in out["items"]


def test_a_user_object_with_the_identity_of_a_generated_one_is_an_error():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}
    out, outcome = run_krm([namespace, SECRET], default_config())
    assert outcome.exit_code == 1
    conflicts = [r for r in out["results"] if r["tags"]["rule"] == engine.CONFLICT_RULE]
    assert len(conflicts) == 1
    assert conflicts[0]["resourceRef"] == {"apiVersion": "v1", "kind": "Namespace", "name": "monitoring"}
    assert "delete your copy" in conflicts[0]["message"]
    assert "spec.namespaceMetadata: labels, annotations, podSecurity" in conflicts[0]["message"]


def test_config_found_among_items_when_function_config_is_kpts_empty_configmap():
    function_input = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}, "data": {}}
    out, outcome = run_krm([default_config(), SECRET], function_input)
    assert outcome.exit_code == 0, outcome.stderr
    assert generated_of_kind(out, "HelmRelease")


def test_no_config_is_one_clear_error():
    out, outcome = run_krm([CONFIGMAP])
    assert outcome.exit_code == 1
    assert [r["tags"]["rule"] for r in out["results"]] == [engine.CONFIG_RULE]
    assert "--fn-config" in outcome.stderr
    assert out["items"] == [CONFIGMAP], "on an error the items go back untouched (never an empty list)"


def test_two_configs_without_a_function_config_is_an_error():
    second = default_config()
    second["metadata"]["name"] = "other"
    _, outcome = run_krm([default_config(), second])
    assert outcome.exit_code == 1 and "2 ObservabilityConfigs found (observability, other)" in outcome.stderr


def test_a_function_config_of_another_kind_is_an_error():
    _, outcome = run_krm([CONFIGMAP], {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert outcome.exit_code == 1 and "functionConfig is a Secret, not an ObservabilityConfig" in outcome.stderr


def test_config_errors_leave_items_untouched_and_exit_1():
    out, outcome = run_krm([CONFIGMAP], config_with(domain="Not_A_Domain"))
    assert outcome.exit_code == 1
    assert out["items"] == [CONFIGMAP]
    assert outcome.stderr.count("\n") == len(out["results"]) == 1
    assert "spec.domain" in outcome.stderr


def test_validate_mode_changes_nothing():
    config = default_config()
    config["metadata"]["annotations"][engine.MODE_ANNOTATION] = "validate"
    out, outcome = run_krm([CONFIGMAP, SECRET], config)
    assert outcome.exit_code == 0, outcome.stderr
    assert out["items"] == [CONFIGMAP, SECRET]


def test_validate_mode_under_kustomize_prints_no_items():
    """kustomize validators must not echo the resource map.

    Facts: docs/reference/consumers.md#3-standalone-kustomize-exec-functions.
    """
    config = default_config()
    config["metadata"]["annotations"][engine.MODE_ANNOTATION] = "validate"
    tagged = dict(CONFIGMAP, metadata={**CONFIGMAP["metadata"], "annotations": {protocol.KUSTOMIZE_ID: "x"}})
    out, _ = run_krm([tagged, SECRET], config)
    assert out["items"] == []


def test_kpt_gets_predictable_paths_next_to_the_config():
    config_item = default_config()
    config_item["metadata"]["annotations"]["config.kubernetes.io/path"] = "infra/obs.yaml"
    out, _ = run_krm([config_item, SECRET], config_item)
    paths = {
        (o["kind"], o["metadata"]["name"]): o["metadata"]["annotations"]["config.kubernetes.io/path"]
        for o in out["items"][2:]
    }
    assert set(paths.values()) == {"infra/generated/observability.yaml"}  # one file: the config's name
    indexes = [o["metadata"]["annotations"]["config.kubernetes.io/index"] for o in out["items"][2:]]
    assert indexes == [str(i) for i in range(len(indexes))]  # kpt needs each document's place in it


def test_items_pass_through_byte_for_byte():
    """Whatever the function does not own comes back as the very same text."""
    rl = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "- apiVersion: example.com/v1 # why\n  kind: Widget\n  metadata:\n    name: odd\n"
        '  spec:\n    a: 1.10\n    b: 0777\n    c: on\n    d: "123"\n    e: |\n      trailing  \n'
        + "".join(
            "- " + line if i == 0 else "  " + line
            for i, line in enumerate(
                (UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text().splitlines(keepends=True)
            )
        )
        + "functionConfig:\n"
        + "".join("  " + line for line in yaml.safe_dump(default_config(), sort_keys=False).splitlines(True))
    )
    outcome = protocol.run_krm(rl.encode())
    assert outcome.exit_code == 0, outcome.stderr
    items_text = outcome.stdout.split("items:\n", 1)[1]
    passed = rl.split("items:\n", 1)[1].split("functionConfig:")[0]
    assert items_text.startswith(passed)


def test_generated_output_is_deterministic():
    first = protocol.run_krm(resource_list([SECRET], default_config()))
    second = protocol.run_krm(resource_list([SECRET], default_config()))
    assert first.stdout == second.stdout and first.stderr == second.stderr


def test_output_parses_without_duplicate_keys():
    out, _ = run_krm([SECRET], default_config())
    text = protocol.run_krm(resource_list([SECRET], default_config())).stdout
    assert yamlio.load_one(text) == out
