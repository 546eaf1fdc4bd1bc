"""krm_fn.repo: builds as kustomize and Flux make them, and what is reported about the layout itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from krm_fn import lint
from krm_fn.repo import walk
from krm_fn.repo.flux import Substitution
from tests.helpers import write


def put(directory: Path, files: dict[str, str]) -> Path:
    for name in files:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
    return write(directory, files)


def results(path: Path, *args) -> list[tuple[str, str, str, int | None]]:
    doc = json.loads(lint.run([str(path)], "json", *args).stdout)
    return [(r["rule"], r["severity"], Path(r["file"]).name if r["file"] else "", r["line"]) for r in doc["results"]]


def objects(path: Path) -> set[tuple]:
    return {(i.kind, i.namespace, i.name) for g in walk([str(path)]).groups for i in g.items}


CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  a: "1"
"""


# --- Flux substitution, as kustomize-controller does it ----------------------------------------------


@pytest.mark.parametrize(
    ("values", "open_ended", "text", "expected"),
    [
        ({"A": "x"}, False, "${A}-${A}", "x-x"),
        ({"A": ""}, False, "${A:-d} ${A-d} ${A:=d} ${A=d}", "d  d "),
        ({}, False, "${B}", "${B}"),  # no variables at all: Flux does not substitute
        ({"A": "x"}, False, "${B:-d} ${B}", "d ${B}"),  # unset: the default; no default: left as a placeholder
        ({"A": "x"}, True, "${B:-d} ${B}", "${B:-d} ${B}"),  # substituteFrom may set B: unknown
        ({"A": "x"}, False, "$${A} $A", "$${A} $A"),  # $${A} is an escaped literal; only ${A} is a variable
        ({"A": "x"}, False, "${A:0:1} ${A^^}", "${A:0:1} ${A^^}"),  # operators we do not evaluate stay
    ],
)
def test_substitution(values, open_ended, text, expected):
    assert Substitution(values, open_ended).apply(text) == expected


def test_substitution_disabled_by_annotation(tmp_path: Path):
    put(
        tmp_path,
        {
            "ks.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: app, namespace: flux-system}
            spec:
              path: ./app
              postBuild: {substitute: {NAME: web}}
            """,
            "app/a.yaml": CM.format(name="a-${NAME}"),
            "app/b.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: b-${NAME}
              annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}
            """,
        },
    )
    names = {n for _, _, n in objects(tmp_path)}
    assert {"a-web", "b-${NAME}"} <= names


def test_flux_path_without_kustomization_builds_every_file_and_target_namespace(tmp_path: Path):
    put(
        tmp_path,
        {
            "clusters/one/apps.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: apps, namespace: flux-system}
            spec: {path: ./apps, targetNamespace: team}
            """,
            "apps/x.yaml": CM.format(name="x"),
            "apps/sub/y.yaml": CM.format(name="y"),
        },
    )
    assert {("ConfigMap", "team", "x"), ("ConfigMap", "team", "y")} <= objects(tmp_path)


def test_two_clusters_with_the_same_app_are_checked_apart(tmp_path: Path):
    """The same HTTPRoute in two clusters is no overlap: each Flux cluster is its own group."""
    route = """
    apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: web-${CLUSTER}}
    spec:
      parentRefs: [{name: gw, namespace: net}]
      hostnames: [web.example.org]
    """
    ks = """
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: apps, namespace: flux-system}}
    spec:
      path: ./apps/{cluster}
      targetNamespace: web
      postBuild: {{substitute: {{CLUSTER: {cluster}}}}}
    """
    gateway = """
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: gw, namespace: net}
    spec:
      gatewayClassName: c
      listeners: [{name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}]
    """
    files = {"apps/base/route.yaml": route, "apps/base/kustomization.yaml": "resources: [route.yaml]\n"}
    for cluster in ("one", "two"):
        files[f"clusters/{cluster}/apps.yaml"] = ks.format(cluster=cluster)
        files[f"clusters/{cluster}/gateway.yaml"] = gateway
        files[f"apps/{cluster}/kustomization.yaml"] = "resources: [../base]\n"
    put(tmp_path, files)
    assert results(tmp_path) == []
    assert len(walk([str(tmp_path)]).groups) == 2
    # control: the two routes in one cluster do overlap
    files["clusters/one/more.yaml"] = ks.format(cluster="two").replace("name: apps", "name: more")
    put(tmp_path, files)
    assert [r[0] for r in results(tmp_path)] == ["route-overlap"]


# --- kustomize: what is wrong with the layout itself ------------------------------------------------------


def test_a_missing_resource_is_an_error_at_its_line(tmp_path: Path):
    put(
        tmp_path,
        {"kustomization.yaml": "resources:\n  - there.yaml\n  - gone.yaml\n", "there.yaml": CM.format(name="a")},
    )
    assert results(tmp_path) == [("kustomization", "error", "kustomization.yaml", 3)]


def test_a_patch_of_nothing_is_an_error_and_a_broken_patch_a_parse_error(tmp_path: Path):
    put(
        tmp_path,
        {
            "kustomization.yaml": "resources: [cm.yaml]\npatches:\n  - path: p1.yaml\n  - path: p2.yaml\n",
            "cm.yaml": CM.format(name="a"),
            "p1.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata: {x: '1'}\n",
            "p2.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: a\n",
        },
    )
    found = results(tmp_path)
    assert ("patch-target", "error", "p1.yaml", 1) in found
    assert any(r[0] == "yaml-parse" and r[2] == "p2.yaml" and r[3] == 5 for r in found), found
    assert len(found) == 2


def test_a_patch_of_a_generated_configmap_or_a_remote_base_is_fine(tmp_path: Path):
    put(
        tmp_path,
        {
            "kustomization.yaml": """
            resources:
              - https://github.com/example/base//deploy?ref=v1
            configMapGenerator:
              - name: settings
                literals: [a=1]
            patches:
              - path: p.yaml
            """,
            "p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: remote-one\n",
            "settings-patch/kustomization.yaml": """
            resources: [cm.yaml]
            configMapGenerator:
              - name: generated
                literals: [a=1]
            patches:
              - path: p.yaml
            """,
            "settings-patch/cm.yaml": CM.format(name="plain"),
            "settings-patch/p.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: generated\n",
        },
    )
    assert results(tmp_path) == []
    assert json.loads(lint.run([str(tmp_path)], "json").stdout)["summary"]["skipped"] == {
        "remote resources (not fetched)": 1
    }


def test_a_file_no_kustomization_lists_is_checked_when_it_is_kubernetes(tmp_path: Path):
    put(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\n",
            "a.yaml": CM.format(name="a"),
            "stray.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n  name: t\n",
            "app-config.yaml": "token: !secret x\n",
        },
    )
    assert results(tmp_path) == [("yaml-parse", "error", "stray.yaml", 5)]


def test_a_cluster_of_per_app_flux_kustomizations_is_one_group(tmp_path: Path):
    """The layout of many homelabs: kubernetes/flux/cluster/ks.yaml builds kubernetes/apps (no
    kustomization there: Flux generates one listing each namespace's kustomization), which lists each
    app's ks.yaml, each building the app's directory. A Gateway in one app and a route in another
    are in one cluster: the route is checked against the Gateway."""
    ks = """
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: {name}, namespace: flux-system}}
    spec:
      path: {path}
      targetNamespace: network
      sourceRef: {{kind: GitRepository, name: flux-system}}
    """
    route = """
    apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: echo}
    spec:
      parentRefs: [{name: external, sectionName: nope}]
      hostnames: [echo.example.org]
    """
    gateway = """
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: external}
    spec:
      gatewayClassName: envoy
      listeners: [{name: https, protocol: HTTPS, port: 443, hostname: "*.example.org"}]
    """
    put(
        tmp_path,
        {
            "kubernetes/flux/cluster/ks.yaml": ks.format(name="cluster-apps", path="./kubernetes/apps"),
            "kubernetes/apps/network/kustomization.yaml": "resources: [./gateway/ks.yaml, ./echo/ks.yaml]\n",
            "kubernetes/apps/network/gateway/ks.yaml": ks.format(
                name="gw", path="./kubernetes/apps/network/gateway/app"
            ),
            "kubernetes/apps/network/gateway/app/kustomization.yaml": "resources: [gateway.yaml]\n",
            "kubernetes/apps/network/gateway/app/gateway.yaml": gateway,
            "kubernetes/apps/network/echo/ks.yaml": ks.format(name="echo", path="./kubernetes/apps/network/echo/app"),
            "kubernetes/apps/network/echo/app/kustomization.yaml": "resources: [route.yaml]\n",
            "kubernetes/apps/network/echo/app/route.yaml": route,
        },
    )
    repo = walk([str(tmp_path)])
    assert len(repo.groups) == 1
    found = results(tmp_path)
    # the route names a listener the Gateway does not have: found only because both are in one group
    assert [(r[0], r[2]) for r in found] == [("route-attachment", "route.yaml")], found


FLUX_KS = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec:
  path: {path}
  sourceRef: {{kind: {kind}, name: {source}}}
"""


def test_flux_kustomizations_of_another_repository_are_skipped_and_counted(tmp_path: Path):
    """Most Kustomizations build from this repository's GitRepository; one that names another
    GitRepository (a project's CRDs) or an OCIRepository builds files that are not here."""
    own = "flux-system"
    put(
        tmp_path,
        {
            "clusters/home/apps.yaml": FLUX_KS.format(name="apps", path="./apps", kind="GitRepository", source=own),
            "clusters/home/infra.yaml": FLUX_KS.format(name="infra", path="./infra", kind="GitRepository", source=own),
            "clusters/home/crds.yaml": FLUX_KS.format(name="crds", path="./", kind="GitRepository", source="crds-src"),
            "clusters/home/oci.yaml": FLUX_KS.format(name="oci", path="./apps", kind="OCIRepository", source="x"),
            "apps/a.yaml": CM.format(name="a"),
            "infra/i.yaml": CM.format(name="i"),
            "docs/mkdocs.yml": "nav: !!python/name:material.extensions\n",
        },
    )
    doc = json.loads(lint.run([str(tmp_path)], "json").stdout)
    assert doc["results"] == []
    assert doc["summary"]["skipped"]["Flux Kustomizations of another source (another repository, OCI, a bucket)"] == 2
    assert doc["summary"]["fluxKustomizations"] == 2


def test_a_cluster_directory_whose_flux_system_builds_it_is_one_group(tmp_path: Path):
    """cluster/flux/*.yaml with no kustomization, and cluster/flux/flux-system/ (a kustomization)
    holding the Kustomization that builds ./cluster/flux: one cluster, each object once."""
    own = "flux-cluster"
    put(
        tmp_path,
        {
            "cluster/flux/flux-system/kustomization.yaml": "resources: [sync.yaml]\n",
            "cluster/flux/flux-system/sync.yaml": FLUX_KS.format(
                name="flux-cluster", path="./cluster/flux", kind="GitRepository", source=own
            ),
            "cluster/flux/apps.yaml": FLUX_KS.format(
                name="apps", path="./cluster/apps", kind="GitRepository", source=own
            ),
            "cluster/apps/kustomization.yaml": "resources: [a.yaml]\n",
            "cluster/apps/a.yaml": CM.format(name="a"),
        },
    )
    repo = walk([str(tmp_path)])
    assert len(repo.groups) == 1
    names = [i.name for i in repo.groups[0].items]
    assert sorted(names) == ["a", "apps", "flux-cluster"]


def test_an_empty_placeholder_resource_makes_patch_targets_unknown(tmp_path: Path):
    """`flux bootstrap` fills gotk-components.yaml later: a patch of its Deployments is no finding."""
    put(
        tmp_path,
        {
            "kustomization.yaml": """
            resources: [gotk-components.yaml, cm.yaml]
            patches:
              - target: {kind: Deployment, name: kustomize-controller}
                patch: '[{"op": "add", "path": "/spec/replicas", "value": 2}]'
            """,
            "gotk-components.yaml": "# This file will be generated automatically by flux bootstrap.\n",
            "cm.yaml": CM.format(name="a"),
        },
    )
    assert results(tmp_path) == []
    (tmp_path / "gotk-components.yaml").write_text(CM.format(name="b"))
    assert [r[:2] for r in results(tmp_path)] == [("patch-target", "warning")]


def test_a_patch_target_naming_what_flux_substitutes_later_is_a_warning_that_says_so(tmp_path: Path):
    """gavinmcfall/home-ops' layout: the component's ScaledObject is `${APP}` until Flux substitutes
    it after the build; a target `name: plex` matches nothing then (kustomize changes nothing)."""
    put(
        tmp_path,
        {
            "clusters/home/apps.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: plex, namespace: flux-system}
            spec:
              path: ./apps/plex
              components: [../../components/scaler]
              postBuild: {substitute: {APP: plex}}
            """,
            "components/scaler/kustomization.yaml": "kind: Component\nresources: [scaledobject.yaml]\n",
            "components/scaler/scaledobject.yaml": """
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata: {name: "${APP}"}
            spec: {scaleTargetRef: {name: "${APP}"}}
            """,
            "apps/plex/kustomization.yaml": """
            resources: [cm.yaml]
            patches:
              - target: {kind: ScaledObject, name: plex}
                patch: '[{"op": "replace", "path": "/spec/minReplicaCount", "value": 1}]'
            """,
            "apps/plex/cm.yaml": CM.format(name="plex"),
        },
    )
    doc = json.loads(lint.run([str(tmp_path)], "json").stdout)
    found = [r for r in doc["results"] if r["severity"] != "info"]
    assert [(r["rule"], r["severity"], Path(r["file"]).name, r["line"]) for r in found] == [
        ("patch-target", "warning", "kustomization.yaml", 3)
    ]
    assert "the build has ScaledObject named ${APP}" in found[0]["message"]


def test_the_repo_modules_import_one_way():
    """sourceignore, objects -> reader -> listing, kustomization -> unbuilt -> walker: no module of
    krm_fn/repo imports one that imports it back, at any depth."""
    import ast

    directory = Path(__file__).parent.parent / "krm_fn" / "repo"
    imports: dict[str, set[str]] = {}
    for path in directory.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("krm_fn.repo"):
                module = node.module.removeprefix("krm_fn.repo").lstrip(".")
                found |= {module} if module else {alias.name for alias in node.names}
        imports[path.stem] = found - {path.stem}

    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in imports.get(start, ()))

    assert [m for m in imports if m != "__init__" and reaches(m, m)] == []
    assert "walker" not in imports["kustomization"] | imports["listing"] | imports["reader"]


def test_a_bootstrap_kustomization_its_own_build_does_not_list_starts_the_cluster_once(tmp_path: Path):
    """sulibot/home-ops' layout: clusters/production/flux-system/gotk-sync.yaml builds
    ./clusters/production, whose kustomization.yaml does not list flux-system/: one cluster (this
    once looped for ever); the bootstrap file is where Flux starts (`flux bootstrap` applies it),
    so it is no not-built warning."""
    put(
        tmp_path,
        {
            "clusters/production/flux-system/gotk-sync.yaml": FLUX_KS.format(
                name="flux-system", path="./clusters/production", kind="GitRepository", source="flux-system"
            ),
            "clusters/production/kustomization.yaml": "resources: [apps.yaml]\n",
            "clusters/production/apps.yaml": FLUX_KS.format(
                name="apps", path="./apps", kind="GitRepository", source="flux-system"
            ),
            "apps/a.yaml": CM.format(name="a"),
        },
    )
    repo = walk([str(tmp_path)])
    assert [sorted(i.name for i in g.items) for g in repo.groups] == [["a", "apps"]]
    assert results(tmp_path) == []


@pytest.mark.parametrize(
    ("selector", "open_ended"),
    [
        (None, True),  # every child: substituteFrom added, so ${TZ:=UTC} is unknown until Flux runs
        ("substitution.flux/disabled notin (true)", True),  # Ramblurr/home-ops' selector: the child has no label
        ("substitution.flux/disabled in (true)", False),  # not selected: the child's own values, defaults applied
    ],
)
def test_a_parents_patches_of_its_kustomizations_change_their_substitution(tmp_path: Path, selector, open_ended):
    """onedr0p's cluster-template: cluster-apps patches every Kustomization it builds with
    postBuild.substituteFrom (and decryption); a child with only `substitute` becomes open-ended."""
    target = "{group: kustomize.toolkit.fluxcd.io, kind: Kustomization"
    target += f", labelSelector: '{selector}'}}" if selector else "}"
    put(
        tmp_path,
        {
            "flux/cluster/ks.yaml": f"""
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {{name: cluster-apps, namespace: flux-system}}
            spec:
              path: ./apps
              sourceRef: {{kind: GitRepository, name: flux-system}}
              patches:
                - target: {target}
                  patch: |-
                    apiVersion: kustomize.toolkit.fluxcd.io/v1
                    kind: Kustomization
                    metadata: {{name: _}}
                    spec:
                      postBuild:
                        substituteFrom: [{{kind: Secret, name: cluster-secrets}}]
            """,
            "flux/cluster/flux-system.yaml": FLUX_KS.format(
                name="flux-system", path="./flux/cluster", kind="GitRepository", source="flux-system"
            ),
            "apps/echo/ks.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: echo, namespace: flux-system}
            spec:
              path: ./apps/echo/app
              sourceRef: {kind: GitRepository, name: flux-system}
              postBuild: {substitute: {APP: echo}}
            """,
            "apps/echo/kustomization.yaml": "resources: [ks.yaml]\n",  # Flux's generator stops here
            "apps/echo/app/kustomization.yaml": "resources: [cm.yaml]\n",
            "apps/echo/app/cm.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: "${APP}"}
            data: {TZ: "${TZ:=UTC}"}
            """,
        },
    )
    (group,) = walk([str(tmp_path)]).groups
    config = next(i for i in group.items if i.kind == "ConfigMap")
    assert config.name == "echo"
    assert config.obj["data"]["TZ"] == ("${TZ:=UTC}" if open_ended else "UTC")
