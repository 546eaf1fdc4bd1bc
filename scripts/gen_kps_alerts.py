#!/usr/bin/env python3
"""Which alerts kube-prometheus-stack defines, per supported release, and which values turn each off.

    scripts/gen_kps_alerts.py [--mirrors DIR]   # DIR holds prometheus-community+helm-charts/repo

For every release in third_party/upstream/charts/releases/kube-prometheus-stack.yaml, reads the
chart's rule templates (`templates/prometheus/rules-1.14/*.yaml`) at the release's commit from a
fetched snapshot of prometheus-community/helm-charts and writes krm_fn/charts/
kube-prometheus-stack-alerts.json: facts, not the templates. For each run of releases with the same
rule templates, every alert's name, its default severity (`dig "<alert>" "severity" "<default>"
.Values.customRules`) and the values its `{{ if }}` blocks require (`.Values.defaultRules.rules.etcd`,
`.Values.kubeEtcd.enabled`...), each with its default in that release's values.yaml. Every alert is
also off when `defaultRules.disabled.<alert>` is true (the chart wraps each one in that test). A
condition this script cannot read leaves the alert without requirements: the silences rule then
takes the alert as defined, which can hide a problem but never invent one.

The snapshot is not in CI: the data is committed, and tests/test_silences.py compares it with what
real Helm renders where the charts are at hand.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
RELEASES = REPO / "third_party" / "upstream" / "charts" / "releases" / "kube-prometheus-stack.yaml"
OUT = REPO / "krm_fn" / "charts" / "kube-prometheus-stack-alerts.json"
CHART = "charts/kube-prometheus-stack"
RULES_DIR = f"{CHART}/templates/prometheus/rules-1.14"

_ACTION = re.compile(r"\{\{-?\s*(if|with|range|define|else|end)\b(.*?)-?\}\}")
_ALERT = re.compile(r"^\s*- alert:\s*([A-Za-z0-9_]+)\s*$")
_SEVERITY = re.compile(r'severity:\s*(?:\{\{\s*dig\s+"[^"]+"\s+"severity"\s+"([a-z]+)"|([a-z]+)\s*$)')
_VALUES_PATH = re.compile(r"^\.Values((?:\.[A-Za-z0-9_]+)+)$")
_DISABLED = re.compile(r"^\(?not \(\.Values\.defaultRules\.disabled\.[A-Za-z0-9_]+ \| default false\)\)?$")


def git(mirror: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, text=True, check=True).stdout


def _arguments(expr: str) -> list[str] | None:
    """The top-level arguments of `and a (b c) d`, or None when it is not an `and`."""
    expr = expr.strip()
    if not expr.startswith("and "):
        return None
    args, depth, current = [], 0, ""
    for ch in expr[4:]:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == " " and depth == 0:
            if current:
                args.append(current)
            current = ""
        else:
            current += ch
    if current:
        args.append(current)
    return args


def gates(expr: str) -> list[str] | None:
    """Values paths an `if` requires to be true; None when the condition is not a plain `and` of them."""
    expr = expr.strip()
    parts = _arguments(expr)
    if parts is None:
        parts = [expr]
    out = []
    for part in parts:
        part = part.strip()
        if part.startswith("(semverCompare"):
            continue  # the Kubernetes version: every supported one passes
        if _DISABLED.match(part):
            continue  # defaultRules.disabled.<alert>: applied to every alert
        match = _VALUES_PATH.match(part)
        if not match:
            return None
        out.append(match.group(1)[1:])
    return out


def parse(text: str) -> list[tuple[str, str, list[str] | None]]:
    """(alert, default severity, required values paths or None) of every alert in one rule template."""
    stack: list[list[str] | None] = []
    found: list[tuple[str, str, list[str] | None]] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        for action, rest in _ACTION.findall(line):
            if action == "if":
                stack.append(gates(rest))
            elif action in ("with", "range", "define"):
                stack.append([])
            elif action == "else" and stack:
                stack[-1] = None  # an else branch: its condition is the negation, not read here
            elif action == "end" and stack:
                stack.pop()
        match = _ALERT.match(line)
        if not match:
            continue
        name = match.group(1)
        severity = "none"
        for following in lines[index + 1 :]:
            if _ALERT.match(following):
                break
            sev = _SEVERITY.search(following)
            if sev:
                severity = sev.group(1) or sev.group(2)
                break
        required: list[str] | None = []
        for level in stack:
            if level is None:
                required = None
                break
            required += [g for g in level if g not in required]
        found.append((name, severity, required))
    return found


def default(values: dict, path: str) -> bool:
    node: object = values
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return bool(node)


def alerts_at(mirror: Path, commit: str) -> dict[str, list]:
    values = yaml.safe_load(git(mirror, "show", f"{commit}:{CHART}/values.yaml"))
    out: dict[str, list] = {}
    for name in sorted(git(mirror, "ls-tree", "--name-only", commit, f"{RULES_DIR}/").split()):
        for alert, severity, required in parse(git(mirror, "show", f"{commit}:{name}")):
            gated = None if required is None else [[path, default(values, path)] for path in required]
            out[alert] = [severity, gated]
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", default="/work/.mirror", help="directory of owner+name/repo snapshots")
    args = parser.parse_args(argv)
    mirror = Path(args.mirrors) / "prometheus-community+helm-charts" / "repo"
    releases = yaml.safe_load(RELEASES.read_text())["releases"]
    sets: list[dict] = []
    last_tree = None
    for release in releases:
        tree = git(mirror, "rev-parse", f"{release['commit']}:{RULES_DIR}").strip()
        values_tree = git(mirror, "rev-parse", f"{release['commit']}:{CHART}/values.yaml").strip()
        key = (tree, values_tree)
        alerts = alerts_at(mirror, release["commit"]) if key != last_tree else sets[-1]["alerts"]
        if sets and alerts == sets[-1]["alerts"]:
            sets[-1]["last"] = release["version"]
        else:
            sets.append({"first": release["version"], "last": release["version"], "alerts": alerts})
        last_tree = key
    doc = {
        "source": "prometheus-community/helm-charts charts/kube-prometheus-stack/templates/prometheus/rules-1.14 "
        "(each release's commit: third_party/upstream/charts/releases/kube-prometheus-stack.yaml)",
        "generated_by": "scripts/gen_kps_alerts.py",
        "sets": sets,
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    ungated = sorted({a for s in sets for a, (_, g) in s["alerts"].items() if g is None})
    print(f"{OUT.relative_to(REPO)}: {len(sets)} sets, {len(releases)} releases; conditions not read: {ungated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
