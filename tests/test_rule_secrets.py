"""The SOPS Secret rules, on Secrets encrypted at test time by the real sops with a fresh age key.

Each rule has a passing and a failing case. The fixture variants mirror third_party/upstream/sops/;
a test first checks that the real `sops decrypt` says about them what the upstream README says, so
the rules are tested against what sops really writes, not against our idea of it.
"""

from __future__ import annotations

import base64
import copy
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from krm_fn import config as config_model
from krm_fn import lint, report
from krm_fn import sops as sops_format
from krm_fn import yaml as yamlio
from krm_fn.checks import RULES, CheckContext, run_rules, secret_values, stack_secret
from krm_fn.checks import secrets as rules
from krm_fn.files import read_items
from krm_fn.items import Item
from krm_fn.results import Result, Severity
from tests.helpers import config_with, default_config, run_krm
from tests.sops_fixtures import DECRYPT_RC, NAMESPACE, SECRET_NAME, Sops, make_sops, secret_text, upstream_values

SECRET_RULES = (stack_secret.PRESENT, rules.ENCRYPTED, rules.METADATA, stack_secret.REQUIRED_KEYS, rules.PLAINTEXT)
GRAFANA_ONLY = {"grafana-admin-user": "admin", "grafana-admin-password": "S3cure-Passw0rd!"}


@pytest.fixture(scope="module")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
    return make_sops(tmp_path_factory.mktemp("age"))


@pytest.fixture(scope="module")
def files(sops: Sops, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return sops.variants(tmp_path_factory.mktemp("variants"))


def check(
    paths: list[Path], config: dict | None = None, *, no_config: bool = False, sees_pipeline: bool = True
) -> list[Result]:
    """The secret rules' results over files (config: the default one unless given or no_config)."""
    items, errors = read_items([str(p) for p in paths])
    assert errors == []
    loaded = None
    if not no_config:
        loaded, problems = config_model.load(default_config() if config is None else config)
        assert problems == []
    ctx = CheckContext(loaded, [], items, sees_pipeline)
    results = list(run_rules(ctx, [r for r in RULES if r.id in SECRET_RULES]))
    assert not [r for r in results if r.rule == "internal-error"]
    return results


def only(results: list[Result], rule_id: str) -> list[Result]:
    return [r for r in results if r.rule == rule_id]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def edit_sops_block(path: Path, target: Path, change) -> Path:
    """A copy of an encrypted file with its sops block changed by `change(block)` (keyless edits)."""
    doc = yaml.safe_load(path.read_text())
    change(doc["sops"])
    return write(target, yaml.safe_dump(doc, sort_keys=False, width=1 << 20))


# --- the fixtures are what upstream says they are ----------------------------------------------


@pytest.mark.parametrize("variant", sorted(DECRYPT_RC))
def test_real_sops_agrees_with_the_upstream_readme(sops: Sops, files: dict[str, Path], variant: str) -> None:
    assert sops.decrypt(files[variant]).returncode == DECRYPT_RC[variant]


def test_rules_are_registered_with_their_severities() -> None:
    registered = {r.id: r.severity for r in RULES if r.id in SECRET_RULES}
    assert registered == {
        stack_secret.PRESENT: Severity.ERROR,
        rules.ENCRYPTED: Severity.ERROR,
        rules.METADATA: Severity.ERROR,
        stack_secret.REQUIRED_KEYS: Severity.ERROR,
        rules.PLAINTEXT: Severity.ERROR,
    }


def test_good_secret_passes_every_rule(files: dict[str, Path]) -> None:
    assert check([files["good"]]) == []


# --- sops-secret-present -----------------------------------------------------------------------


def test_missing_stack_secret_is_an_error(sops: Sops, tmp_path: Path) -> None:
    other = sops.encrypt_text(secret_text({"token": "abc"}, name="unrelated"), tmp_path / "other.enc.yaml")
    results = only(check([other]), stack_secret.PRESENT)
    assert [(r.severity, r.field) for r in results] == [(Severity.ERROR, "spec.secret.name")]
    assert f"Secret {NAMESPACE}/{SECRET_NAME} is not in the pipeline" in results[0].message
    assert results[0].resource is not None and results[0].resource.kind == "ObservabilityConfig"


def test_stack_secret_in_another_namespace_is_named_in_the_error(sops: Sops, tmp_path: Path) -> None:
    moved = sops.encrypt_text(secret_text(upstream_values(), namespace="flux-system"), tmp_path / "moved.enc.yaml")
    results = only(check([moved]), stack_secret.PRESENT)
    assert len(results) == 1 and results[0].is_error
    assert "a Secret of that name is in namespace flux-system" in results[0].message


def test_consumer_that_shows_only_the_config_gets_one_info(files: dict[str, Path]) -> None:
    """kustomize `generators:` pass the config alone: the Secret cannot be checked, and that is said once."""
    results = check([], sees_pipeline=False)
    assert [(r.rule, r.severity) for r in results] == [(stack_secret.PRESENT, Severity.INFO)]
    assert "transformers:" in results[0].message
    assert check([], sees_pipeline=True) != results  # the same input seen as a pipeline is an error


def test_secret_without_namespace_is_taken_with_a_warning(sops: Sops, tmp_path: Path) -> None:
    bare = sops.encrypt_text(secret_text(upstream_values(), namespace=None), tmp_path / "bare.enc.yaml")
    results = check([bare])
    assert [(r.rule, r.severity, r.field) for r in results] == [(stack_secret.PRESENT, Severity.WARNING, "metadata")]
    assert f"namespace: {NAMESPACE}" in results[0].message


def test_secret_name_comes_from_the_config(sops: Sops, files: dict[str, Path], tmp_path: Path) -> None:
    renamed = sops.encrypt_text(secret_text(upstream_values(), name="creds"), tmp_path / "creds.enc.yaml")
    assert check([renamed, files["good"]], config_with(secret={"name": "creds"})) == []
    assert only(check([files["good"]], config_with(secret={"name": "creds"})), stack_secret.PRESENT)


def test_no_config_means_no_stack_secret_rules(files: dict[str, Path]) -> None:
    assert check([files["tampered-removed-key"]], no_config=True) == []


# --- sops-required-keys ------------------------------------------------------------------------


def test_removed_key_is_an_error_naming_it(files: dict[str, Path]) -> None:
    results = check([files["tampered-removed-key"]])
    assert [(r.rule, r.field) for r in results] == [(stack_secret.REQUIRED_KEYS, "stringData.grafana-admin-user")]
    assert "'grafana-admin-user' is missing" in results[0].message
    assert "must not end in a newline" in results[0].message  # the help the keyless check cannot give otherwise


def test_the_seed_secret_lacks_grafana_admin_user_though_sops_accepts_it(sops: Sops, tmp_path: Path) -> None:
    """The seed plan's Secret has no grafana-admin-user: a valid MAC, and Grafana would not start."""
    seed = {k: v for k, v in upstream_values().items() if k != "grafana-admin-user"}
    path = sops.encrypt_text(secret_text(seed), tmp_path / "seed.enc.yaml")
    assert sops.decrypt(path).returncode == 0
    assert [(r.rule, r.field) for r in check([path])] == [(stack_secret.REQUIRED_KEYS, "stringData.grafana-admin-user")]


def test_pushover_keys_are_required_only_while_pushover_is_on(sops: Sops, tmp_path: Path) -> None:
    path = sops.encrypt_text(secret_text(GRAFANA_ONLY), tmp_path / "grafana-only.enc.yaml")
    pushover_off = config_with(alerting={"pushover": {"enabled": False}})
    assert check([path], pushover_off) == []
    results = check([path])
    assert sorted(r.field for r in results if r.rule == stack_secret.REQUIRED_KEYS) == [
        "stringData.pushover-api-token",
        "stringData.pushover-user-key",
    ]


def test_heartbeat_key_is_required_only_while_the_heartbeat_is_on(sops: Sops, tmp_path: Path) -> None:
    path = sops.encrypt_text(secret_text(upstream_values()), tmp_path / "no-heartbeat.enc.yaml")
    assert check([path]) == []
    results = check([path], config_with(alerting={"heartbeat": {"urlKey": "hc-url"}}))
    assert [(r.rule, r.field) for r in results] == [(stack_secret.REQUIRED_KEYS, "stringData.hc-url")]
    assert "heartbeat webhook url_file" in results[0].message
    with_key = sops.encrypt_text(secret_text({**upstream_values(), "hc-url": "x"}), tmp_path / "hb.enc.yaml")
    assert check([with_key], config_with(alerting={"heartbeat": {"urlKey": "hc-url"}})) == []


@pytest.mark.parametrize(
    ("implementation", "field"), [("traefik", "stringData.users"), ("envoy-gateway", "stringData.[.htpasswd]")]
)
def test_basic_auth_needs_the_htpasswd_key_its_implementation_reads(
    sops: Sops, tmp_path: Path, implementation: str, field: str
) -> None:
    path = sops.encrypt_text(secret_text(upstream_values()), tmp_path / "no-htpasswd.enc.yaml")
    config = config_with(access={"implementation": implementation, "all": {"basicAuth": True}})
    results = check([path], config)
    assert [(r.rule, r.field) for r in results] == [(stack_secret.REQUIRED_KEYS, field)]
    assert "htpasswd" in results[0].message
    assert check([path], config_with(access={"all": {"allowNetworks": ["10.0.0.0/8"]}})) == []


def test_keys_under_data_count(sops: Sops, tmp_path: Path) -> None:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in upstream_values().items()}
    path = sops.encrypt_text(secret_text(encoded, section="data"), tmp_path / "data.enc.yaml")
    assert sops.decrypt(path).returncode == 0
    assert check([path]) == []


def test_empty_required_value_is_an_error(sops: Sops, tmp_path: Path) -> None:
    """sops leaves "" in clear, so an empty value is visible without the key."""
    values = {**upstream_values(), "pushover-api-token": ""}
    path = sops.encrypt_text(secret_text(values), tmp_path / "empty.enc.yaml")
    assert sops.decrypt(path).returncode == 0
    results = check([path])
    assert [(r.rule, r.field) for r in results] == [(stack_secret.REQUIRED_KEYS, "stringData.pushover-api-token")]
    assert "is empty" in results[0].message


# --- sops-encrypted ----------------------------------------------------------------------------


def test_plaintext_stack_secret_is_an_error(files: dict[str, Path]) -> None:
    results = check([files["plain"]])
    assert [(r.rule, r.severity, r.field) for r in results] == [(rules.ENCRYPTED, Severity.ERROR, None)]
    assert "not SOPS-encrypted" in results[0].message and "sops encrypt" in results[0].message


def test_stack_secret_stays_an_error_when_plaintext_secrets_are_relaxed(files: dict[str, Path]) -> None:
    results = check([files["plain"]], config_with(checks={"plaintextSecrets": "warning"}))
    assert [(r.rule, r.severity) for r in results] == [(rules.ENCRYPTED, Severity.ERROR)]


def test_partial_encryption_is_caught_though_the_mac_is_valid(sops: Sops, files: dict[str, Path]) -> None:
    assert sops.decrypt(files["partial"]).returncode == 0
    results = check([files["partial"]])
    assert [(r.rule, r.field) for r in results] == [(rules.ENCRYPTED, "stringData.pushover-user-key")]
    assert "encrypted_regex does not match it" in results[0].message


def test_value_replaced_by_hand_is_caught(files: dict[str, Path]) -> None:
    results = check([files["tampered-plaintext"]])
    assert [(r.rule, r.field) for r in results] == [(rules.ENCRYPTED, "stringData.grafana-admin-password")]
    assert "edited after encryption" in results[0].message
    assert f"`sops edit {files['tampered-plaintext']}`" in results[0].message  # the fix names the real file


def test_sops_block_removed_from_an_encrypted_file(files: dict[str, Path], tmp_path: Path) -> None:
    doc = yaml.safe_load(files["good"].read_text())
    del doc["sops"]
    path = write(tmp_path / "no-sops.yaml", yaml.safe_dump(doc, sort_keys=False, width=1 << 20))
    results = check([path])
    assert [r.rule for r in results] == [rules.ENCRYPTED]
    assert "sops block is missing" in results[0].message


def test_unencrypted_regex_is_named(sops: Sops, tmp_path: Path) -> None:
    """A common .sops.yaml leaves metadata in clear by unencrypted_regex; a data key it matches stays plaintext."""
    path = write(tmp_path / "regex.enc.yaml", secret_text({**upstream_values(), "note": "visible"}))
    selector = "^(apiVersion|kind|metadata|type|note)$"
    proc = sops.with_rule(tmp_path / "cfg").run("encrypt", "--unencrypted-regex", selector, "--in-place", str(path))
    assert proc.returncode == 0, proc.stderr
    assert sops.decrypt(path).returncode == 0
    results = check([path])
    assert [(r.rule, r.field) for r in results] == [(rules.ENCRYPTED, "stringData.note")]
    assert "unencrypted_regex matches it" in results[0].message


def test_object_encrypted_whole_is_an_error(sops: Sops, tmp_path: Path) -> None:
    """sops with no selector encrypts apiVersion, kind and metadata too: no consumer can read the object."""
    path = write(tmp_path / "whole.enc.yaml", secret_text(upstream_values()))
    proc = sops.with_rule(tmp_path / "cfg").run("encrypt", "--in-place", str(path))
    assert proc.returncode == 0, proc.stderr
    assert sops.decrypt(path).returncode == 0
    results = check([path])
    assert sorted((r.rule, r.severity) for r in results) == [
        (rules.ENCRYPTED, Severity.ERROR),
        (stack_secret.PRESENT, Severity.ERROR),
    ]
    whole = only(results, rules.ENCRYPTED)[0]
    assert "kind and metadata encrypted" in whole.message and whole.resource is None
    assert whole.location is not None and whole.location.path == str(path)


def test_a_value_the_files_encrypted_regex_leaves_clear_is_a_warning(
    sops: Sops, files: dict[str, Path], tmp_path: Path
):
    """encrypted_regex: ^token$ leaves `password` in clear on purpose (the sops metadata says so): a warning."""
    text = secret_text({"token": "t0ken-value", "password": "pa55word"}, name="app", namespace="apps")
    path = sops.encrypt_text(text, tmp_path / "app.enc.yaml", encrypted_regex="^token$")
    relaxed = config_with(checks={"plaintextSecrets": "warning"})
    results = check([files["good"], path], relaxed)
    assert [(r.rule, r.severity, r.field) for r in results] == [
        (rules.ENCRYPTED, Severity.WARNING, "stringData.password")
    ]
    assert "encrypted_regex does not match it" in results[0].message and "pa55word" not in results[0].message


@pytest.mark.parametrize(
    ("option", "value", "left_clear"),
    [
        ("unencrypted_regex", "^(password)$", "password"),
        ("encrypted_suffix", "_enc", "password"),
        ("unencrypted_suffix", "_clear", "note_clear"),
    ],
)
def test_every_sops_selector_leaving_a_value_clear_is_a_warning(files, tmp_path, option, value, left_clear):
    doc = yaml.safe_load(files["good"].read_text())
    doc["metadata"] = {"name": "app", "namespace": "apps"}
    enc = doc["stringData"]["grafana-admin-password"]
    doc["stringData"] = {"token_enc" if option == "encrypted_suffix" else "token": enc, left_clear: "not-shown-1"}
    doc["sops"][option] = value
    path = write(tmp_path / "app.enc.yaml", yaml.safe_dump(doc, sort_keys=False, width=1 << 20))
    results = check([files["good"], path])
    assert [(r.rule, r.severity, r.field) for r in results] == [
        (rules.ENCRYPTED, Severity.WARNING, f"stringData.{left_clear}")
    ]


def test_a_value_the_files_encrypted_regex_covers_left_clear_is_still_an_error(sops, files, tmp_path):
    text = secret_text({"token": "t0ken-value", "password": "pa55word"}, name="app", namespace="apps")
    path = sops.encrypt_text(text, tmp_path / "app.enc.yaml", encrypted_regex="^(token|password)$")
    doc = yaml.safe_load(path.read_text())
    doc["stringData"]["password"] = "pasted-by-hand"
    path = write(path, yaml.safe_dump(doc, sort_keys=False, width=1 << 20))
    results = check([files["good"], path], config_with(checks={"plaintextSecrets": "warning"}))
    assert [(r.rule, r.severity, r.field) for r in results] == [
        (rules.ENCRYPTED, Severity.ERROR, "stringData.password")
    ]
    assert "edited after encryption" in results[0].message


def test_every_value_the_real_sops_writes_is_accepted(sops: Sops, tmp_path: Path) -> None:
    values: dict[str, object] = {f"s{n}": "x" * n for n in (1, 2, 3, 15, 16, 17, 100, 1000)}
    values.update({"unicode": "pässwörd-🔑", "int": 8080, "float": 1.5, "bool": True, "empty": "", "null": None})
    values.update(upstream_values())
    path = sops.encrypt_text(secret_text(values), tmp_path / "many.enc.yaml")
    assert sops.decrypt(path).returncode == 0
    assert check([path]) == []
    encrypted = yaml.safe_load(path.read_text())["stringData"]
    types = {v.rsplit("type:", 1)[1] for v in encrypted.values() if v}
    assert types == {"str]", "int]", "float]", "bool]"}
    for value in encrypted.values():
        assert value in ("", None) or sops_format.enc_problem(value) is None


@pytest.fixture(scope="module")
def real_enc_values(sops: Sops, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    values = {f"k{n}": "v" * n for n in range(1, 40)}
    path = sops.encrypt_text(secret_text(values), tmp_path_factory.mktemp("enc") / "values.enc.yaml")
    return list(yaml.safe_load(path.read_text())["stringData"].values())


def _mutations(value: str) -> list[str]:
    """Damaged copies of a well-formed sops value; each must be rejected."""
    head, rest = value.split("data:", 1)
    data, rest = rest.split(",iv:", 1)
    iv, rest = rest.split(",tag:", 1)
    tag, kind = rest.split(",type:", 1)

    def build(d: str = data, i: str = iv, t: str = tag, k: str = kind, h: str = head) -> str:
        return f"{h}data:{d},iv:{i},tag:{t},type:{k}"

    short_iv = base64.b64encode(base64.b64decode(iv)[:31]).decode()
    long_tag = base64.b64encode(base64.b64decode(tag) + b"\0").decode()
    return [
        build(i=short_iv),
        build(t=long_tag),
        build(t=tag.rstrip("=")),  # unpadded base64
        build(d=""),
        build(d=data + "!"),
        build(k="strr]"),
        build(k="str"),  # no closing bracket
        build(h="ENC[AES128_GCM,"),
        value + "\n",
        value + " ",
        " " + value,
        value[:-1],
        value.replace(",iv:", ",IV:"),
        value.lower(),
    ]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_damaged_sops_values_are_always_rejected(real_enc_values: list[str], data: st.DataObject) -> None:
    """The rule never accepts what it claims to check: every damaged variant of a real value fails."""
    value = data.draw(st.sampled_from(real_enc_values))
    assert sops_format.enc_problem(value) is None
    for damaged in _mutations(value):
        assert sops_format.enc_problem(damaged) is not None, damaged


TEXT = st.text(alphabet=string.printable + "äöü🔑", min_size=1, max_size=200)


@settings(max_examples=200, deadline=None)
@given(st.one_of(TEXT, TEXT.map(lambda t: "ENC[AES256_GCM,data:" + t), TEXT.map(lambda t: f"ENC[{t}]")))
def test_plaintext_is_never_taken_for_a_sops_value(text: str) -> None:
    assert sops_format.enc_problem(text) is not None


# --- sops-metadata -----------------------------------------------------------------------------


def _drop(key: str):
    return lambda block: block.pop(key)


def _set(key: str, value: object):
    return lambda block: block.__setitem__(key, value)


def _age_entry(change):
    def apply(block: dict) -> None:
        change(block["age"][0])

    return apply


def _mac_part(block: dict, part: str, size: int) -> None:
    """Cut the mac's `part` (data or iv) to `size` bytes, keeping it valid base64."""
    head, rest = block["mac"].split(f"{part}:", 1)
    value, tail = rest.split(",", 1)
    block["mac"] = f"{head}{part}:{base64.b64encode(base64.b64decode(value)[:size]).decode()},{tail}"


METADATA_DEFECTS = {
    "no mac": (_drop("mac"), "sops.mac"),
    "no lastmodified": (_drop("lastmodified"), "sops.lastmodified"),
    "no version": (_drop("version"), "sops.version"),
    "no recipient": (_drop("age"), "sops"),
    "empty recipient list": (_set("age", []), "sops"),
    "age entry without enc": (_age_entry(lambda e: e.pop("enc")), "sops.age[0]"),
    "age entry without recipient": (_age_entry(lambda e: e.pop("recipient")), "sops.age[0]"),
    "age enc not armored": (_age_entry(lambda e: e.__setitem__("enc", "not-an-age-file")), "sops.age[0]"),
    "lastmodified not RFC 3339": (_set("lastmodified", "27/11/2026"), "sops.lastmodified"),
    "mac not ENC": (_set("mac", "E6805666548B1078"), "sops.mac"),
    "mac with a 12-byte iv": (lambda b: _mac_part(b, "iv", 12), "sops.mac"),
    "mac that is not a SHA-512": (lambda b: _mac_part(b, "data", 64), "sops.mac"),
    "recipient list not a list": (_set("age", "age1abc"), "sops.age"),
    "kms entry incomplete": (_set("kms", [{"arn": "arn:aws:kms:eu-west-1:1:key/x", "enc": "x"}]), "sops.kms[0]"),
}


@pytest.mark.parametrize("defect", sorted(METADATA_DEFECTS))
def test_sops_metadata_defects(files: dict[str, Path], tmp_path: Path, defect: str) -> None:
    change, field = METADATA_DEFECTS[defect]
    path = edit_sops_block(files["good"], tmp_path / "edited.enc.yaml", change)
    results = check([path])
    assert results, defect
    assert {r.rule for r in results} == {rules.METADATA}
    assert field in {r.field for r in results}
    assert all(r.is_error and "encrypt the file again" in r.message for r in results)


def test_sops_block_that_is_not_a_mapping(files: dict[str, Path], tmp_path: Path) -> None:
    doc = yaml.safe_load(files["good"].read_text())
    doc["sops"] = "yes"
    path = write(tmp_path / "odd.enc.yaml", yaml.safe_dump(doc, sort_keys=False, width=1 << 20))
    assert [(r.rule, r.field) for r in check([path])] == [(rules.METADATA, "sops")]


def test_empty_recipient_lists_of_older_sops_are_fine(files: dict[str, Path], tmp_path: Path) -> None:
    """sops before 3.9 wrote `kms: []`, `pgp: []` and the like; 3.11 omits them."""

    def older(block: dict) -> None:
        for kind in ("kms", "gcp_kms", "azure_kv", "hc_vault", "pgp"):
            block[kind] = []

    assert check([edit_sops_block(files["good"], tmp_path / "older.enc.yaml", older)]) == []


def test_key_groups_written_by_the_real_sops_are_recipients(sops: Sops, tmp_path: Path) -> None:
    """Shamir key groups put the recipients under sops.key_groups instead of sops.age."""
    second = make_sops(tmp_path / "second")
    groups = [{"age": [sops.recipient]}, {"age": [second.recipient]}]
    ruled = sops.with_rule(
        tmp_path / "cfg", encrypted_regex="^(data|stringData)$", key_groups=groups, shamir_threshold=2
    )
    grouped = Sops(sops.binary, tmp_path / "both-keys.txt", sops.recipient, ruled.config)
    grouped.key_file.write_text(sops.key_file.read_text() + second.key_file.read_text())
    path = write(tmp_path / "grouped.enc.yaml", secret_text(upstream_values()))
    assert grouped.run("encrypt", "--in-place", str(path)).returncode == 0
    block = yaml.safe_load(path.read_text())["sops"]
    assert "age" not in block and len(block["key_groups"]) == 2
    assert grouped.decrypt(path).returncode == 0
    assert check([path]) == []
    # Without any recipient in the groups, no one can decrypt.
    emptied = edit_sops_block(path, tmp_path / "no-groups.enc.yaml", lambda b: b.__setitem__("key_groups", [{}]))
    assert [r.field for r in check([emptied])] == ["sops"]


# --- secret-plaintext --------------------------------------------------------------------------

APP_SECRET = secret_text({"db-password": "hunter2-app"}, name="app-db", namespace="apps")


def test_other_plaintext_secret_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    app = write(tmp_path / "app.yaml", APP_SECRET)
    results = check([files["good"], app])
    assert [(r.rule, r.severity, r.field) for r in results] == [
        (rules.PLAINTEXT, Severity.ERROR, "stringData.db-password")
    ]
    assert results[0].resource is not None and results[0].resource.name == "app-db"
    assert "plaintextSecrets: warning" in results[0].message


def test_other_plaintext_secret_can_be_a_warning(files: dict[str, Path], tmp_path: Path) -> None:
    app = write(tmp_path / "app.yaml", APP_SECRET)
    results = check([files["good"], app], config_with(checks={"plaintextSecrets": "warning"}))
    assert [(r.rule, r.severity) for r in results] == [(rules.PLAINTEXT, Severity.WARNING)]


def test_other_encrypted_secret_passes(sops: Sops, files: dict[str, Path], tmp_path: Path) -> None:
    app = sops.encrypt_text(APP_SECRET, tmp_path / "app.enc.yaml")
    assert check([files["good"], app]) == []


def test_without_a_config_every_secret_must_be_encrypted(sops: Sops, files: dict[str, Path], tmp_path: Path) -> None:
    app = write(tmp_path / "app.yaml", APP_SECRET)
    results = check([files["good"], files["plain"], app], no_config=True)
    assert sorted((r.rule, r.severity, r.resource.name) for r in results if r.resource) == [
        (rules.PLAINTEXT, Severity.ERROR, "app-db"),
        (rules.PLAINTEXT, Severity.ERROR, SECRET_NAME),
    ]


def test_check_command_over_a_repository_without_a_config(files: dict[str, Path], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "apps" / "app.yaml", APP_SECRET)
    write(repo / "monitoring" / "secret.enc.yaml", files["good"].read_text())
    outcome = lint.run([str(repo)])
    assert outcome.exit_code == 1
    lines = outcome.stdout.splitlines()
    assert (
        len(lines) == 1 and f"{repo}/apps/app.yaml:" in lines[0] and "[secret-plaintext] Secret apps/app-db" in lines[0]
    )
    assert "hunter2-app" not in outcome.stdout + outcome.stderr
    (repo / "apps" / "app.yaml").unlink()
    assert lint.run([str(repo)]).exit_code == 0


REFERENCES = {
    "op": ("op://homelab/cloudflare/token", "1Password reference (op://)"),
    "op-spaces": ("op://Automation/1password connect/token", "1Password reference (op://)"),  # bjw-s-labs/home-ops
    "vault": ("vault:secret/data/app#password", "Vault reference"),
    "avp": ("<path:kv/data/app#password>", "argocd-vault-plugin placeholder"),
    "vals": ("ref+awssecrets://app/db#/password", "vals reference"),
    "flux": ("${DB_PASSWORD}", "Flux substitution placeholder"),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_a_secret_of_references_is_not_plaintext_and_says_what_was_recognised(tmp_path: Path, name: str) -> None:
    value, kind = REFERENCES[name]
    text = secret_text({"token": value}, name="bootstrap", namespace="flux-system")
    results = check([write(tmp_path / "s.yaml", text)], no_config=True)
    assert [(r.rule, r.severity) for r in results] == [(rules.PLAINTEXT, Severity.INFO)]
    assert kind in results[0].message and value not in results[0].message


NO_CREDENTIAL = {
    # a restic repository made of placeholders (volsync components)
    "restic": ("s3:https://${S3_HOST}/${CLUSTER}/volsync/${APP}", "URL without a password"),
    # a client-certificate connection URL: the user name is no secret, the key is a file
    "pg-cert": (
        "postgresql://${DB_USER}@db.example.org:5432/app?sslmode=verify-full&sslcert=/certs/tls.crt"
        "&sslkey=/certs/tls.key",
        "URL without a password",
    ),
    "url": ("https://s3.example.org", "URL without a password"),
    "password-placeholder": ("redis://:${REDIS_PASSWORD}@redis.db.svc:6379/0", "URL without a password"),
    "path": ("/etc/ssl/certs/ca-certificates.crt", "file path"),
    "joined": ("${DB_USER}:${DB_PASSWORD}", "placeholders joined by plain text"),
}


@pytest.mark.parametrize("name", sorted(NO_CREDENTIAL))
def test_a_value_with_no_credential_in_it_is_not_plaintext(tmp_path: Path, name: str) -> None:
    value, kind = NO_CREDENTIAL[name]
    text = secret_text({"value": value}, name="settings", namespace="apps")
    results = check([write(tmp_path / "s.yaml", text)], no_config=True)
    assert [(r.rule, r.severity) for r in results] == [(rules.PLAINTEXT, Severity.INFO)]
    assert kind in results[0].message


def test_the_plaintext_message_names_the_key_and_its_line(tmp_path: Path) -> None:
    text = secret_text(
        {"url": "https://s3.example.org", "DATABASE_URL": "postgresql://app:hunter2@db/app"}, name="db", namespace="a"
    )
    path = write(tmp_path / "s.yaml", text)
    results = check([path], no_config=True)
    assert [(r.rule, r.severity, r.field) for r in results] == [
        (rules.PLAINTEXT, Severity.ERROR, "stringData.DATABASE_URL")
    ]
    assert (
        results[0].message.startswith("value stringData.DATABASE_URL is in clear")
        and "hunter2" not in results[0].message
    )
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "DATABASE_URL" in t)
    assert results[0].location.line == line


def test_references_under_data_are_read_through_base64(tmp_path: Path) -> None:
    encoded = base64.b64encode(b"op://homelab/github/token").decode()
    text = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: gh, namespace: apps}}\ndata:\n  token: {encoded}\n"
    results = check([write(tmp_path / "s.yaml", text)], no_config=True)
    assert [(r.rule, r.severity) for r in results] == [(rules.PLAINTEXT, Severity.INFO)]


@pytest.mark.parametrize(
    "values",
    [
        {"token": "op://homelab/github/token", "password": "hunter2-shown-nowhere"},  # one real secret next to it
        {"token": "prefix op://homelab/github/token"},  # text around a reference may be a secret
        {"token": "${A}${B}s3cr3t"},  # placeholders around a literal key
        {"token": "postgresql://app:hunter2@db.example.org/app"},  # a URL with a password in it
        {"token": "https://discord.com/api/webhooks/123456789012/AbCdEfGhIjKlMnOpQrStUvWxYz012345"},  # a webhook
        {"token": "https://api.example.org/v1?api_key=abc123def"},  # a key in the query
        {"token": "op://homelab/github/token\nhunter2-on-the-next-line"},  # a reference is one line
    ],
)
def test_a_secret_with_any_plaintext_value_is_still_an_error(tmp_path: Path, values: dict) -> None:
    text = secret_text(values, name="mixed", namespace="apps")
    results = check([write(tmp_path / "s.yaml", text)], no_config=True)
    assert [(r.rule, r.severity) for r in results] == [(rules.PLAINTEXT, Severity.ERROR)]


def test_secret_with_no_values_is_not_plaintext(tmp_path: Path) -> None:
    token = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa-token\n  namespace: apps\n  annotations:\n"
    token += "    kubernetes.io/service-account.name: app\ntype: kubernetes.io/service-account-token\n"
    empty = secret_text({"a": "", "b": None}, name="empty", namespace="apps")
    assert check([write(tmp_path / "token.yaml", token), write(tmp_path / "empty.yaml", empty)], no_config=True) == []


def test_secret_generator_output_is_out_of_scope(tmp_path: Path) -> None:
    """kustomize secretGenerator Secrets reach a transformer in clear, marked by kustomize; they are skipped."""
    generated = copy.deepcopy(yaml.safe_load(APP_SECRET))
    generated["metadata"]["annotations"] = {secret_values.GENERATOR_ANNOTATION: "unspecified"}
    path = write(tmp_path / "generated.yaml", yaml.safe_dump(generated, sort_keys=False))
    assert check([path], no_config=True) == []
    assert only(check([write(tmp_path / "plain.yaml", APP_SECRET)], no_config=True), rules.PLAINTEXT)


def test_stack_secret_from_a_generator_is_checked_for_keys_and_name_suffix(tmp_path: Path) -> None:
    """kustomize appends -<hash> to a generated Secret's name; the HelmReleases keep reading the plain name."""
    generated = yaml.safe_load(secret_text(GRAFANA_ONLY))
    generated["metadata"]["annotations"] = {
        secret_values.GENERATOR_ANNOTATION: "unspecified",
        stack_secret.HASH_ANNOTATION: "enabled",
    }
    results = check([write(tmp_path / "generated.yaml", yaml.safe_dump(generated, sort_keys=False))])
    assert sorted((r.rule, r.severity, r.field) for r in results) == [
        (stack_secret.REQUIRED_KEYS, Severity.ERROR, "stringData.pushover-api-token"),
        (stack_secret.REQUIRED_KEYS, Severity.ERROR, "stringData.pushover-user-key"),
        (stack_secret.PRESENT, Severity.WARNING, "metadata.name"),
    ]
    assert "disableNameSuffixHash: true" in only(results, stack_secret.PRESENT)[0].message
    del generated["metadata"]["annotations"][stack_secret.HASH_ANNOTATION]
    fixed = check([write(tmp_path / "fixed.yaml", yaml.safe_dump(generated, sort_keys=False))])
    assert {r.rule for r in fixed} == {stack_secret.REQUIRED_KEYS}


def test_secret_referenced_only_by_name_is_out_of_scope(files: dict[str, Path], tmp_path: Path) -> None:
    """A Deployment's secretKeyRef to a Secret that is not in the files: nothing to check, nothing reported."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "app:1",
                            "env": [
                                {
                                    "name": "PASSWORD",
                                    "valueFrom": {"secretKeyRef": {"name": "app-db", "key": "db-password"}},
                                }
                            ],
                        }
                    ]
                },
            },
        },
    }
    path = write(tmp_path / "deployment.yaml", yaml.safe_dump(deployment, sort_keys=False))
    assert check([files["good"], path]) == []


# --- what the keyless check cannot see --------------------------------------------------------


@pytest.mark.parametrize("variant", ["tampered-swapped", "tampered-metadata"])
def test_keyless_rules_cannot_see_what_only_the_mac_covers(sops: Sops, files: dict[str, Path], variant: str) -> None:
    """A swapped ciphertext or edited metadata needs the key: the rules pass them, `sops decrypt` does not.

    This pins the documented limit (krm_fn/checks/secrets.py docstring): if a rule ever starts to
    claim these, this test must change with the docs.
    """
    assert check([files[variant]]) == []
    assert sops.decrypt(files[variant]).returncode == DECRYPT_RC[variant] != 0


# --- end to end through the KRM protocol -------------------------------------------------------


def test_partial_secret_fails_the_function(files: dict[str, Path]) -> None:
    items = [yaml.safe_load(files["partial"].read_text())]
    _, outcome = run_krm(items, default_config())
    assert outcome.exit_code == 1
    lines = [x for x in outcome.stderr.splitlines() if "[sops-encrypted]" in x]
    assert len(lines) == 1
    assert f"error [sops-encrypted] Secret {NAMESPACE}/{SECRET_NAME} stringData.pushover-user-key:" in lines[0]


def test_rules_never_raise_on_odd_secrets() -> None:
    odd = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET_NAME, "namespace": NAMESPACE}, **extra}
        for extra in (
            {"stringData": "not-a-map"},
            {"data": ["a", "b"]},
            {"stringData": {"nested": {"deeper": [1, 2]}}},
            {"sops": None, "stringData": {"k": "v"}},
            {"sops": {"age": [None, 1, "x"], "key_groups": "no"}, "stringData": {"k": 1}},
            {"sops": {"mac": 1, "lastmodified": 2, "version": {}}, "data": {1: True}},
        )
    ]
    config, _ = config_model.load(default_config())
    for obj in odd:
        ctx = CheckContext(config, [], [Item.from_data(obj, generated=False)], True)
        results = list(run_rules(ctx, [r for r in RULES if r.id in SECRET_RULES]))
        assert results and not [r for r in results if r.rule == "internal-error"], obj


# --- messages when the file is not known (kustomize hands objects over without their files) ------


def stream_check(texts: list[str], config: dict | None = None) -> list[Result]:
    """The secret rules over objects as kustomize passes them: no file, in stream order."""
    items = [Item(raw=raw) for text in texts for raw in yamlio.split_documents(text)]
    loaded, problems = config_model.load(default_config() if config is None else config)
    assert problems == []
    return list(run_rules(CheckContext(loaded, [], items, True), [r for r in RULES if r.id in SECRET_RULES]))


def test_without_a_file_the_fix_names_the_object_not_FILE() -> None:
    results = only(stream_check([APP_SECRET]), rules.PLAINTEXT)
    assert len(results) == 1 and "--in-place <the file of Secret apps/app-db>" in results[0].message
    assert "FILE" not in results[0].message


def test_a_kustomize_origin_annotation_gives_the_real_file() -> None:
    doc = yaml.safe_load(APP_SECRET)
    doc["metadata"]["annotations"] = {"config.kubernetes.io/origin": "path: apps/app-db.yaml\n"}
    results = only(stream_check([yaml.safe_dump(doc)]), rules.PLAINTEXT)
    assert "--in-place apps/app-db.yaml" in results[0].message
    assert report.line(results[0]).startswith("apps/app-db.yaml: error [secret-plaintext] Secret apps/app-db")
    doc["metadata"]["annotations"]["config.kubernetes.io/origin"] = "path: app.yaml\nrepo: https://example.com/r\n"
    remote = only(stream_check([yaml.safe_dump(doc)]), rules.PLAINTEXT)
    assert "<the file of Secret apps/app-db>" in remote[0].message  # a remote base's path is not ours to name


def test_an_object_encrypted_whole_is_named_by_its_position_in_the_input(sops: Sops, tmp_path: Path) -> None:
    path = write(tmp_path / "whole.enc.yaml", secret_text(upstream_values()))
    assert sops.with_rule(tmp_path / "cfg").run("encrypt", "--in-place", str(path)).returncode == 0
    results = only(stream_check([APP_SECRET, path.read_text()]), rules.ENCRYPTED)
    assert len(results) == 1 and results[0].message.startswith("item 2 of the input (its file is not known here)")
    assert "--in-place <the file of item 2 of the input>" in results[0].message
