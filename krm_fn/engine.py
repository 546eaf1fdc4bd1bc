"""One run of the function, whatever the consumer: find the config, generate, merge, check.

Input and output are lists of Items; the protocol layer turns bytes into Items and back.

    config ──► components.generate ──► merge (drop what we generated before, add the new)
                                           │
                     checks.run_rules ◄────┘ ──► results
"""

from __future__ import annotations

from krm_fn import components, rules, suppress
from krm_fn import config as config_model
from krm_fn import yaml as yamlio
from krm_fn.checks import CheckContext, run_rules
from krm_fn.items import INDEX_ANNOTATIONS, PATH_ANNOTATIONS, Item
from krm_fn.results import Location, Result, Severity, has_errors, sort_key

MODE_ANNOTATION = "observability.catinthehack.ca/mode"  # "validate": check only, change nothing
PARSE_RULE = rules.PARSE
CONFIG_RULE = rules.CONFIG
CONFLICT_RULE = rules.CONFLICT


# Plain classes rather than dataclasses, here and in the modules every run imports: `dataclasses`
# costs ~12 ms to import and each class ~1 ms to build (start-up budget: docs/startup.md).
class Request:
    def __init__(
        self,
        items: list[Item],
        function_config: object = None,
        config_location: Location | None = None,
        sees_pipeline: bool = True,
        add_paths: bool = False,
        check_all_kinds: bool = False,
    ):
        self.items = items
        self.function_config = function_config  # the KRM functionConfig, or the legacy plugin's config
        self.config_location = config_location
        self.sees_pipeline = sees_pipeline  # False when the consumer passes the config alone (kustomize generators)
        self.add_paths = add_paths  # give generated objects a config.kubernetes.io/path (kpt writes files by it)
        self.check_all_kinds = check_all_kinds  # `observability-fn check`: every object, not the stack's kinds


class Response:
    def __init__(
        self,
        items: list[Item],
        results: list[Result] | None = None,
        validate_only: bool = False,
        suppressed: list[tuple[str, str]] | None = None,
    ):
        self.items = items
        self.results = [] if results is None else results
        self.validate_only = validate_only
        self.suppressed = [] if suppressed is None else suppressed  # (rule, how) of each suppressed finding

    @property
    def failed(self) -> bool:
        return has_errors(self.results)


def stack_file_name(config_name: str) -> str:
    """Where kpt writes the generated stack, in `generated/` next to the config: `<config name>.yaml`."""
    return f"{config_name}.yaml"


def file_name(obj: dict) -> str:
    """Where a generated object lives in a directory `render --output` writes: `<ns>/<kind>-<name>.yaml`."""
    meta = obj["metadata"]
    name = f"{obj['kind'].lower()}-{meta['name']}.yaml"
    return f"{meta['namespace']}/{name}" if meta.get("namespace") else name


def run(request: Request) -> Response:
    """Generate the stack from the config in the request and check it with the pipeline."""
    results: list[Result] = []
    found = _find_config(request)
    if isinstance(found, Result):
        return Response(request.items, [found])
    config_obj, config_item, location = found

    validate_only = _annotations(config_obj).get(MODE_ANNOTATION) == "validate"
    locate = config_item.location if config_item is not None and config_item.file is not None else None
    config, errors = config_model.load(config_obj, location, locate)
    if config is None:
        return Response(request.items, errors, validate_only)
    results.extend(errors)  # warnings about the config (a chart release newer than the data)

    generated = [Item.from_data(obj) for obj in components.generate(config)]
    if request.add_paths:
        # One file for the whole stack: kpt spends ~0.8 ms on each file it writes (~13 ms of a 20-resource
        # package with one file per object; issue 11, bench/README.md).
        path = _generated_path(_config_path(config_item), stack_file_name(config.name))
        for index, item in enumerate(generated):
            annotations = item.data["metadata"].setdefault("annotations", {})
            annotations[PATH_ANNOTATIONS[0]] = path
            annotations[INDEX_ANNOTATIONS[0]] = str(index)  # the document's place in the file

    kept: list[Item] = []
    for item in request.items:
        if item is config_item:
            kept.append(item)
            continue
        if (
            item.mentions(components.MANAGED_BY)
            and item.parse_error() is None
            and components.is_generated(item.obj, config.name)
        ):
            continue  # ours from an earlier run: replaced below
        kept.append(item)

    pipeline = [item for item in kept if item is not config_item]
    results.extend(_conflicts(generated, pipeline, config))
    ctx = CheckContext(config, generated, pipeline, request.sees_pipeline, request.check_all_kinds)
    results.extend(run_rules(ctx))
    # Objects whose kind the header scan could not read, and objects a rule tried to read: the
    # rules skip those that do not parse (a duplicate key, a bad tag), so they are reported here
    # rather than passing unchecked. The others were never parsed and go out as they came in.
    for item in pipeline:
        if item.raw is not None and (item.raw.header is None or item.parsed):
            error = item.parse_error()
            if error is not None:
                results.append(_parse_result(item, error))
    annotated = pipeline if config_item is None else [config_item, *pipeline]
    results, suppressed = suppress.apply(results, annotated, config.rule_severities)
    results.sort(key=sort_key)

    if validate_only:
        return Response(request.items, results, validate_only=True, suppressed=suppressed)
    return Response(kept + generated, results, suppressed=suppressed)


def _find_config(request: Request) -> tuple[dict, Item | None, Location | None] | Result:
    """The ObservabilityConfig: the functionConfig, or else the one such object among the items."""
    fn_config = request.function_config
    candidates = [
        item
        for item in request.items
        if (item.kind == config_model.KIND or (item.raw is not None and item.raw.header is None))
        and item.parse_error() is None
        and config_model.is_config(item.obj)
    ]

    if config_model.is_config(fn_config):
        name = (fn_config.get("metadata") or {}).get("name")
        match = next((c for c in candidates if c.name == name), None)
        location = request.config_location or (match.location() if match else None)
        return fn_config, match, location
    if fn_config is not None and not _is_empty_configmap(fn_config):
        kind = fn_config.get("kind") if isinstance(fn_config, dict) else type(fn_config).__name__
        return Result(
            CONFIG_RULE,
            Severity.ERROR,
            f"functionConfig is a {kind}, not an ObservabilityConfig; pass the config with "
            "`kpt fn eval --fn-config FILE`, a Kptfile `configPath:`, or list it under generators/transformers",
            location=request.config_location,
        )
    if len(candidates) == 1:
        return candidates[0].obj, candidates[0], candidates[0].location()
    if not candidates:
        return Result(
            CONFIG_RULE,
            Severity.ERROR,
            f"no {config_model.KIND} found: pass one with `kpt fn eval --fn-config FILE` or a Kptfile "
            f"`configPath:` (apiVersion {config_model.API_VERSION})",
        )
    names = ", ".join(sorted(c.name or "?" for c in candidates))
    return Result(
        CONFIG_RULE,
        Severity.ERROR,
        f"{len(candidates)} {config_model.KIND}s found ({names}); pass the one to use as the functionConfig",
    )


def _is_empty_configmap(obj: object) -> bool:
    """kpt passes `ConfigMap function-input` with no data when no config is given."""
    return isinstance(obj, dict) and obj.get("kind") == "ConfigMap" and not obj.get("data")


def _annotations(obj: dict) -> dict:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    annotations = meta.get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def _config_path(config_item: Item | None) -> str:
    if config_item is None:
        return ""
    path = next((config_item.annotations().get(a) for a in PATH_ANNOTATIONS if config_item.annotations().get(a)), None)
    return str(path) if path else ""


def _generated_path(config_path: str, name: str) -> str:
    """`generated/<name>` next to the config's file: what `PurePosixPath(config_path).parent /
    "generated" / name` gives (empty and `.` segments dropped, a leading `/` or `//` kept), without
    importing pathlib (start-up budget: docs/startup.md)."""
    root = "/" if config_path.startswith("/") else ""
    if config_path.startswith("//") and not config_path.startswith("///"):
        root = "//"
    parts = [p for p in config_path.split("/") if p and p != "."][:-1]  # the parent directory
    parts += [p for p in f"generated/{name}".split("/") if p and p != "."]
    return root + "/".join(parts)


def _parse_result(item: Item, error: yamlio.YamlError) -> Result:
    location = item.location()
    line, message = error.line, error.message
    if item.file is None:
        if item.raw is not None and error.related is not None:  # "first defined at line N", of the stream too
            related = error.related - item.raw.line + 1
            message = message.replace(f"line {error.related}", f"line {related} of the object")
        if line is not None and item.raw is not None:
            message += f" (line {line - item.raw.line + 1} of the object)"
        line = None  # a line of the ResourceList stream would only mislead
    return Result(PARSE_RULE, Severity.ERROR, message, None, None, Location(location.path, line, location.index))


def _conflicts(generated: list[Item], pipeline: list[Item], config: config_model.Config) -> list[Result]:
    """User objects with the identity of a generated one: one would silently replace the other."""
    ours = {item.identity: item for item in generated}
    results = []
    for item in pipeline:
        if item.identity in ours:
            how = (
                "spec.namespaceMetadata: labels, annotations, podSecurity"
                if item.kind == "Namespace"
                else "the config or spec.values"
            )
            results.append(
                Result(
                    CONFLICT_RULE,
                    Severity.ERROR,
                    f"{item.ref} is both in your files and generated by observability-fn from "
                    f"{config.ref}; delete your copy (customise the generated one through {how})",
                    item.ref,
                    None,
                    item.location(),
                )
            )
    return results
