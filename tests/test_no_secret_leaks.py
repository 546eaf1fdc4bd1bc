"""A secret value never appears in anything the function prints, except the Secret item itself.

Every mode (KRM in-process and through the console script, the legacy kustomize plugin, `render`
to stdout and to a directory, `check`) runs over Secrets whose plaintext values are distinctive
random strings: a plaintext Secret, a partial and a hand-tampered SOPS file (made by the real sops
with a fresh age key), another plaintext Secret, YAML errors inside a Secret, and bad or missing
configs. Then no value may appear in stderr, in the results, or in stdout once the Secret items
(passed through byte for byte) are cut out. The in-process modes run as a hypothesis property
over generated values; the console-script modes run once per scenario.
"""

from __future__ import annotations

import os
import random
import string
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krm_fn import lint, protocol, render
from tests.helpers import default_config, run_cli
from tests.sops_fixtures import Sops, make_sops, secret_text

KEYS = ("pushover-user-key", "pushover-api-token", "grafana-admin-user", "grafana-admin-password")
# No `&` or `*` (anchor and alias marks), no quotes or backslashes: the values sit in YAML as written.
ALPHABET = string.ascii_letters + string.digits + "-_.+/=!@%^~:#?,"


MARK = "Qz8Lk"  # in every value, never in the function's own text: a match is a leak, not a coincidence
PART = st.text(alphabet=ALPHABET, max_size=20)
VALUE = st.tuples(PART, PART).map(lambda parts: f"{parts[0]}{MARK}{parts[1]}")


def _values_ok(values: dict[str, str]) -> bool:
    """No value inside another one, so each search finds one value only."""
    items = list(values.values())
    return all(i == j or items[i] not in items[j] for i in range(len(items)) for j in range(len(items)))


VALUES = st.fixed_dictionaries({key: VALUE for key in KEYS}).filter(_values_ok)


def fixed_values(seed: str) -> dict[str, str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-_."
    return {key: "".join(rng.choice(alphabet) for _ in range(16)) + MARK + str(i) for i, key in enumerate(KEYS)}


# --- scenarios ---------------------------------------------------------------------------------


@dataclass
class Scenario:
    """Input documents; `secrets` are the Secret documents (the only place a value may be printed)."""

    config: str | None  # the config document (None: no config at all)
    secrets: list[str]
    others: list[str] = field(default_factory=list)

    def documents(self) -> list[str]:
        return ([self.config] if self.config else []) + self.others + self.secrets


def _config_text(change: Callable[[dict], None] | None = None) -> str:
    config = default_config()
    if change:
        change(config)
    return yaml.safe_dump(config, sort_keys=False)


def _replace_line(text: str, key: str, new: str) -> str:
    lines = text.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"{key}: "))
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = f"{indent}{key}: {new}\n"
    return "".join(lines)


def _broken_domain(config: dict) -> None:
    config["spec"]["domain"] = "Not A Domain"
    config["spec"]["retension"] = "7d"


def make_scenario(name: str, values: dict[str, str], sops: Sops, directory: Path) -> Scenario:
    plain = secret_text(values)
    config = _config_text()
    if name == "plain":
        return Scenario(config, [plain])
    if name == "partial":
        path = sops.encrypt_text(plain, directory / "partial.enc.yaml", "^(pushover-api-token|grafana-admin-.*)$")
        return Scenario(config, [path.read_text()])
    if name == "tampered":
        good = sops.encrypt_text(plain, directory / "good.enc.yaml").read_text()
        return Scenario(config, [_replace_line(good, "grafana-admin-password", values["grafana-admin-password"])])
    if name == "other-plain":
        good = sops.encrypt_text(plain, directory / "good.enc.yaml").read_text()
        app = secret_text({"password": values["pushover-user-key"]}, name="app", namespace="apps")
        return Scenario(config, [good, app])
    if name == "duplicate-key":
        duplicated = plain + f"  pushover-user-key: {values['pushover-api-token']}\n"
        return Scenario(config, [duplicated])
    if name == "broken-yaml":
        broken = _replace_line(plain, "grafana-admin-password", f'"{values["grafana-admin-password"]}')
        return Scenario(config, [broken + "  more: [unclosed\n"])
    if name == "bad-config":
        return Scenario(_config_text(_broken_domain), [plain])
    if name == "wrong-config":
        config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n  a: b\n"
        return Scenario(config_map, [plain])
    if name == "no-config":
        return Scenario(None, [plain])
    raise AssertionError(name)


SCENARIOS = (
    "plain",
    "partial",
    "tampered",
    "other-plain",
    "duplicate-key",
    "broken-yaml",
    "bad-config",
    "wrong-config",
    "no-config",
)


# --- building each mode's input and cutting the Secrets out of its output ------------------------


def entry(document: str) -> str:
    """A document as a `- ...` entry of a block sequence at column 0."""
    lines = document.splitlines(keepends=True)
    return "- " + lines[0] + "".join("  " + line if line.strip() else line for line in lines[1:])


def resource_list(scenario: Scenario) -> bytes:
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    text += "".join(entry(doc) for doc in scenario.documents())
    if scenario.config:
        text += "functionConfig:\n" + "".join("  " + line for line in scenario.config.splitlines(keepends=True))
    return text.encode()


def stream(documents: list[str]) -> bytes:
    return "---\n".join(documents).encode()


def without(text: str, pieces: list[str]) -> str:
    for piece in pieces:
        text = text.replace(piece, "")
    return text


def assert_no_value(where: str, text: str, values: dict[str, str]) -> None:
    leaked = [key for key, value in values.items() if value in text]
    assert not leaked, f"the value of {leaked} appears in {where}"


def write_files(scenario: Scenario, directory: Path) -> tuple[Path | None, list[Path]]:
    """The config file (if any) and one file per other document, as a repository holds them."""
    directory.mkdir(parents=True, exist_ok=True)
    config = None
    if scenario.config:
        config = directory / "observability.yaml"
        config.write_text(scenario.config)
    paths = []
    for index, doc in enumerate(scenario.others + scenario.secrets):
        path = directory / f"doc-{index}.yaml"
        path.write_text(doc)
        paths.append(path)
    return config, paths


# --- in-process: every mode, as a property over generated values ---------------------------------


def check_in_process(scenario: Scenario, values: dict[str, str], directory: Path) -> None:
    krm = protocol.run_krm(resource_list(scenario))
    assert_no_value("KRM stderr", krm.stderr, values)
    assert_no_value("KRM stdout outside the Secrets", without(krm.stdout, [entry(s) for s in scenario.secrets]), values)

    config, paths = write_files(scenario, directory / "repo")
    if config is not None:
        legacy = protocol.run_legacy(str(config), stream(scenario.others + scenario.secrets))
        assert_no_value("legacy stderr", legacy.stderr, values)
        assert_no_value("legacy stdout outside the Secrets", without(legacy.stdout, scenario.secrets), values)

    inputs = [str(p) for p in ([config] if config else []) + paths]
    printed = render.run(inputs, None, False)
    assert_no_value("render stderr", printed.stderr, values)
    assert_no_value("render stdout outside the Secrets", without(printed.stdout, scenario.secrets), values)

    out = directory / "rendered"
    written = render.run(inputs, str(out), False)
    assert_no_value("render --output stderr", written.stderr + written.stdout, values)
    for path in sorted(out.rglob("*")) if out.exists() else []:
        if path.is_file():
            assert_no_value(f"rendered file {path.name}", without(path.read_text(), scenario.secrets), values)

    checked = lint.run([str(directory / "repo")])
    assert_no_value("check output", checked.stdout + checked.stderr, values)


@pytest.fixture(scope="module")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
    return make_sops(tmp_path_factory.mktemp("age"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(values=VALUES, name=st.sampled_from(SCENARIOS))
def test_no_mode_prints_a_secret_value(sops: Sops, values: dict[str, str], name: str) -> None:
    assert "KUSTOMIZE_PLUGIN_CONFIG_STRING" not in os.environ  # run_legacy would read the config from it
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        scenario = make_scenario(name, values, sops, directory)
        check_in_process(scenario, values, directory)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_in_process(sops: Sops, tmp_path: Path, name: str) -> None:
    """Each scenario at least once, whatever hypothesis draws."""
    values = fixed_values(name)
    check_in_process(make_scenario(name, values, sops, tmp_path), values, tmp_path)


def test_secrets_pass_through_byte_for_byte(sops: Sops, tmp_path: Path) -> None:
    """What `without()` cuts out really is the input Secret, unchanged, in the KRM and legacy outputs."""
    values = fixed_values("passthrough")
    for name in ("plain", "partial", "tampered", "other-plain"):
        scenario = make_scenario(name, values, sops, tmp_path / name)
        krm = protocol.run_krm(resource_list(scenario))
        assert all(entry(secret) in krm.stdout for secret in scenario.secrets), name
        config, _ = write_files(scenario, tmp_path / name / "repo")
        assert config is not None
        legacy = protocol.run_legacy(str(config), stream(scenario.others + scenario.secrets))
        assert all(secret in legacy.stdout for secret in scenario.secrets), name
        assert krm.exit_code == legacy.exit_code == 1  # each scenario has something to report


# --- through the console script ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One validation cache for the console-script runs: warm after the first, as users have it."""
    directory = tmp_path_factory.mktemp("cache")
    directory.chmod(0o700)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_console_script_prints_no_secret_value(sops: Sops, cache: Path, tmp_path: Path, name: str) -> None:
    values = fixed_values(f"cli-{name}")
    scenario = make_scenario(name, values, sops, tmp_path)
    env = {"OBSERVABILITY_FN_CACHE": "on", "OBSERVABILITY_FN_CACHE_DIR": str(cache)}

    krm = run_cli(stdin=resource_list(scenario), env=env)
    assert b"Traceback" not in krm.stderr
    assert_no_value("KRM stderr", krm.stderr.decode(), values)
    stdout = krm.stdout.decode()
    assert_no_value("KRM stdout outside the Secrets", without(stdout, [entry(s) for s in scenario.secrets]), values)

    config, paths = write_files(scenario, tmp_path / "repo")
    if config is not None:
        legacy = run_cli(str(config), stdin=stream(scenario.others + scenario.secrets), env=env, cwd=tmp_path)
        assert b"Traceback" not in legacy.stderr
        assert_no_value("legacy stderr", legacy.stderr.decode(), values)
        assert_no_value("legacy stdout outside the Secrets", without(legacy.stdout.decode(), scenario.secrets), values)

    inputs = [str(p) for p in ([config] if config else []) + paths]
    printed = run_cli("render", *inputs, env=env)
    assert_no_value("render stderr", printed.stderr.decode(), values)
    assert_no_value("render stdout outside the Secrets", without(printed.stdout.decode(), scenario.secrets), values)

    out = tmp_path / "rendered"
    written = run_cli("render", *inputs, "--output", str(out), env=env)
    assert_no_value("render --output", (written.stdout + written.stderr).decode(), values)
    for path in sorted(out.rglob("*")) if out.exists() else []:
        if path.is_file():
            assert_no_value(f"rendered {path.name}", without(path.read_text(), scenario.secrets), values)

    checked = run_cli("check", str(tmp_path / "repo"), env=env)
    assert checked.returncode == 1  # every scenario has a finding
    assert_no_value("check", (checked.stdout + checked.stderr).decode(), values)

    for path in cache.rglob("*"):
        assert_no_value(f"cache entry {path.name}", path.name + (path.read_text() if path.is_file() else ""), values)


def test_cache_keys_do_not_depend_on_secret_values(tmp_path: Path) -> None:
    """Validations of a Secret are remembered without its values: two value sets, the same cache entries."""
    entries = []
    for seed in ("first", "second"):
        repo = tmp_path / seed / "repo"
        repo.mkdir(parents=True)
        (repo / "observability.yaml").write_text(_config_text())
        (repo / "secret.yaml").write_text(secret_text(fixed_values(seed)))
        cache = tmp_path / seed / "cache"
        cache.mkdir(mode=0o700)
        run_cli("check", str(repo), env={"OBSERVABILITY_FN_CACHE": "on", "OBSERVABILITY_FN_CACHE_DIR": str(cache)})
        entries.append(sorted(str(p.relative_to(cache)) for p in cache.rglob("*")))
    assert entries[0] == entries[1]
