"""tests/pod_security.py: each Pod Security control refuses what its table row refuses and admits the rest.

The cases follow the allowed values of kubernetes/pod-security-admission policy/check_*.go (and
its *_test.go cases) at 8f84a87c, which implement the tables of
https://kubernetes.io/docs/concepts/security/pod-security-standards/.
"""

from __future__ import annotations

import pytest

from tests import pod_security as pss

RESTRICTED_CONTAINER = {
    "name": "app",
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
}
RESTRICTED_POD = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [RESTRICTED_CONTAINER],
    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "x"}}, {"name": "tmp", "emptyDir": {}}],
}


def container(**security) -> dict:
    return {"containers": [{"name": "app", "securityContext": security}]}


# (check, a pod spec it refuses, a pod spec it admits)
CASES = [
    (pss.host_process, {"securityContext": {"windowsOptions": {"hostProcess": True}}}, {}),
    (
        pss.host_process,
        container(windowsOptions={"hostProcess": True}),
        container(windowsOptions={"hostProcess": False}),
    ),
    (pss.host_namespaces, {"hostNetwork": True}, {"hostNetwork": False}),
    (pss.host_namespaces, {"hostPID": True}, {}),
    (pss.host_namespaces, {"hostIPC": True}, {}),
    (pss.privileged, container(privileged=True), container(privileged=False)),
    (
        pss.privileged,
        {"initContainers": [{"name": "init", "securityContext": {"privileged": True}}]},
        {"initContainers": [{"name": "init"}]},
    ),
    (
        pss.capabilities_baseline,
        container(capabilities={"add": ["NET_RAW"]}),
        container(capabilities={"add": ["CHOWN"]}),
    ),
    (
        pss.capabilities_baseline,
        container(capabilities={"add": ["SYS_ADMIN"]}),
        container(capabilities={"drop": ["ALL"]}),
    ),
    (
        pss.host_path,
        {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]},
        {"volumes": [{"name": "e", "emptyDir": {}}]},
    ),
    (
        pss.host_ports,
        {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]},
        {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 0}]}]},
    ),
    (
        pss.host_probes,
        {"containers": [{"name": "c", "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}]},
        {"containers": [{"name": "c", "livenessProbe": {"httpGet": {"port": 80}}}]},
    ),
    (
        pss.host_probes,
        {"containers": [{"name": "c", "lifecycle": {"preStop": {"tcpSocket": {"host": "x", "port": 1}}}}]},
        {"containers": [{"name": "c", "lifecycle": {"preStop": {"tcpSocket": {"host": "", "port": 1}}}}]},
    ),
    (
        pss.app_armor,
        container(appArmorProfile={"type": "Unconfined"}),
        container(appArmorProfile={"type": "Localhost"}),
    ),
    (pss.se_linux, container(seLinuxOptions={"type": "spc_t"}), container(seLinuxOptions={"type": "container_t"})),
    (
        pss.se_linux,
        {"securityContext": {"seLinuxOptions": {"user": "root"}}},
        {"securityContext": {"seLinuxOptions": {}}},
    ),
    (pss.proc_mount_baseline, container(procMount="Unmasked"), container(procMount="Default")),
    (pss.seccomp_baseline, {"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, {}),
    (pss.sysctls, {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}, {}),
    (pss.volume_types, {"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}, RESTRICTED_POD),
    (
        pss.volume_types,
        {"volumes": [{"name": "h", "hostPath": {"path": "/"}}]},
        {"volumes": [{"name": "p", "projected": {}}]},
    ),
    (pss.privilege_escalation, {"containers": [{"name": "c"}]}, RESTRICTED_POD),
    (pss.run_as_non_root, {"containers": [{"name": "c"}]}, RESTRICTED_POD),
    (
        pss.run_as_non_root,
        {**RESTRICTED_POD, "containers": [{"name": "c", "securityContext": {"runAsNonRoot": False}}]},
        container(runAsNonRoot=True),
    ),
    (pss.run_as_user, container(runAsUser=0), container(runAsUser=1000)),
    (pss.seccomp_restricted, {"containers": [{"name": "c"}]}, container(seccompProfile={"type": "RuntimeDefault"})),
    (pss.seccomp_restricted, container(seccompProfile={"type": "Unconfined"}), RESTRICTED_POD),
    (
        pss.capabilities_restricted,
        container(capabilities={"drop": ["NET_RAW"]}),
        container(capabilities={"drop": ["ALL"]}),
    ),
    (
        pss.capabilities_restricted,
        container(capabilities={"drop": ["ALL"], "add": ["CHOWN"]}),
        container(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}),
    ),
    (pss.proc_mount_restricted, {"hostUsers": False, **container(procMount="Unmasked")}, {"hostUsers": False}),
]


@pytest.mark.parametrize(("check", "refused", "admitted"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_control_refuses_and_admits(check, refused: dict, admitted: dict):
    assert check({}, refused), f"{check.__name__} admits {refused}"
    assert check({}, admitted) == [], f"{check.__name__} refuses {admitted}"


def test_apparmor_annotations_are_checked():
    key = pss.APPARMOR_ANNOTATION + "app"
    assert pss.app_armor({"annotations": {key: "unconfined"}}, {})
    assert pss.app_armor({"annotations": {key: "runtime/default"}}, {}) == []
    assert pss.app_armor({"annotations": {key: "localhost/mine"}}, {}) == []


def test_a_user_namespace_relaxes_what_the_admission_code_relaxes():
    root = {
        "hostUsers": False,
        "containers": [{"name": "c", "securityContext": {"runAsUser": 0, "procMount": "Unmasked"}}],
    }
    assert pss.run_as_non_root({}, root) == [] and pss.run_as_user({}, root) == []
    assert pss.proc_mount_baseline({}, root) == []
    assert pss.proc_mount_restricted({}, root)  # restricted keeps the /proc masks even then


def test_levels_are_cumulative_and_the_strictest_is_found():
    assert pss.violations({}, RESTRICTED_POD, "restricted") == []
    assert pss.strictest({}, RESTRICTED_POD) == "restricted"
    root = {"containers": [{"name": "c"}]}  # the default pod: baseline, not restricted
    assert pss.strictest({}, root) == "baseline"
    assert pss.strictest({}, {**root, "hostNetwork": True}) == "privileged"
    assert pss.violations({}, {**root, "hostNetwork": True}, "privileged") == []
    # Everything baseline refuses, restricted refuses too.
    for check, refused, _ in CASES:
        if check in pss.BASELINE:
            assert pss.violations({}, refused, "restricted"), check.__name__
