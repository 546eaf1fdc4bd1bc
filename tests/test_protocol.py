"""The legacy exec plugin protocol (kubectl kustomize) and the KRM error paths, in-process."""

from __future__ import annotations

import yaml

from krm_fn import engine, protocol
from krm_fn import yaml as yamlio
from tests.helpers import UPSTREAM, default_config

SECRET_TEXT = (UPSTREAM / "sops" / "monitoring-secrets.enc.yaml").read_text()


def write_config(tmp_path, config: dict | None = None):
    path = tmp_path / "kust-plugin-config-1"
    path.write_text(yaml.safe_dump(config or default_config(), sort_keys=False))
    return str(path)


def test_legacy_generator_prints_the_stack(tmp_path, monkeypatch):
    monkeypatch.delenv("KUSTOMIZE_PLUGIN_CONFIG_STRING", raising=False)
    outcome = protocol.run_legacy(write_config(tmp_path), b"")
    assert outcome.exit_code == 0, outcome.stderr
    docs = [d.data for d in yamlio.load_documents(outcome.stdout)]
    assert docs and all(d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "observability-fn" for d in docs)
    assert all("config.kubernetes.io/path" not in d["metadata"].get("annotations", {}) for d in docs)


def test_legacy_transformer_passes_documents_through_verbatim(tmp_path, monkeypatch):
    monkeypatch.delenv("KUSTOMIZE_PLUGIN_CONFIG_STRING", raising=False)
    other = (
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: x\n  annotations:\n"
        "    kustomize.config.k8s.io/id: |\n      group: example.com\n      kind: Widget\n      name: x\n"
        "      version: v1\nspec:\n  a: 0777\n"
    )
    stdin = (other + "---\n" + SECRET_TEXT).encode()
    outcome = protocol.run_legacy(write_config(tmp_path), stdin)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith(other + "---\n" + SECRET_TEXT + "---\n")


def test_legacy_config_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("KUSTOMIZE_PLUGIN_CONFIG_STRING", yaml.safe_dump(default_config()))
    outcome = protocol.run_legacy(str(tmp_path / "does-not-exist"), b"")
    assert outcome.exit_code == 0, outcome.stderr


def test_legacy_validator_prints_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("KUSTOMIZE_PLUGIN_CONFIG_STRING", raising=False)
    config = default_config()
    config["metadata"]["annotations"][engine.MODE_ANNOTATION] = "validate"
    outcome = protocol.run_legacy(write_config(tmp_path, config), SECRET_TEXT.encode())
    assert outcome.stdout == ""
    assert outcome.exit_code == 0, outcome.stderr


def test_legacy_unreadable_config_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("KUSTOMIZE_PLUGIN_CONFIG_STRING", raising=False)
    outcome = protocol.run_legacy(str(tmp_path / "missing.yaml"), b"")
    assert outcome.exit_code == 1
    assert outcome.stdout == "" and outcome.stderr.count("\n") == 1 and "cannot read" in outcome.stderr


def test_legacy_duplicate_key_in_config_names_key_and_line(tmp_path, monkeypatch):
    monkeypatch.delenv("KUSTOMIZE_PLUGIN_CONFIG_STRING", raising=False)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(default_config(), sort_keys=False) + "spec: {}\n")
    outcome = protocol.run_legacy(str(path), b"")
    assert outcome.exit_code == 1
    assert "duplicate key 'spec'" in outcome.stderr and "line" in outcome.stderr


def test_krm_rejects_a_document_that_is_not_a_resource_list():
    outcome = protocol.run_krm(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    assert outcome.exit_code == 1
    assert "stdin is a ConfigMap, not a ResourceList" in outcome.stderr
    assert yamlio.load_one(outcome.stdout)["results"][0]["severity"] == "error"


def test_krm_error_messages_never_quote_the_input():
    secret_like = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n  hunter2-secret: {\n"
    outcome = protocol.run_krm(secret_like)
    assert outcome.exit_code == 1
    assert "hunter2" not in outcome.stderr and "hunter2" not in outcome.stdout
