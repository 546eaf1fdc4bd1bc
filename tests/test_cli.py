"""The command line, run as users run it (the installed console script): help, schema, and the errors
a person makes (an unknown command, a missing file, a bad config), each a clear message on
stderr with a non-zero exit and never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import DEFAULT_CONFIG_FILE, REPO, default_config, run_cli

SCHEMA_FILE = REPO / "krm_fn" / "schema" / "observabilityconfig.json"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def text(data: bytes) -> str:
    return data.decode("utf-8")


def assert_clean_failure(proc, code: int = 1) -> list[str]:
    """Non-zero exit, something on stderr, no traceback; the stderr lines."""
    stderr = text(proc.stderr)
    assert proc.returncode == code, stderr
    assert stderr.strip(), "an error must say something"
    assert "Traceback" not in stderr and 'File "' not in stderr
    return stderr.splitlines()


# --- help and schema -------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    out = text(proc.stdout)
    for command in ("render", "check", "schema", "install-plugin"):
        assert command in out
    assert "ResourceList" in out


def test_render_help_explains_output_and_check() -> None:
    proc = run_cli("render", "--help")
    assert proc.returncode == 0
    assert "--output" in text(proc.stdout) and "--check" in text(proc.stdout)


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert re.fullmatch(r"observability-fn \d+\.\d+\.\d+\S*\n", text(proc.stdout))


def test_schema_prints_a_valid_json_schema_that_accepts_the_default_config() -> None:
    import jsonschema

    proc = run_cli("schema")
    assert proc.returncode == 0, text(proc.stderr)
    schema = json.loads(proc.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(default_config())) == []

    bad = default_config()
    bad["spec"]["retension"] = "7d"
    assert list(validator.iter_errors(bad)), "the schema is closed: an unknown field is an error"


@pytest.mark.parametrize(
    "config_file",
    [DEFAULT_CONFIG_FILE, *sorted((REPO / "examples").glob("*/observability.yaml"))],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_yaml_language_server_modeline_points_at_the_schema(config_file: Path) -> None:
    """Editors with yaml-language-server read `# yaml-language-server: $schema=PATH` (relative to the
    file) and validate against it: the path must resolve to the shipped schema, which accepts the file
    (and rejects the one example that shows a config-schema error, as the editor would)."""
    import jsonschema

    match = MODELINE.search(config_file.read_text())
    assert match, f"{config_file} has no yaml-language-server modeline"
    target = (config_file.parent / match.group(1)).resolve()
    assert target == SCHEMA_FILE.resolve()
    schema = json.loads(target.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(config_file.read_text())))
    failing_example = config_file.parent / ".expected" / "stderr.txt"  # an example of an invalid config
    meant_invalid = failing_example.exists() and "[config-schema]" in failing_example.read_text()
    assert bool(errors) == meant_invalid, [e.message for e in errors]


# --- errors ----------------------------------------------------------------------------------


def test_unknown_command() -> None:
    lines = assert_clean_failure(run_cli("frobnicate"), code=2)
    assert len(lines) <= 2  # argparse: the usage line, then the error
    assert "frobnicate" in lines[-1] and "render" in lines[-1]


def test_unknown_option() -> None:
    lines = assert_clean_failure(run_cli("render", "--bogus", str(DEFAULT_CONFIG_FILE)), code=2)
    assert "--bogus" in lines[-1]


def test_render_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    lines = assert_clean_failure(run_cli("render", str(missing)))
    assert len(lines) == 1
    assert lines[0].startswith(f"{missing}:") and "No such file" in lines[0]


def test_check_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    proc = run_cli("check", str(missing))
    assert_clean_failure(proc)
    assert f"{missing}: error" in text(proc.stdout) + text(proc.stderr)


def test_legacy_plugin_form_with_a_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "kust-plugin-config-1"
    lines = assert_clean_failure(run_cli(str(missing)))
    assert len(lines) == 1
    assert str(missing) in lines[0] and "No such file" in lines[0]


def test_bad_config_names_file_field_and_fix(tmp_path: Path) -> None:
    config = default_config()
    config["spec"]["domian"] = config["spec"].pop("domain")
    path = tmp_path / "observability.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    lines = assert_clean_failure(run_cli("render", str(path)))
    unknown = [line for line in lines if "domian" in line]
    assert unknown and unknown[0].startswith(f"{path}")
    assert "spec.domian" in unknown[0] and "did you mean 'domain'" in unknown[0]


def test_config_that_is_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "observability.yaml"
    path.write_text("spec:\n  cluster: [unclosed\n")
    lines = assert_clean_failure(run_cli("render", str(path)))
    assert len(lines) == 1 and lines[0].startswith(f"{path}:") and "invalid YAML" in lines[0]


def test_config_with_a_duplicate_key(tmp_path: Path) -> None:
    path = tmp_path / "observability.yaml"
    path.write_text(DEFAULT_CONFIG_FILE.read_text() + "spec:\n  cluster: other\n")
    lines = assert_clean_failure(run_cli("render", str(path)))
    assert len(lines) == 1 and "duplicate key 'spec'" in lines[0]


def test_krm_mode_with_garbage_on_stdin() -> None:
    proc = run_cli(stdin=b"items: [\n")
    lines = assert_clean_failure(proc)
    assert len(lines) == 1 and "invalid YAML" in lines[0]
    out = yaml.safe_load(proc.stdout)
    assert out["kind"] == "ResourceList" and out["results"][0]["severity"] == "error"


def test_krm_mode_with_something_other_than_a_resource_list() -> None:
    lines = assert_clean_failure(run_cli(stdin=DEFAULT_CONFIG_FILE.read_bytes()))
    assert len(lines) == 1 and "not a ResourceList" in lines[0]


def test_install_plugin_where_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    lines = assert_clean_failure(run_cli("install-plugin", "--dir", str(blocker)))
    assert len(lines) == 1 and lines[0].startswith("cannot install the plugin at ")
