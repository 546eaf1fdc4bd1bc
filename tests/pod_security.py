"""The Pod Security Standards `baseline` and `restricted`, checked on a pod's metadata and spec.

The controls are the two tables of https://kubernetes.io/docs/concepts/security/pod-security-standards/
(Baseline; Restricted, which adds its rows to Baseline's). Their allowed values are taken as the
admission controller implements them: kubernetes/pod-security-admission, policy/check_*.go at
commit 8f84a87c7f617f64a4ddc1aea24aeeb7a2e07cb8, the newest version of each check (the one a
Namespace labelled `pod-security.kubernetes.io/enforce: <level>` without `enforce-version` gets
on a current cluster). Each check below names its file. A check returns what breaks it, one
line per problem, and nothing for a pod that passes.

Containers means init, regular and ephemeral containers (policy/visitor.go).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

LEVELS = ("privileged", "baseline", "restricted")

# check_capabilities_baseline.go: the container runtime's default set.
DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
# check_seLinuxOptions.go (1.31+).
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# check_sysctls.go (1.37+).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
        "net.ipv4.tcp_slow_start_after_idle",
        "net.ipv4.tcp_notsent_lowat",
    }
)
# check_restrictedVolumes.go: the inline volume sources `restricted` allows.
RESTRICTED_VOLUMES = frozenset(
    {"configMap", "downwardAPI", "emptyDir", "projected", "secret", "csi", "persistentVolumeClaim", "ephemeral"}
    | {"image"}
)
SECCOMP_ALLOWED = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def containers(spec: dict) -> Iterator[dict]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def _sc(obj: dict) -> dict:
    return obj.get("securityContext") or {}


def _setters(spec: dict) -> list[tuple[str, dict]]:
    """(who, securityContext) of the pod and of each container: where most controls may be set."""
    return [("pod", _sc(spec))] + [(f"container {c['name']}", _sc(c)) for c in containers(spec)]


def _user_namespace(spec: dict) -> bool:
    """hostUsers: false relaxes procMount (baseline), runAsNonRoot and runAsUser (restricted)."""
    return spec.get("hostUsers") is False


# --- baseline ----------------------------------------------------------------------------------


def host_process(meta: dict, spec: dict) -> list[str]:
    """HostProcess (check_windowsHostProcess.go)."""
    return [
        f"{who} sets windowsOptions.hostProcess"
        for who, sc in _setters(spec)
        if (sc.get("windowsOptions") or {}).get("hostProcess")
    ]


def host_namespaces(meta: dict, spec: dict) -> list[str]:
    """Host Namespaces (check_hostNamespaces.go)."""
    return [f"spec.{field}: true" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]


def privileged(meta: dict, spec: dict) -> list[str]:
    """Privileged Containers (check_privileged.go)."""
    return [f"container {c['name']} is privileged" for c in containers(spec) if _sc(c).get("privileged")]


def capabilities_baseline(meta: dict, spec: dict) -> list[str]:
    """Capabilities (check_capabilities_baseline.go): nothing beyond the default set."""
    out = []
    for c in containers(spec):
        extra = sorted(set((_sc(c).get("capabilities") or {}).get("add") or []) - DEFAULT_CAPABILITIES)
        if extra:
            out.append(f"container {c['name']} adds capabilities {extra}")
    return out


def host_path(meta: dict, spec: dict) -> list[str]:
    """HostPath Volumes (check_hostPathVolumes.go)."""
    volumes = spec.get("volumes") or []
    return [f"volume {v['name']} is a hostPath ({v['hostPath'].get('path')})" for v in volumes if "hostPath" in v]


def host_ports(meta: dict, spec: dict) -> list[str]:
    """Host Ports (check_hostPorts.go)."""
    return [
        f"container {c['name']} uses hostPort {p['hostPort']}"
        for c in containers(spec)
        for p in c.get("ports") or []
        if p.get("hostPort")
    ]


def host_probes(meta: dict, spec: dict) -> list[str]:
    """Host Probes / Lifecycle Hooks (check_hostProbesAndhostLifecycle.go): no `host` field."""
    out = []
    for c in containers(spec):
        lifecycle = c.get("lifecycle") or {}
        handlers = [(probe, c.get(probe) or {}) for probe in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [(f"lifecycle.{hook}", lifecycle.get(hook) or {}) for hook in ("postStart", "preStop")]
        for where, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                if (handler.get(action) or {}).get("host"):
                    out.append(f"container {c['name']} {where}.{action}.host is set")
    return out


def app_armor(meta: dict, spec: dict) -> list[str]:
    """AppArmor (check_appArmorProfile.go)."""
    out = []
    for who, sc in _setters(spec):
        kind = (sc.get("appArmorProfile") or {}).get("type")
        if kind is not None and kind not in ("RuntimeDefault", "Localhost"):
            out.append(f"{who} sets appArmorProfile.type {kind}")
    for key, value in (meta.get("annotations") or {}).items():
        allowed = not value or value == "runtime/default" or value.startswith("localhost/")
        if key.startswith(APPARMOR_ANNOTATION) and not allowed:
            out.append(f"annotation {key}={value}")
    return out


def se_linux(meta: dict, spec: dict) -> list[str]:
    """SELinux (check_seLinuxOptions.go)."""
    out = []
    for who, sc in _setters(spec):
        options = sc.get("seLinuxOptions")
        if options is None:
            continue
        if options.get("type", "") not in SELINUX_TYPES:
            out.append(f"{who} sets seLinuxOptions.type {options['type']}")
        for field in ("user", "role"):
            if options.get(field):
                out.append(f"{who} sets seLinuxOptions.{field}")
    return out


def proc_mount_baseline(meta: dict, spec: dict) -> list[str]:
    """/proc Mount Type (check_procMount_baseline.go, 1.35+): any value in a user namespace."""
    return [] if _user_namespace(spec) else proc_mount_restricted(meta, spec)


def seccomp_baseline(meta: dict, spec: dict) -> list[str]:
    """Seccomp (check_seccompProfile_baseline.go): when set, RuntimeDefault or Localhost."""
    out = []
    for who, sc in _setters(spec):
        kind = (sc.get("seccompProfile") or {}).get("type")
        if kind is not None and kind not in SECCOMP_ALLOWED:
            out.append(f"{who} sets seccompProfile.type {kind}")
    return out


def sysctls(meta: dict, spec: dict) -> list[str]:
    """Sysctls (check_sysctls.go)."""
    names = [s["name"] for s in _sc(spec).get("sysctls") or []]
    return [f"sysctl {name} is not in the safe set" for name in names if name not in SAFE_SYSCTLS]


# --- restricted --------------------------------------------------------------------------------


def volume_types(meta: dict, spec: dict) -> list[str]:
    """Volume Types (check_restrictedVolumes.go)."""
    out = []
    for volume in spec.get("volumes") or []:
        sources = [k for k in volume if k != "name"]
        if not set(sources) <= RESTRICTED_VOLUMES:
            out.append(f"volume {volume['name']} is a {sorted(set(sources) - RESTRICTED_VOLUMES)[0]}")
    return out


def privilege_escalation(meta: dict, spec: dict) -> list[str]:
    """Privilege Escalation (check_allowPrivilegeEscalation.go): explicitly false."""
    return [
        f"container {c['name']} does not set allowPrivilegeEscalation: false"
        for c in containers(spec)
        if _sc(c).get("allowPrivilegeEscalation") is not False
    ]


def run_as_non_root(meta: dict, spec: dict) -> list[str]:
    """Running as Non-root (check_runAsNonRoot.go, 1.35+): true on the pod or on every container."""
    if _user_namespace(spec):
        return []
    pod = _sc(spec).get("runAsNonRoot")
    out = ["pod sets runAsNonRoot: false"] if pod is False else []
    for c in containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is False:
            out.append(f"container {c['name']} sets runAsNonRoot: false")
        elif value is None and pod is not True:
            out.append(f"container {c['name']}: neither it nor the pod sets runAsNonRoot: true")
    return out


def run_as_user(meta: dict, spec: dict) -> list[str]:
    """Running as Non-root user (check_runAsUser.go, 1.35+): never runAsUser 0."""
    if _user_namespace(spec):
        return []
    who = _setters(spec)
    return [f"{name} sets runAsUser: 0" for name, sc in who if sc.get("runAsUser") == 0]


def seccomp_restricted(meta: dict, spec: dict) -> list[str]:
    """Seccomp (check_seccompProfile_restricted.go): RuntimeDefault or Localhost on the pod or every container."""
    if (spec.get("os") or {}).get("name") == "windows":
        return []
    out = seccomp_baseline(meta, spec)
    pod_set = (_sc(spec).get("seccompProfile") or {}).get("type") in SECCOMP_ALLOWED
    for c in containers(spec):
        if "seccompProfile" not in _sc(c) and not pod_set:
            out.append(f"container {c['name']}: neither it nor the pod sets seccompProfile.type {SECCOMP_ALLOWED}")
    return out


def capabilities_restricted(meta: dict, spec: dict) -> list[str]:
    """Capabilities (check_capabilities_restricted.go): drop ALL, add at most NET_BIND_SERVICE."""
    if (spec.get("os") or {}).get("name") == "windows":
        return []
    out = []
    for c in containers(spec):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"container {c['name']} does not drop ALL capabilities")
        extra = sorted(set(caps.get("add") or []) - {"NET_BIND_SERVICE"})
        if extra:
            out.append(f"container {c['name']} adds capabilities {extra}")
    return out


def proc_mount_restricted(meta: dict, spec: dict) -> list[str]:
    """/proc Mount Type (check_procMount_restricted.go, 1.35+): Default, also in a user namespace."""
    return [
        f"container {c['name']} sets procMount {_sc(c)['procMount']}"
        for c in containers(spec)
        if _sc(c).get("procMount") not in (None, "Default")
    ]


Check = Callable[[dict, dict], list[str]]
BASELINE: tuple[Check, ...] = (
    host_process,
    host_namespaces,
    privileged,
    capabilities_baseline,
    host_path,
    host_ports,
    host_probes,
    app_armor,
    se_linux,
    proc_mount_baseline,
    seccomp_baseline,
    sysctls,
)
# Restricted checks that tighten a baseline one replace it (OverrideCheckIDs in the admission code).
_REPLACED = (capabilities_baseline, host_path, seccomp_baseline, proc_mount_baseline)
RESTRICTED: tuple[Check, ...] = (
    *(c for c in BASELINE if c not in _REPLACED),
    volume_types,
    privilege_escalation,
    run_as_non_root,
    run_as_user,
    seccomp_restricted,
    capabilities_restricted,
    proc_mount_restricted,
)
CHECKS: dict[str, tuple[Check, ...]] = {"privileged": (), "baseline": BASELINE, "restricted": RESTRICTED}


def violations(meta: dict, spec: dict, level: str) -> list[str]:
    """What in a pod (its metadata and spec) the Pod Security Standard `level` refuses."""
    return [f"{check.__name__}: {problem}" for check in CHECKS[level] for problem in check(meta, spec)]


def strictest(meta: dict, spec: dict) -> str:
    """The strictest level a pod meets."""
    return next(level for level in reversed(LEVELS) if not violations(meta, spec, level))
