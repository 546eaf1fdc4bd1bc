"""Every object helm renders from our HelmReleases is one the API server would accept.

Built-in kinds are checked against the Kubernetes schemas of the case's `spec.kubernetesVersion`
(krm_fn/validation.py: kubernetes-validate's strict schemas); custom resources against the CRDs the
charts ship at the rendered release (tests/rendered/crds.json.xz, derived by
scripts/gen_chart_crd_schemas.py from the chart sources). An object with no schema fails too: it
would be a kind the cluster does not serve.
"""

from __future__ import annotations

import functools
import subprocess
import sys

import jsonschema
import pytest
import yaml

from krm_fn import validation
from scripts.gen_chart_crd_schemas import read as read_crds
from scripts.release_matrix import MATRIX
from tests.helm_render import CASES, GOLDEN, header, matrix_fixture, releases, rendered, unrendered
from tests.helpers import REPO

# The stack installs prometheus-operator's CRDs from kube-prometheus-stack (its crds subchart), so
# that chart's release decides the monitoring.coreos.com schemas of every object in a case (Loki
# 6.55.0's grafana-agent-operator subchart also ships older copies of some of them).
CRD_OWNER = {"monitoring.coreos.com": "kube-prometheus-stack"}


@functools.cache
def _store() -> dict:
    return read_crds()


@functools.cache
def _validator(schema_id: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_store()["schemas"][schema_id])


def kube_version(case: str) -> str:
    config = GOLDEN / case / "config.yaml"
    spec = yaml.safe_load(config.read_text())["spec"] if config.exists() else {}
    return str(spec.get("kubernetesVersion", "1.32"))


def case_releases(case: str) -> dict[str, str]:
    """chart -> chart@version rendered for a golden case."""
    out = {}
    for name in releases(case):
        if name not in unrendered(case):
            chart_release = header(case, name)["chart"].split()[0]
            out[chart_release.split("@")[0]] = chart_release
    return out


def case_crds(case: str) -> dict[str, str]:
    """group/version/kind -> schema id, from the CRDs of the chart releases rendered for the case."""
    return crds_of(case_releases(case))


def crds_of(chart_releases: dict[str, str]) -> dict[str, str]:
    """group/version/kind -> schema id of a stack made of these chart releases (chart -> chart@version)."""
    by_chart = {chart: _store()["releases"][release]["crds"] for chart, release in chart_releases.items()}
    out: dict[str, str] = {}
    for chart, crds in by_chart.items():
        for name, schema_id in crds.items():
            owner = CRD_OWNER.get(name.split("/")[0])
            if owner in by_chart and owner != chart:
                continue  # the owner's copy is what the cluster serves
            out[name] = schema_id
    return out


def problems(obj: dict, crds: dict[str, str], kube: str) -> list[str]:
    """What is wrong with one rendered object ([] when it validates)."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    schema_id = crds.get(f"{api_version}/{kind}")
    if schema_id is not None:
        errors = _validator(schema_id).iter_errors(obj)
        return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}" for e in errors]
    if validation.schema_for(api_version, kind, kube) is None:
        return [f"no schema for {api_version} {kind}: neither a built-in kind of Kubernetes {kube} nor a CRD shipped"]
    return [f"{'.'.join(map(str, p.path)) or '(root)'}: {p.message}" for p in validation.validate(obj, kube)]


def test_every_rendered_chart_release_has_its_crd_schemas():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_chart_crd_schemas.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for release in _store()["releases"].values():
        if release["crds"]:
            assert release["tag"] and release["commit"] and release["files"], "provenance of the derived schemas"


@pytest.mark.parametrize("case", CASES)
def test_every_rendered_object_validates(case: str):
    crds = case_crds(case)
    kube = kube_version(case)
    found = []
    for name in releases(case):
        for obj in rendered(case, name):
            found += [f"{name}: {obj['kind']} {obj['metadata']['name']}: {p}" for p in problems(obj, crds, kube)]
    assert not found, "\n".join(found[:20])


@pytest.mark.parametrize(("chart", "version"), MATRIX, ids=[f"{c}-{v}" for c, v in MATRIX])
def test_every_object_of_the_release_matrix_validates(chart: str, version: str):
    """The default config at the first and last release of each major: the stack is the default
    case's with this chart release in it."""
    head, objects = matrix_fixture(chart, version)
    crds = crds_of({**case_releases("default"), chart: head["chart"].split()[0]})
    found = [f"{obj['kind']} {obj['metadata']['name']}: {p}" for obj in objects for p in problems(obj, crds, "1.32")]
    assert not found, "\n".join(found[:20])


def test_the_crd_schemas_catch_what_the_api_server_would_refuse():
    crds = case_crds("default")
    prometheus = next(o for o in rendered("default", "kube-prometheus-stack") if o["kind"] == "Prometheus")
    assert problems(prometheus, crds, "1.32") == []
    prometheus["spec"]["replicas"] = "two"
    prometheus["spec"]["retentionn"] = "10d"
    found = problems(prometheus, crds, "1.32")
    assert any(p.startswith("spec.replicas:") for p in found), found
    assert any("retentionn" in p for p in found), found


def test_built_in_kinds_are_checked_against_the_kubernetes_version():
    service = next(o for o in rendered("default", "loki") if o["kind"] == "Service")
    assert problems(service, {}, "1.32") == []
    service["spec"]["ports"][0]["port"] = "http"
    assert any(p.startswith("spec.ports.0.port:") for p in problems(service, {}, "1.32"))
    assert problems({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, {}, "1.32") == [
        "no schema for example.com/v1 Widget: neither a built-in kind of Kubernetes 1.32 nor a CRD shipped"
    ]
