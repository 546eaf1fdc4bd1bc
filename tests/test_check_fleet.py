"""`check` over tests/corpus/fleet: a two-cluster Flux homelab in the layouts of issue 23.

Each false-alarm class of issue 23 is a part of the fleet that gives no finding (what no cluster
builds gives one `not-built` warning per file or directory, never object findings); each real
problem, planted by an overlay from tests/corpus/planted-fleet/, is reported once with its file
and line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from krm_fn import lint
from krm_fn.repo import walk

CORPUS = Path(__file__).parent / "corpus"
FLEET = CORPUS / "fleet"
PLANTED = CORPUS / "planted-fleet"
MEALIE = "kubernetes/main/apps/media/mealie"


def check_json(path: Path, *args: str, root: str | None = None) -> tuple[dict, int]:
    outcome = lint.run([str(path), *args], "json", root=root)
    return json.loads(outcome.stdout), outcome.exit_code


def findings(doc: dict, base: Path = FLEET) -> list[tuple[str, str, str, int | None]]:
    """(rule, severity, file relative to the fleet, line) of each error and warning."""
    return [
        (r["rule"], r["severity"], str(Path(r["file"]).relative_to(base)) if r["file"] else "", r["line"])
        for r in doc["results"]
        if r["severity"] != "info"
    ]


NOT_BUILT = [
    ("not-built", "warning", "docs", None),  # docs/kept.yaml, kept by a .sourceignore `!` line
    ("not-built", "warning", "kubernetes/components/retired", None),  # a Component nothing uses
    ("not-built", "warning", f"{MEALIE}/app/kustomization.yaml", None),  # patches/resources.yaml, listed nowhere
]


@pytest.fixture(scope="module")
def fleet() -> dict:
    doc, code = check_json(FLEET)
    assert code == 0
    return doc


def objects(path: Path = FLEET, **kwargs) -> dict[str, set[tuple]]:
    return {g.name: {(i.kind, i.namespace, i.name) for i in g.items} for g in walk([str(path)], **kwargs).groups}


# --- the false-alarm classes, each with no finding ---------------------------------------------------


def test_the_fleet_gives_only_the_not_built_warnings(fleet):
    assert findings(fleet) == NOT_BUILT


def test_each_cluster_is_read_from_where_flux_starts_it():
    """Two FluxInstance syncs and the devenv FluxInstance (an OCI artifact of this repository)."""
    found = objects()
    clusters = sorted(name.split("/")[-1] if "devenv" not in name else "devenv" for name in found)
    assert len(found) == 3 and clusters.count("helmrelease.yaml") == 2 and "devenv" in clusters
    main = next(v for k, v in found.items() if "/kubernetes/main/" in k)
    utility = next(v for k, v in found.items() if "/kubernetes/utility/" in k)
    devenv = next(v for k, v in found.items() if "devenv" in k)
    # the shared app in each cluster, with that cluster's namespace; mealie in main only
    assert ("HelmRelease", "default", "echo") in main & utility
    assert ("HelmRelease", "devenv", "echo") in devenv
    assert ("HelmRelease", "media", "mealie") in main and ("HelmRelease", "media", "mealie") not in utility


def test_a_directory_flux_builds_is_checked_only_through_flux():
    """Class 1: the Gateway's kustomization is built with targetNamespace, never as its own root."""
    for items in objects().values():
        assert ("Gateway", None, "envoy-external") not in items
    assert all(
        ("Gateway", "network", "envoy-external") in items for name, items in objects().items() if "kubernetes" in name
    )


def test_flux_components_apply_before_the_apps_own_patches(fleet):
    """Class 2: patches/postgres.yaml patches the Cluster the postgres component (spec.components) makes."""
    assert ("Cluster", "media", "mealie-postgres") in next(v for k, v in objects().items() if "/kubernetes/main/" in k)
    assert not [r for r in fleet["results"] if r["rule"] == "patch-target"]


def test_files_no_build_reads_are_one_warning_and_never_object_findings(fleet):
    """Class 3: patches/resources.yaml (a Deployment without a selector) fails no schema; docs/page.yaml
    (a duplicate key) is left out by .sourceignore; the retired Component's patch matches nothing."""
    rules = {r["rule"] for r in fleet["results"]}
    assert not rules & {"schema", "yaml-parse", "patch-target"}
    message = next(r["message"] for r in fleet["results"] if r["file"].endswith("mealie/app/kustomization.yaml"))
    assert message.startswith("does not include patches/resources.yaml (1 file of Kubernetes objects)")


def test_secret_values_with_no_credential_are_not_plaintext(fleet):
    """Class 4: a client-certificate URL, certificate paths, placeholder compositions."""
    notes = [r for r in fleet["results"] if r["rule"] == "secret-plaintext"]
    assert [(r["severity"], Path(r["file"]).name) for r in notes] == [("info", "secret.yaml"), ("info", "secret.yaml")]


def test_an_inline_transformer_is_not_a_file(fleet):
    """Class 5: a YAML document under transformers: (kustomize takes it) is no missing file."""
    assert not [r for r in fleet["results"] if r["rule"] == "kustomization"]


def test_a_line_built_several_times_is_one_finding_counting_the_builds(fleet):
    """Class 6: the volsync component's Secret is built for echo in two clusters and for mealie."""
    notes = [r for r in fleet["results"] if r["file"].endswith("components/volsync/secret.yaml")]
    assert len(notes) == 1 and notes[0]["message"].endswith("(3 builds include this)")


def test_what_is_not_kubernetes_is_counted(fleet):
    assert fleet["summary"]["skipped"] == {
        "files Flux leaves out (.sourceignore and its defaults)": 1,  # docs/page.yaml
        "files in Helm chart folders (Chart.yaml)": 3,
        # Taskfile, talos x2, init/clusterconfiguration.yaml (kubeadm reads it)
        "files that are not Kubernetes objects (app configs, templates, helmfiles)": 4,
        "generator inputs (data, not manifests)": 1,  # mealie's config/mealie.yaml (a custom tag)
    }


# --- where the repository starts -------------------------------------------------------------------------


def test_the_root_is_found_from_the_flux_paths_without_git(tmp_path):
    """An export (no .git): checking kubernetes/main alone still resolves ./kubernetes/... paths."""
    copy = tmp_path / "export"
    shutil.copytree(FLEET, copy)
    assert not (copy / ".git").exists()
    found = objects(copy / "kubernetes" / "main")
    assert len(found) == 1
    (items,) = found.values()
    assert ("HelmRelease", "media", "mealie") in items and ("Cluster", "media", "mealie-postgres") in items
    assert walk([str(copy / "kubernetes" / "main")]).root == str(copy)


def test_root_option_names_the_source_root(tmp_path):
    copy = tmp_path / "export"
    shutil.copytree(FLEET, copy)
    wrong = walk([str(copy / "kubernetes" / "main")], root=str(copy / "kubernetes"))
    assert wrong.skipped.get("Flux Kustomizations whose path is not in this repository")
    right = walk([str(copy / "kubernetes" / "main")], root=str(copy))
    assert right.root == str(copy) and "Flux Kustomizations whose path is not in this repository" not in right.skipped


def test_a_directory_of_apps_given_alone_is_read_from_its_kustomization(tmp_path):
    """`check kubernetes/main/apps/media`: no FluxInstance in it; its kustomization lists mealie's ks.yaml."""
    doc, code = check_json(FLEET / "kubernetes/main/apps/media")
    assert code == 0 and findings(doc) == [("not-built", "warning", f"{MEALIE}/app/kustomization.yaml", None)]


# --- the real problems, planted: each once, with its file and line ----------------------------------------


def planted(tmp_path: Path, problem: str) -> Path:
    target = tmp_path / "fleet"
    shutil.copytree(FLEET, target)
    shutil.copytree(PLANTED / problem, target, dirs_exist_ok=True)
    return target


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.parametrize(
    ("problem", "rule", "file", "needle"),
    [
        ("plaintext-password", "secret-plaintext", f"{MEALIE}/app/secret.yaml", "hunter2"),
        ("bad-hostname-values", "hostname", f"{MEALIE}/app/helmrelease.yaml", "Mealie_App"),
        ("patch-target-missing", "patch-target", f"{MEALIE}/app/patches/postgres.yaml", "apiVersion"),
        ("shared-mistake", "hostname", "kubernetes/shared/echo/app/helmrelease.yaml", "echo-${CLUSTER}"),
    ],
)
def test_a_planted_problem_is_reported_once_with_file_and_line(tmp_path, problem, rule, file, needle):
    repo = planted(tmp_path, problem)
    doc, code = check_json(repo)
    path = repo / file
    assert code == 1
    expected = [*NOT_BUILT, (rule, "error", file, line_of(path, needle))]
    if problem == "patch-target-missing":  # the postgres component is then used by nothing
        expected.append(("not-built", "warning", "kubernetes/components/postgres", None))
    assert sorted(findings(doc, repo)) == sorted(expected), doc["results"]
    assert "hunter2" not in json.dumps(doc)


def test_a_mistake_in_a_shared_app_counts_the_clusters_that_build_it(tmp_path):
    doc, _ = check_json(planted(tmp_path, "shared-mistake"))
    (found,) = [r for r in doc["results"] if r["rule"] == "hostname"]
    assert found["message"].endswith("(3 builds include this)")  # main, utility, devenv
