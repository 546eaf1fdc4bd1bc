"""The two ways kustomize and kpt call a function, in and out. Nothing here knows about Prometheus.

* KRM function (`kpt fn eval/render`, kustomize `config.kubernetes.io/function`): a
  ResourceList on stdin, a ResourceList on stdout, results inside it, errors on stderr and a
  non-zero exit (kustomize ignores results; kpt passes an error result with exit 0).
* Legacy exec plugin (`kubectl kustomize --enable-alpha-plugins`): argv[1] is a file with the
  config; stdin is empty for a generator and every resource as multi-document YAML for a
  transformer or validator; stdout is the new set of resources (empty stdout from a
  transformer deletes everything; a validator must print nothing).

Facts behind each rule: shared/reference/consumers.md sections 1-3.
"""

from __future__ import annotations

import os

from krm_fn import engine, yamlio
from krm_fn.items import PATH_ANNOTATIONS, Item
from krm_fn.results import Location, Result, Severity, has_errors

MAX_INPUT_BYTES = int(float(os.environ.get("OBSERVABILITY_FN_MAX_INPUT_MB", "64")) * 1024 * 1024)
KUSTOMIZE_ID = "kustomize.config.k8s.io/id"
RESOURCE_LIST = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"}
INPUT_RULE = "input"


class Outcome:
    """What to write and how to exit."""

    def __init__(self, stdout: str, stderr: str, exit_code: int):
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code


def decode(data: bytes, what: str) -> str:
    """UTF-8 text of the input, or YamlError with the byte offset of the first bad byte."""
    if len(data) > MAX_INPUT_BYTES:
        raise yamlio.YamlError(
            f"{what} is {len(data) / 1048576:.0f} MiB, more than the {MAX_INPUT_BYTES // 1048576} MiB limit "
            "(raise it with OBSERVABILITY_FN_MAX_INPUT_MB)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise yamlio.YamlError(f"{what} is not UTF-8: invalid byte at offset {err.start}") from None


def stderr_lines(results: list[Result]) -> str:
    """One line per result, errors first: kpt shows only the first lines of a failing function's stderr."""
    return "".join(r.to_line() + "\n" for r in sorted(results, key=lambda r: not r.is_error))


# --- KRM ResourceList ------------------------------------------------------------------------


def run_krm(data: bytes) -> Outcome:
    """Handle one ResourceList from kpt or kustomize."""
    try:
        text = decode(data, "stdin")
        if not text.strip():
            raise yamlio.YamlError("stdin is empty; expected a ResourceList (apiVersion config.kubernetes.io/v1)")
        split = yamlio.split_resource_list(text)
    except yamlio.YamlError as err:
        return _failure(Result(INPUT_RULE, Severity.ERROR, str(err), location=Location(None, err.line)))
    if split.top.get("kind") != "ResourceList":
        found = split.top.get("kind") or "no kind"
        return _failure(
            Result(INPUT_RULE, Severity.ERROR, f"stdin is a {found}, not a ResourceList (config.kubernetes.io/v1)")
        )

    items = [Item(raw=raw) for raw in split.items]
    kustomize = any(KUSTOMIZE_ID in raw.text for raw in split.items)
    request = engine.Request(
        items,
        function_config=split.function_config,
        sees_pipeline=not _only_the_config(items, split.function_config),
        add_paths=not kustomize,
    )
    response = engine.run(request)
    out_items = [] if response.validate_only and (kustomize or not request.sees_pipeline) else response.items
    return Outcome(_resource_list(out_items, response.results), stderr_lines(response.results), _code(response))


def _only_the_config(items: list[Item], function_config: object) -> bool:
    """kustomize generators pass the config as the only item, with no file path on it."""
    if not items:
        return True
    if len(items) != 1 or items[0].kind != (function_config or {}).get("kind"):
        return False
    return not any(items[0].annotations().get(a) for a in PATH_ANNOTATIONS)


def _resource_list(items: list[Item], results: list[Result]) -> str:
    parts = [f"apiVersion: {RESOURCE_LIST['apiVersion']}\nkind: ResourceList\n"]
    if items:
        parts.append("items:\n")
        parts.extend(yamlio.as_entry(i.raw) if i.raw else yamlio.dump_sequence_entry(i.data) for i in items)
    else:
        parts.append("items: []\n")
    if results:
        parts.append(yamlio.dump_document({"results": [r.to_krm() for r in results]}))
    return "".join(parts)


def _failure(result: Result) -> Outcome:
    return Outcome(_resource_list([], [result]), stderr_lines([result]), 1)


def _code(response: engine.Response) -> int:
    return 1 if has_errors(response.results) else 0


# --- legacy exec plugin ----------------------------------------------------------------------


def run_legacy(config_path: str, data: bytes) -> Outcome:
    """Handle one call of kustomize's legacy exec plugin protocol."""
    try:
        config_text = os.environ.get("KUSTOMIZE_PLUGIN_CONFIG_STRING")
        if config_text is None:
            with open(config_path, "rb") as handle:
                config_text = decode(handle.read(), config_path)
        config_obj = yamlio.load_one(config_text)
        text = decode(data, "stdin")
        raws = yamlio.split_documents(text) if text.strip() else []
    except (yamlio.YamlError, OSError) as err:
        message = str(err) if isinstance(err, yamlio.YamlError) else f"cannot read {config_path}: {err.strerror}"
        result = Result(INPUT_RULE, Severity.ERROR, message)
        return Outcome("", stderr_lines([result]), 1)

    items = [Item(raw=raw) for raw in raws]
    root = os.environ.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT")
    location = Location(root or config_path)
    request = engine.Request(items, function_config=config_obj, config_location=location, sees_pipeline=bool(raws))
    response = engine.run(request)
    if response.validate_only:
        return Outcome("", stderr_lines(response.results), _code(response))
    docs = [yamlio.as_document(i.raw) if i.raw else yamlio.dump_document(i.data) for i in response.items]
    return Outcome("---\n".join(docs), stderr_lines(response.results), _code(response))
