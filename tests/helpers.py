"""Shared test helpers: the repository, the default config, and running the function."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from krm_fn import components, protocol, report
from krm_fn import config as config_model
from krm_fn import yaml as yamlio
from krm_fn.checks import CheckContext
from krm_fn.items import Item
from tests.tools import tool

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO / "function-config" / "observability.yaml"
UPSTREAM = REPO / "third_party" / "upstream"
# The console script of the venv that runs the tests: a real interpreter, never a pyenv shim.
FUNCTION = str(Path(sys.executable).parent / "observability-fn")


def default_config() -> dict:
    """A fresh copy of function-config/observability.yaml as data."""
    return copy.deepcopy(yaml.safe_load(DEFAULT_CONFIG_FILE.read_text()))


def protected_config() -> dict:
    """The default config as a careful user writes it: an access policy on every exposed UI, Prometheus
    and Loki on a local class, Pushover off (no phone: no heartbeat needed). The warnings of the bare
    default config (`ui-access-control`, `storage-nfs`, `heartbeat-missing`) stay out of tests about
    other findings."""
    config = default_config()
    config["spec"]["access"] = {"all": {"allowNetworks": ["192.168.0.0/16", "10.0.0.0/8"]}}
    config["spec"]["prometheus"] = {"storageClass": "local-path"}
    config["spec"]["loki"] = {"storageClass": "local-path"}
    config["spec"]["alerting"] = {"pushover": {"enabled": False}}
    return config


def load(config: dict) -> config_model.Config:
    """The Config model of a config given as data; fails the test on a config error."""
    cfg, errors = config_model.load(config)
    assert cfg is not None, [r.message for r in errors]
    return cfg


def config_with(**spec_overrides) -> dict:
    """The default config with some spec fields replaced (keys in the schema's camelCase)."""
    config = default_config()
    config["spec"].update(copy.deepcopy(spec_overrides))
    return config


def resource_list(items: list[dict], function_config: dict | None = None) -> bytes:
    """A ResourceList as kpt would send it (block YAML)."""
    doc: dict = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        doc["functionConfig"] = function_config
    return yaml.safe_dump(doc, sort_keys=False).encode()


def pyyaml_load_one(text: str) -> object:
    """What `yamlio.load_one` gives through PyYAML alone (its path when krm_fn/yaml/read.py is
    unsure): the reference for tests of what reads YAML without PyYAML."""
    from krm_fn.yaml import load

    docs = load.load_documents(text)
    if len(docs) > 1:
        raise yamlio.YamlError("expected one YAML document, found several", docs[1].line)
    return docs[0].data if docs else None


def run_krm(items: list[dict], function_config: dict | None = None) -> tuple[dict, protocol.Outcome]:
    """Run the function in-process on a ResourceList; (parsed output, outcome)."""
    outcome = protocol.run_krm(resource_list(items, function_config))
    return yamlio.load_one(outcome.stdout), outcome


def run_cli(*args: str, stdin: bytes = b"", env: dict | None = None, cwd: Path | None = None):
    """Run the installed console script as a subprocess (what kpt and kustomize do)."""
    full_env = {**os.environ, "OBSERVABILITY_FN_CACHE": "off", **(env or {})}
    return subprocess.run(
        [FUNCTION, *args], input=stdin, capture_output=True, env=full_env, cwd=cwd, timeout=120, check=False
    )


def generated_of_kind(output: dict, kind: str) -> list[dict]:
    return [i for i in output.get("items", []) if i.get("kind") == kind]


def items_from(files: dict[str, str]) -> list[Item]:
    """The objects of YAML files as `observability-fn check` reads them (file and line known)."""
    items = []
    for name, text in files.items():
        for raw in yamlio.split_documents(textwrap.dedent(text).lstrip("\n")):
            items.append(Item(raw=raw, file=name))
    return items


def kptfile(function: str, config_path: str = "observability.yaml") -> str:
    """A Kptfile whose pipeline runs one mutator (`exec: observability-fn` or `image: ...`) on the config."""
    return f"""\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: monitoring
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - {function}
      configPath: {config_path}
"""


# --- rules: a CheckContext over files, and Gateway API fixtures -------------------------------


def context(
    files: dict[str, str] | None = None, config: dict | bool | None = None, sees_pipeline: bool = True
) -> CheckContext:
    """A CheckContext: the config (default: function-config/observability.yaml; False: none), what it
    generates, and the files (name -> YAML text) as the user's objects."""
    loaded = None
    if config is not False:
        loaded, errors = config_model.load(config if config is not None else default_config())
        assert not errors, [e.message for e in errors]
    generated = [Item.from_data(obj) for obj in components.generate(loaded)] if loaded else []
    return CheckContext(loaded, generated, items_from(files or {}), sees_pipeline)


def rule_run(check, files=None, config=None, sees_pipeline=True) -> list:
    """The results of one rule function over `context(files, config, sees_pipeline)`."""
    return list(check(context(files, config, sees_pipeline)))


def lines(results: list) -> list[str]:
    """Results as sorted text lines."""
    return sorted(report.line(r) for r in results)


def write(directory: Path, files: dict[str, str]) -> Path:
    """Write dedented files into `directory`."""
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return directory


def summary(results) -> list[tuple[str, str, str | None, str]]:
    """(rule, severity, field, resource) of each result."""
    return [(r.rule, r.severity.value, r.field, str(r.resource)) for r in results]


def route_yaml(name: str, hostnames: list[str], namespace: str = "monitoring") -> str:
    """An HTTPRoute on Gateway traefik/traefik-gateway with these hostnames."""
    hosts = "".join(f"\n  - {json.dumps(h)}" for h in hostnames)  # double-quoted, as users write them
    body = f"""
parentRefs:
  - name: traefik-gateway
    namespace: traefik
hostnames:{hosts}
rules:
  - backendRefs:
      - name: {name}
        port: 8080
"""
    return user_route(name, body, namespace)


def user_route(name: str, body: str, namespace: str = "monitoring") -> str:
    """An HTTPRoute with `body` (YAML text) as its spec."""
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
  namespace: {namespace}
spec:
{textwrap.indent(textwrap.dedent(body).strip(), "  ")}
"""


GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: traefik-gateway
  namespace: traefik
spec:
  gatewayClassName: traefik
  listeners:
    - name: web
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: All
    - name: websecure
      port: 443
      protocol: HTTPS
      hostname: "*.catinthehack.ca"
      allowedRoutes:
        namespaces:
          from: All
"""


# --- real tools: run one, and the generated Prometheus rule groups through promtool --------------


def run_tool(*argv: str) -> subprocess.CompletedProcess:
    """Run a real tool, capturing text output; never raises on a non-zero exit."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


def rule_groups(config: dict | None = None) -> dict[str, dict]:
    """kube-prometheus-stack's `additionalPrometheusRulesMap` (default config unless given): key -> rule file."""
    objects = components.generate(load(config or default_config()))
    (kps,) = [o for o in objects if o["kind"] == "HelmRelease" and o["metadata"]["name"] == "kube-prometheus-stack"]
    return kps["spec"]["values"]["additionalPrometheusRulesMap"]


def promtool_test(
    tmp_path: Path, key: str, unit_tests: dict, config: dict | None = None
) -> subprocess.CompletedProcess:
    """`promtool test rules` of the rule file `key` against `unit_tests` (promtool's test-file format)."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule_groups(config)[key], sort_keys=False))
    tests_file = tmp_path / "tests.yaml"
    tests_file.write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], **unit_tests}, sort_keys=False))
    return run_tool(tool("promtool"), "test", "rules", str(tests_file))


def series(metric: str, namespace: str = "monitoring", **labels: str) -> str:
    """A series selector for promtool input, e.g. series("up", pod="x") -> up{namespace="monitoring", pod="x"}."""
    inner = ", ".join(f'{k}="{v}"' for k, v in {"namespace": namespace, **labels}.items())
    return f"{metric}{{{inner}}}"


def alert_case(input_series: list[tuple[str, str]], alertname: str, quiet_at: str, fires_at: str, alerts: list) -> dict:
    """A promtool unit test: `alertname` quiet at `quiet_at`, firing exactly `alerts` at `fires_at`."""
    return {
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in input_series],
                "alert_rule_test": [
                    {"eval_time": quiet_at, "alertname": alertname, "exp_alerts": []},
                    {"eval_time": fires_at, "alertname": alertname, "exp_alerts": alerts},
                ],
            }
        ],
    }


def expected_alert(labels: dict, summary: str, description: str, severity: str = "warning") -> dict:
    """One alert promtool must see, with its labels and annotations."""
    return {
        "exp_labels": {"severity": severity, **labels},
        "exp_annotations": {"summary": summary, "description": description},
    }


# --- comparing what the consumers produce --------------------------------------------------------


def objects(text: str) -> list[dict]:
    """The objects of a multi-document YAML text (a build's output), read as the function reads them."""
    return [doc.data for doc in yamlio.load_documents(text)]


def canonical(objects: list[dict]) -> list[str]:
    """Order-independent form of a list of objects (key order inside each object ignored too)."""
    return sorted(json.dumps(obj, sort_keys=True) for obj in objects)


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (relative path -> bytes)."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (tests bind only to loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kustomize_build(root: Path) -> subprocess.CompletedProcess:
    """`kustomize build` with exec KRM functions allowed, as the README runs the function."""
    argv = [tool("kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", str(root)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def findings(stderr: str) -> list[str]:
    """The function's error and warning lines in a consumer's stderr."""
    return [line for line in stderr.splitlines() if " error [" in line or " warning [" in line]
