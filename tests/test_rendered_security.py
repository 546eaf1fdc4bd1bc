"""Least privilege and Pod Security in what the cluster gets (docs/security.md), proven on the helm
renders of every golden (tests/rendered/) and the function's own objects (tests/golden/).

- Every Role and ClusterRole that can read Secrets is in the reviewed list of docs/security.md;
  only prometheus-operator can read them outside the stack namespace.
- Grafana's sidecars read ConfigMaps of the stack namespace only; Loki's rules sidecar is off;
  kube-state-metrics has no Secret or ConfigMap collector.
- The Prometheus, Alertmanager and Alloy routes do not pass their lifecycle endpoints.
- Every pod meets the Pod Security level of its namespace (tests/pod_security.py), and the stack
  namespace is not `privileged`.
- Thanos (the ha profile) has no API access and sees one key of the stack Secret.
Each check is a function over objects, so the tests below also show it failing on a bad object.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from krm_fn.charts import UI_SERVICES
from krm_fn.checks.privilege import reads_secrets
from krm_fn.components import privilege, profile, routes
from krm_fn.components.namespace import ENFORCE_LABEL
from tests import pod_security as pss
from tests.helm_render import CASES, find, golden, of_kind, rendered
from tests.helpers import default_config, load
from tests.pod_security import violations
from tests.rendered_pods import Pod, pods

SECURITY_DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"
OPERATOR = ("ServiceAccount", "kube-prometheus-stack-operator")
GRAFANA = ("ServiceAccount", privilege.GRAFANA_SERVICE_ACCOUNT)
BINDINGS = ("RoleBinding", "ClusterRoleBinding")


def reviewed() -> dict[tuple[str, str], str]:
    """(kind, name) -> why, from the table between the secret-readers markers of docs/security.md."""
    text = SECURITY_DOC.read_text()
    table = text.split("<!-- secret-readers:start -->")[1].split("<!-- secret-readers:end -->")[0]
    out = {}
    for line in table.strip().splitlines()[2:]:
        _, _chart, kind, name, _where, why, _ = (cell.strip() for cell in line.split("|"))
        out[(kind, name)] = why
    return out


def everything(case: str) -> list[dict]:
    """What the cluster runs for a case: the function's own objects and what helm renders."""
    return [o for o in golden(case) if o["kind"] != "HelmRelease"] + rendered(case)


def stack_namespace(case: str) -> str:
    return find(golden(case), "HelmRelease", "kube-prometheus-stack")["metadata"]["namespace"]


# --- who may read Secrets ------------------------------------------------------------------------


def secret_readers(objects: list[dict]) -> list[tuple[str, str]]:
    """(kind, name) of every Role and ClusterRole that can read Secrets (an aggregated one counts: its
    rules are not known before the cluster aggregates them)."""
    return [
        (o["kind"], o["metadata"]["name"])
        for o in of_kind(objects, "Role", "ClusterRole")
        if reads_secrets(o.get("rules")) or o.get("aggregationRule")
    ]


def unreviewed(objects: list[dict], listed: dict) -> list[tuple[str, str]]:
    return [role for role in secret_readers(objects) if role not in listed]


def secret_reach(objects: list[dict]) -> dict[tuple[str, str], set[str]]:
    """Subject (kind, name) -> the namespaces where it can read Secrets ("*": all of them)."""
    readers = {(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in of_kind(objects, "Role")}
    readers = {r for r in readers if r[:2] in secret_readers(objects)}
    cluster_readers = {name for kind, name in secret_readers(objects) if kind == "ClusterRole"}
    out: dict[tuple[str, str], set[str]] = {}
    for binding in of_kind(objects, *BINDINGS):
        ref, namespace = binding["roleRef"], binding["metadata"].get("namespace")
        if ref["kind"] == "ClusterRole" and ref["name"] in cluster_readers:
            scope = "*" if binding["kind"] == "ClusterRoleBinding" else namespace
        elif ref["kind"] == "Role" and ("Role", ref["name"], namespace) in readers:
            scope = namespace
        else:
            continue
        for subject in binding.get("subjects") or []:
            out.setdefault((subject["kind"], subject["name"]), set()).add(scope)
    return out


@pytest.mark.parametrize("case", CASES)
def test_every_role_that_reads_secrets_is_reviewed(case: str):
    missing = unreviewed(everything(case), reviewed())
    assert not missing, f"Roles that read Secrets, not in the reviewed list of docs/security.md: {missing}"


def test_the_reviewed_list_has_no_stale_entry():
    seen = {role for case in CASES for role in secret_readers(everything(case))}
    assert set(reviewed()) <= seen, f"reviewed but never rendered: {sorted(set(reviewed()) - seen)}"
    assert all(why for why in reviewed().values())


def test_a_new_secret_reader_fails_the_review():
    role = {
        "kind": "ClusterRole",
        "metadata": {"name": "grafana-clusterrole"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "watch", "list"]}],
    }
    everything_rule = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    wildcard = {"kind": "Role", "metadata": {"name": "any"}, "rules": everything_rule}
    create_only = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}]
    writer = {"kind": "Role", "metadata": {"name": "writer"}, "rules": create_only}
    assert unreviewed([role, wildcard, writer], reviewed()) == [("ClusterRole", "grafana-clusterrole"), ("Role", "any")]


@pytest.mark.parametrize("case", CASES)
def test_only_prometheus_operator_reads_secrets_outside_the_stack_namespace(case: str):
    reach = secret_reach(everything(case))
    outside = {subject: scopes - {stack_namespace(case)} for subject, scopes in reach.items()}
    assert {subject for subject, scopes in outside.items() if scopes} == {OPERATOR}, reach


def test_secret_reach_follows_the_bindings():
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]
    role = {"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": rules}
    subject = [{"kind": "ServiceAccount", "name": "sa", "namespace": "a"}]
    ref = {"kind": "ClusterRole", "name": "r"}
    cluster = {"kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "roleRef": ref, "subjects": subject}
    local = {"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "x"}, "roleRef": ref, "subjects": subject}
    assert secret_reach([role, local]) == {("ServiceAccount", "sa"): {"x"}}
    assert secret_reach([role, cluster, local]) == {("ServiceAccount", "sa"): {"*", "x"}}


# --- Grafana, Loki, kube-state-metrics --------------------------------------------------------


def grafana_operator(case: str) -> bool:
    """spec.grafana.mode: operator: the chart's Grafana is off, the user's grafana-operator instance runs Grafana."""
    return bool(of_kind(golden(case), "GrafanaDatasource"))


@pytest.mark.parametrize("case", CASES)
def test_grafana_sidecars_read_configmaps_of_the_stack_namespace_only(case: str):
    objects, namespace = everything(case), stack_namespace(case)
    bindings = [b for b in of_kind(objects, *BINDINGS) if any((s["kind"], s["name"]) == GRAFANA for s in b["subjects"])]
    if grafana_operator(case):  # no Grafana of the chart's, so no Role for its sidecars either
        assert not bindings
        assert not [o for o in objects if o["metadata"]["name"] == privilege.GRAFANA_SIDECAR_ROLE]
        assert not [o for o in objects if o["metadata"]["name"] == GRAFANA[1]]
        return
    assert [(b["kind"], b["metadata"]["namespace"]) for b in bindings] == [("RoleBinding", namespace)]
    role = find(objects, "Role", bindings[0]["roleRef"]["name"])
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
    assert find(objects, "ServiceAccount", GRAFANA[1])["metadata"]["namespace"] == namespace  # the binding's subject
    deployment = find(objects, "Deployment", "kube-prometheus-stack-grafana")["spec"]["template"]["spec"]
    sidecars = [c for c in deployment["containers"] if c["name"].startswith("grafana-sc-")]
    assert len(sidecars) == 2  # dashboards and datasources
    for container in sidecars:
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert (env["RESOURCE"], env["NAMESPACE"]) == ("configmap", namespace), container["name"]


@pytest.mark.parametrize("case", CASES)
def test_loki_runs_no_rules_sidecar_and_has_no_rbac_rules(case: str):
    objects = rendered(case, "loki")
    for workload in of_kind(objects, "StatefulSet", "Deployment"):
        names = [c["name"] for c in workload["spec"]["template"]["spec"]["containers"]]
        assert not [n for n in names if "sc-rules" in n], (workload["metadata"]["name"], names)
    for role in of_kind(objects, "ClusterRole", "Role"):
        assert not role.get("rules"), role["metadata"]["name"]


@pytest.mark.parametrize("case", CASES)
def test_kube_state_metrics_collects_no_secrets_or_configmaps(case: str):
    objects = rendered(case, "kube-prometheus-stack")
    container = find(objects, "Deployment", "kube-prometheus-stack-kube-state-metrics")["spec"]["template"]["spec"]
    (args,) = [a for a in container["containers"][0]["args"] if a.startswith("--resources=")]
    collectors = set(args.removeprefix("--resources=").split(","))
    assert collectors == set(privilege.KSM_COLLECTORS)
    role = find(objects, "ClusterRole", "kube-prometheus-stack-kube-state-metrics")
    resources = {r for rule in role["rules"] for r in rule.get("resources", [])}
    assert not {"secrets", "configmaps", "*"} & resources
    # The Flux kinds exactly while its customResourceState reads them (not under the Flux Operator,
    # which exports flux_resource_info itself).
    state = "--custom-resource-state-config-file" in " ".join(container["containers"][0]["args"])
    flux = {g for rule in role["rules"] for g in rule.get("apiGroups", []) if g.endswith(".toolkit.fluxcd.io")}
    assert bool(flux) == state, (flux, state)


# --- the routes --------------------------------------------------------------------------------


def _prefix_matches(prefix: str, path: str) -> bool:
    """Gateway API PathPrefix: whole path elements, a trailing slash in the prefix ignored."""
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def served_by(route: dict, path: str) -> dict | None:
    """The rule a request for `path` goes to: an Exact match first, then the longest PathPrefix, then
    the first rule in order (HTTPRouteRule.matches precedence, Gateway API v1.6.1)."""
    best, best_key = None, None
    for order, rule in enumerate(route["spec"]["rules"]):
        for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
            kind, value = match["path"]["type"], match["path"]["value"]
            if (kind == "Exact" and path == value) or (kind == "PathPrefix" and _prefix_matches(value, path)):
                key = (kind == "Exact", len(value), -order)
                if best_key is None or key > best_key:
                    best, best_key = rule, key
    return best


@pytest.mark.parametrize("case", CASES)
def test_lifecycle_endpoints_never_reach_the_ui(case: str):
    exposed = of_kind(golden(case), "HTTPRoute")
    if case == "default":
        assert set(routes.LIFECYCLE_PATHS) <= {r["metadata"]["name"] for r in exposed}
    for route in exposed:
        name = route["metadata"]["name"]
        for path in routes.LIFECYCLE_PATHS.get(name, ()):
            for variant in (path, path + "/", path + "/x"):
                rule = served_by(route, variant)
                assert "backendRefs" not in rule and "filters" not in rule, (name, variant)
        for path in ("/", "/graph", "/api/v1/query", "/-/healthy", "/-/ready", "/-/quitter", "/-/reloaded"):
            assert served_by(route, path)["backendRefs"], (name, path)


def test_a_route_without_the_block_passes_the_lifecycle_endpoints():
    config = load(default_config())
    service = UI_SERVICES["prometheus"]
    assert served_by(routes.route(config, "p", "p.example.com", service), "/-/quit")["backendRefs"]
    blocked = routes.route(config, "p", "p.example.com", service, blocked=("/-/quit",))
    assert "backendRefs" not in served_by(blocked, "/-/quit")


# --- Pod Security ------------------------------------------------------------------------------


def levels(case: str) -> dict[str, str]:
    """Namespace -> the Pod Security level it enforces, for the namespaces the function generates."""
    return {
        ns["metadata"]["name"]: ns["metadata"].get("labels", {}).get(ENFORCE_LABEL, "none")
        for ns in of_kind(golden(case), "Namespace")
    }


def pod_security_problems(found: list[Pod], enforced: dict[str, str]) -> list[str]:
    """What breaks the level of its namespace, per pod; a pod in a namespace the stack does not create."""
    problems = []
    for pod in found:
        level = enforced.get(pod.namespace)
        if level is None:
            problems.append(f"{pod}: the stack does not create this namespace")
        elif level != "none":
            problems += [f"{pod} ({level}): {v}" for v in violations(pod.meta, pod.spec, level)]
    return problems


@pytest.mark.parametrize("case", CASES)
def test_every_rendered_pod_meets_the_pod_security_level_of_its_namespace(case: str):
    found = pods(case)
    assert len(found) >= 8
    problems = pod_security_problems(found, levels(case))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", CASES)
def test_the_stack_namespace_is_not_privileged_and_only_node_exporter_is(case: str):
    enforced = levels(case)
    assert enforced[stack_namespace(case)] in ("baseline", "restricted")
    privileged = {ns for ns, level in enforced.items() if level == "privileged"}
    in_privileged = {p.source for p in pods(case) if p.namespace in privileged}
    assert in_privileged == {"kube-prometheus-stack: DaemonSet kube-prometheus-stack-prometheus-node-exporter"}


def test_a_pod_that_breaks_its_namespace_level_is_reported():
    found = pods("default")
    node_exporter = next(p for p in found if "node-exporter" in p.source)
    moved = Pod(node_exporter.source, "monitoring", node_exporter.meta, node_exporter.spec)
    problems = pod_security_problems([moved], levels("default"))
    assert any("hostNetwork" in p for p in problems) and any("hostPath" in p for p in problems)
    stray = Pod("x", "elsewhere", {}, {"containers": [{"name": "c"}]})
    (problem,) = pod_security_problems([stray], levels("default"))
    assert problem == "x in elsewhere: the stack does not create this namespace"


# --- Thanos (the ha profile) ----------------------------------------------------------------------


def thanos_secret_files(pod: Pod) -> dict[str, set[str | None]]:
    """Container -> the subPaths it mounts of Secret volumes (None: the whole Secret)."""
    secret_volumes = {v["name"] for v in pod.spec.get("volumes", []) if "secret" in v}
    return {
        c["name"]: {m.get("subPath") for m in c.get("volumeMounts", []) if m["name"] in secret_volumes}
        for c in pod.spec.get("initContainers", []) + pod.spec["containers"]
    }


def test_thanos_has_no_kubernetes_api_access_and_sees_only_its_bucket_configuration():
    """docs/security.md's Thanos row, on the ha render of stevehipwell's thanos 1.24.1: no Role,
    ClusterRole or binding, no ServiceAccount token; Query reads no Secret, the Store Gateway and the
    Compactor see one key of the stack Secret, the bucket configuration; every pod meets restricted."""
    objects = rendered("ha", "thanos")
    assert not of_kind(objects, "Role", "ClusterRole", *BINDINGS)
    accounts = of_kind(objects, "ServiceAccount")
    assert sorted(a["metadata"]["name"] for a in accounts) == ["thanos-compact", "thanos-query", "thanos-store-gateway"]
    assert all(a.get("automountServiceAccountToken") is False for a in accounts)
    found = {p.source: p for p in pods("ha") if p.source.startswith("thanos:")}
    assert sorted(found) == [
        "thanos: Deployment thanos-query",
        "thanos: StatefulSet thanos-compact",
        "thanos: StatefulSet thanos-store-gateway",
    ]
    for source, pod in found.items():
        assert pss.strictest(pod.meta, pod.spec) == "restricted", source
        assert not pod.spec.get("automountServiceAccountToken"), source
        files = set().union(*thanos_secret_files(pod).values())
        assert files == (set() if "query" in source else {profile.THANOS_OBJSTORE_KEY}), source
    # Control: a container that mounts the whole stack Secret is seen.
    store = found["thanos: StatefulSet thanos-store-gateway"]
    (container,) = store.spec["containers"]
    volume = next(v["name"] for v in store.spec["volumes"] if "secret" in v)
    container["volumeMounts"].append({"name": volume, "mountPath": "/secrets"})
    assert thanos_secret_files(store)[container["name"]] == {profile.THANOS_OBJSTORE_KEY, None}


def test_the_pods_short_of_restricted_are_the_ones_docs_security_names():
    """docs/security.md says which pods keep the stack namespace from `restricted`."""
    short = {p.source for p in pods("default") if pss.strictest(p.meta, p.spec) != "restricted"}
    assert short == {
        "alloy: StatefulSet alloy",
        "kube-prometheus-stack: Pod kube-prometheus-stack-grafana-test",
        "kube-prometheus-stack: DaemonSet kube-prometheus-stack-prometheus-node-exporter",
    }
    (seed_loki,) = [p for p in pods("seed-pins") if p.source.startswith("loki:")]
    assert pss.strictest(seed_loki.meta, seed_loki.spec) == "baseline"  # 6.55.0: no seccomp profile
