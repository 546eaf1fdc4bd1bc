"""A config string may hold a Flux substitution placeholder: the stack keeps it for Flux to fill in.

Real repositories keep their domain out of git (`${SECRET_DOMAIN}`, substituted by Flux's
`postBuild.substituteFrom` from a Secret). The config is rendered before Flux runs, so a string the
function only copies into the objects (domain, cluster, names) may stay a placeholder, while a value
the stack is computed from (a choice, a number) must be written out.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from krm_fn import config as config_model
from tests.helpers import DEFAULT_CONFIG_FILE, REPO, config_with, run_cli
from tests.tools import tool

PLACEHOLDERS = {"domain": "${SECRET_DOMAIN}", "cluster": "${CLUSTER_NAME}"}
VALUES = {"SECRET_DOMAIN": "catinthehack.ca", "CLUSTER_NAME": "cloudlab"}


def _render(config: dict, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "observability.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return run_cli("render", str(path))


def test_a_placeholder_in_a_copied_string_loads():
    config, results = config_model.load(config_with(**PLACEHOLDERS))
    assert config is not None, [r.message for r in results]
    assert config.domain == "${SECRET_DOMAIN}" and config.cluster == "${CLUSTER_NAME}"


@pytest.mark.e2e
def test_rendered_then_substituted_is_rendered_with_the_values(tmp_path):
    """envsubst substitutes `${VAR}` as Flux's postBuild does: the result is byte for byte the stack
    rendered from the config with the values written out."""
    with_placeholders = _render(config_with(**PLACEHOLDERS), tmp_path)
    assert with_placeholders.returncode == 0, with_placeholders.stderr.decode()
    assert b"grafana.${SECRET_DOMAIN}" in with_placeholders.stdout
    substituted = subprocess.run(
        [tool("envsubst"), "${SECRET_DOMAIN} ${CLUSTER_NAME}"],
        input=with_placeholders.stdout,
        capture_output=True,
        env={**os.environ, **VALUES},
        check=True,
    ).stdout
    literal = run_cli("render", str(DEFAULT_CONFIG_FILE))
    assert literal.returncode == 0
    assert substituted == literal.stdout
    assert b"error" not in with_placeholders.stderr


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"profile": "${PROFILE}"}, "spec.profile"),
        ({"prometheus": {"replicas": "${REPLICAS}"}}, "spec.prometheus.replicas"),
        ({"dashboards": {"enabled": "${DASHBOARDS}"}}, "spec.dashboards.enabled"),
    ],
)
def test_a_placeholder_where_the_stack_needs_the_value_is_refused_with_why(spec, field):
    config, results = config_model.load(config_with(**spec))
    assert config is None
    messages = [r.message for r in results]
    assert any("Flux substitution placeholder" in m and "write the value itself" in m for m in messages), messages
    assert any((r.field or "").startswith(field) for r in results)


def test_a_bad_value_next_to_a_placeholder_is_still_reported():
    config, results = config_model.load(config_with(domain="${SECRET_DOMAIN}", cluster="Not A Label!"))
    assert config is None
    assert [r.field for r in results] == ["spec.cluster"]


def test_check_over_a_repository_with_a_placeholder_config_reports_no_config_problem(tmp_path):
    """What `check` reads in a Flux repository whose domain comes from `substituteFrom` (a Secret in
    the cluster): the placeholder stays, and neither the config nor the generated routes are wrong."""
    (tmp_path / "observability.yaml").write_text(yaml.safe_dump(config_with(**PLACEHOLDERS), sort_keys=False))
    secret = REPO / "third_party" / "upstream" / "sops" / "monitoring-secrets.enc.yaml"
    (tmp_path / "monitoring-secrets.enc.yaml").write_bytes(secret.read_bytes())
    proc = run_cli("check", str(tmp_path))
    output = (proc.stdout + proc.stderr).decode()
    assert proc.returncode == 0, output
    assert "0 errors" in output and "config-schema" not in output and "[hostname]" not in output
