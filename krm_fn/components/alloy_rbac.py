"""What each Alloy component needs from the Kubernetes API, and what a set of RBAC rules grants.

The generated Alloy gets exactly the rules of its pipeline's components (alloy.RBAC_RULES); the
`alloy-rbac` rule warns when a pipeline written through spec.values uses a component whose
permissions the rules do not grant. Needs come from the Alloy sources (grafana/alloy@helm-chart/1.11.1):
- discovery.kubernetes lists and watches the objects of its `role` (Prometheus' Kubernetes SD;
  endpoints and endpointslice roles also watch pods and services); namespace and node metadata
  only with `attach_metadata`, which this table does not grant.
- loki.source.kubernetes reads `pods/log` and gets the pod (kubetail/tailer.go: GetLogs, Pods().Get).
- the rest as commented in the chart's values.yaml (v:175-220).
"""

from __future__ import annotations

import re

# (apiGroup, resource, verb)
Permission = tuple[str, str, str]

_WATCH = ("list", "watch")
_READ = ("get", "list", "watch")


def _perms(group: str, resources: tuple[str, ...], verbs: tuple[str, ...]) -> frozenset[Permission]:
    return frozenset((group, resource, verb) for resource in resources for verb in verbs)


# discovery.kubernetes role -> what its informers list and watch.
DISCOVERY_ROLES: dict[str, frozenset[Permission]] = {
    "pod": _perms("", ("pods",), _WATCH),
    "node": _perms("", ("nodes",), _WATCH),
    "service": _perms("", ("services",), _WATCH),
    "endpoints": _perms("", ("endpoints", "pods", "services"), _WATCH),
    "endpointslice": _perms("discovery.k8s.io", ("endpointslices",), _WATCH) | _perms("", ("pods", "services"), _WATCH),
    "ingress": _perms("networking.k8s.io", ("ingresses",), _WATCH),
}

# Component name -> its needs (components that only transform or send data need none).
COMPONENTS: dict[str, frozenset[Permission]] = {
    "discovery.relabel": frozenset(),
    "loki.process": frozenset(),
    "loki.relabel": frozenset(),
    "loki.write": frozenset(),
    "loki.source.kubernetes": _perms("", ("pods",), ("get",)) | _perms("", ("pods/log",), ("get",)),
    "loki.source.podlogs": _perms("monitoring.grafana.com", ("podlogs",), _READ)
    | _perms("", ("pods", "namespaces"), _READ)
    | _perms("", ("pods/log",), ("get",)),
    "loki.source.kubernetes_events": _perms("", ("events",), _READ),
    "mimir.rules.kubernetes": _perms("monitoring.coreos.com", ("prometheusrules",), _READ),
    "mimir.alerts.kubernetes": _perms("monitoring.coreos.com", ("alertmanagerconfigs",), _READ),
    "prometheus.operator.podmonitors": _perms("monitoring.coreos.com", ("podmonitors",), _READ),
    "prometheus.operator.servicemonitors": _perms("monitoring.coreos.com", ("servicemonitors",), _READ),
    "prometheus.operator.probes": _perms("monitoring.coreos.com", ("probes",), _READ),
    "prometheus.operator.scrapeconfigs": _perms("monitoring.coreos.com", ("scrapeconfigs",), _READ),
    "remote.kubernetes.configmap": _perms("", ("configmaps",), _READ),
    "remote.kubernetes.secret": _perms("", ("secrets",), _READ),
    "otelcol.processor.k8sattributes": _perms("", ("pods", "namespaces"), _READ)
    | _perms("apps", ("replicasets",), _READ),
    "discovery.kubelet": _perms("", ("nodes/pods",), ("get",)),
}


class Component:
    """One component block: its name, label and the attributes at its top level (`role = "pod"`)."""

    def __init__(self, name: str, label: str, attributes: dict[str, str]):
        self.name = name
        self.label = label
        self.attributes = attributes

    def __repr__(self) -> str:
        return f'{self.name} "{self.label}"'


_HEADER = re.compile(r'([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)[ \t]+"([^"\\\n]*)"\s*\{')
_ATTRIBUTE = re.compile(r'^\s*([a-z_][a-z0-9_]*)\s*=\s*"([^"\\]*)"\s*,?\s*$', re.MULTILINE)


def _strip_comments(text: str) -> str:
    """The text with `//` and `/* */` comments blanked out; strings (URLs!) left alone."""
    out = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _top_level(body: str) -> str:
    """The part of a block body outside nested blocks and strings-with-braces."""
    out, depth, in_string, i = [], 0, False, 0
    while i < len(body):
        char = body[i]
        if in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
            if depth == 0:
                out.append(char)
        elif char == '"':
            in_string = True
            if depth == 0:
                out.append(char)
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            out.append(char)
        i += 1
    return "".join(out)


def _block_end(text: str, start: int) -> int:
    """Index just after the `}` closing the block whose `{` is at text[start - 1]."""
    depth, in_string, i = 1, False, start
    while i < len(text) and depth:
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        i += 1
    return i


def components(config_text: str) -> list[Component]:
    """The top-level component blocks of an Alloy configuration, in order."""
    text = _strip_comments(config_text)
    found = []
    position = 0
    while True:
        match = _HEADER.search(text, position)
        if match is None:
            return found
        end = _block_end(text, match.end())
        body = text[match.end() : end - 1]
        attributes = {key: value for key, value in _ATTRIBUTE.findall(_top_level(body))}
        found.append(Component(match.group(1), match.group(2), attributes))
        position = end


def needs(component: Component) -> frozenset[Permission] | None:
    """What one component needs; None for a component this table does not know."""
    if component.name == "discovery.kubernetes":
        return DISCOVERY_ROLES.get(component.attributes.get("role", ""))
    return COMPONENTS.get(component.name)


def granted(rules: list) -> set[Permission]:
    """Every (apiGroup, resource, verb) the rules grant, with `*` kept as a wildcard."""
    out: set[Permission] = set()
    for entry in rules:
        if not isinstance(entry, dict):
            continue
        groups, resources, verbs = (entry.get(key) or [] for key in ("apiGroups", "resources", "verbs"))
        if not all(isinstance(x, list) for x in (groups, resources, verbs)):
            continue
        out.update((str(g), str(r), str(v)) for g in groups for r in resources for v in verbs)
    return out


def allows(grants: set[Permission], need: Permission) -> bool:
    group, resource, verb = need
    return any(g in (group, "*") and r in (resource, "*") and v in (verb, "*") for g, r, v in grants)


def as_rule(missing: set[Permission]) -> str:
    """The missing permissions as RBAC rules, one flow-style line per (apiGroup, verbs) group."""
    by_group: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    per_resource: dict[tuple[str, str], list[str]] = {}
    for group, resource, verb in sorted(missing):
        per_resource.setdefault((group, resource), []).append(verb)
    for (group, resource), verbs in sorted(per_resource.items()):
        by_group.setdefault((group, tuple(verbs)), []).append(resource)
    return "; ".join(
        f'{{apiGroups: ["{group}"], resources: [{", ".join(resources)}], verbs: [{", ".join(verbs)}]}}'
        for (group, verbs), resources in sorted(by_group.items())
    )
