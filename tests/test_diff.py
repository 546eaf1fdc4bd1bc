"""`observability-fn diff OLD NEW`: what a change does to the cluster, from two renders through helm.

The renders are the real helm output of the fixtures (tests/rendered/, composed the way
`render --through-helm` prints them), and an end-to-end run of `render --through-helm` with the
real helm binary on two configs.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest
import yaml

from krm_fn import diff, helm, through_helm
from tests.helm_render import RENDERED, echo_chart, golden, header, releases, unrendered
from tests.helpers import DEFAULT_CONFIG_FILE, run_cli
from tests.tools import tool


def through_helm_output(case: str) -> str:
    """What `render --through-helm` prints for a golden case, from its helm-rendered fixtures."""
    stack = golden(case)
    own = [yaml.safe_dump(o, sort_keys=False) for o in stack if o["kind"] not in through_helm.FLUX_HELM_KINDS]
    by_name = {o["metadata"]["name"]: o for o in stack if o["kind"] == "HelmRelease"}
    rendered = []
    for name in releases(case):
        if name in unrendered(case):
            continue
        chart, _, repository = header(case, name)["chart"].partition(" ")
        chart_name, version = chart.split("@")
        text = (RENDERED / case / f"{name}.yaml").read_text()
        ref = helm.ChartRef(chart_name, version, repository.strip("()"))
        rendered.append(helm.RenderedRelease(by_name[name], ref, text))
    return through_helm.compose(own, rendered)


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("renders")
    out = {}
    for case in ("seed-pins", "default"):
        out[case] = base / f"{case}.yaml"
        out[case].write_text(through_helm_output(case))
    return out


def test_a_chart_bump_shows_the_releases_and_the_objects_it_changes(renders):
    proc = run_cli("diff", str(renders["seed-pins"]), str(renders["default"]))
    assert proc.returncode == 1, proc.stderr.decode()
    out = proc.stdout.decode()
    summary = out.split("\n\n", 1)[0].splitlines()
    assert (
        "HelmRelease monitoring/kube-prometheus-stack: kube-prometheus-stack@82.18.0 -> kube-prometheus-stack@88.5.3"
        in summary
    )
    assert "HelmRelease monitoring/loki: loki@6.55.0 -> loki@18.11.0" in summary
    changed = [line for line in summary if line.startswith("~ ")]
    assert any(
        line.startswith("~ apps/v1 Deployment monitoring/kube-prometheus-stack-operator: changed (+")
        and line.endswith("(HelmRelease monitoring/kube-prometheus-stack)")
        for line in changed
    ), changed
    assert all(line[:2] in ("~ ", "+ ", "- ") or line.startswith("HelmRelease ") for line in summary)
    assert "--- old/apps/v1 Deployment monitoring/kube-prometheus-stack-operator\n" in out


def test_the_same_render_is_no_change(renders):
    proc = run_cli("diff", str(renders["default"]), str(renders["default"]))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def _secret_values(text: str) -> list[str]:
    values = []
    for obj in yaml.safe_load_all(text):
        if isinstance(obj, dict) and obj.get("kind") == "Secret":
            for field in diff.SECRET_FIELDS:
                values += [v for v in (obj.get(field) or {}).values() if isinstance(v, str) and len(v) > 3]
    return values


def test_secret_values_are_never_shown(renders, tmp_path: Path):
    text = renders["default"].read_text()
    docs = list(yaml.safe_load_all(text))
    changed = copy.deepcopy(docs)
    secret = next(d for d in changed if isinstance(d, dict) and d.get("kind") == "Secret" and d.get("data"))
    key = next(iter(secret["data"]))
    secret["data"][key] = base64.b64encode(b"a-new-secret-value").decode()
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump_all(changed))
    proc = run_cli("diff", str(renders["default"]), str(new))
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert f"~ v1 Secret monitoring/{secret['metadata']['name']}: changed" in out
    assert f"{key}: <secret, changed>" in out
    for value in [*_secret_values(text), secret["data"][key]]:
        assert value not in out
    assert "a-new-secret-value" not in out


def test_identity_is_group_kind_namespace_name():
    old = diff.parse("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: a, namespace: n}\n", "o")
    new = diff.parse("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: a, namespace: n}\n", "n")
    summary, details = diff.compare(old, new)
    assert summary == ["~ policy/v1 PodDisruptionBudget n/a: changed (+1 -1)"]
    assert "-apiVersion: policy/v1beta1\n" in details and "+apiVersion: policy/v1\n" in details


def test_added_and_removed_objects_and_key_order():
    old = diff.parse("kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\ndata: {x: '1', y: '2'}\n", "o")
    new = diff.parse(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {y: '2', x: '1'}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: m}\n",
        "n",
    )
    assert diff.compare(old, new) == (["+ v1 Service m/b: added"], [])
    assert diff.compare(new, old)[0] == ["- v1 Service m/b: removed"]


def test_markdown_for_a_pull_request(renders):
    proc = run_cli("diff", str(renders["seed-pins"]), str(renders["default"]), "--output", "markdown")
    out = proc.stdout.decode()
    assert out.startswith("### What changes in the cluster\n\n- `HelmRelease monitoring/")
    assert "<details><summary>Diff of the changed objects</summary>" in out and out.count("```diff") == 1


def test_an_unreadable_input_is_one_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    proc = run_cli("diff", str(bad), str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1 and "Traceback" not in proc.stderr.decode()
    proc = run_cli("diff", str(tmp_path / "missing.yaml"), str(bad))
    assert proc.returncode == 2 and "cannot read" in proc.stderr.decode()


def _default_releases() -> dict[str, str]:
    return {
        o["metadata"]["name"]: o["spec"]["chart"]["spec"]["version"]
        for o in golden("default")
        if o["kind"] == "HelmRelease"
    }


@pytest.mark.e2e
def test_the_ci_recipe_with_real_helm(tmp_path: Path):
    """docs/guides/ci-diff.md: render the base and the head through helm, then diff them."""
    for name, version in _default_releases().items():
        echo_chart(tmp_path / "charts", name, version)
    head = tmp_path / "head.yaml"
    config = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())
    config["spec"]["prometheus"] = {"retention": "30d"}  # the head branch keeps metrics longer
    head.write_text(yaml.safe_dump(config))
    outputs = []
    for config in (DEFAULT_CONFIG_FILE, head):
        proc = run_cli(
            "render",
            str(config),
            "--through-helm",
            "--helm",
            tool("helm"),
            "--charts",
            str(tmp_path / "charts"),
            "--offline",
        )
        assert proc.returncode == 0, proc.stderr.decode()
        outputs.append(tmp_path / f"{config.stem}-{len(outputs)}.out.yaml")
        outputs[-1].write_bytes(proc.stdout)
    proc = run_cli("diff", *map(str, outputs))
    assert proc.returncode == 1
    assert proc.stdout.decode().splitlines()[0] == (
        "~ v1 ConfigMap monitoring/kube-prometheus-stack-echo: changed (+1 -1) "
        "(HelmRelease monitoring/kube-prometheus-stack)"
    )
