"""`observability-fn check`: every rule over a repository, read the way Flux and kustomize read it
(krm_fn.repo), reported through krm_fn.report. No kustomize needed."""

from __future__ import annotations

from krm_fn import config as config_model
from krm_fn import engine, report, suppress
from krm_fn.checks import CheckContext, run_rules
from krm_fn.items import Item
from krm_fn.protocol import Outcome
from krm_fn.repo import walk
from krm_fn.results import Location, Result, Severity, sort_key
from krm_fn.rules import PARSE


def run(
    paths: list[str],
    fmt: str = "text",
    strict: bool = False,
    allow_empty: bool = False,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    root: str | None = None,
) -> Outcome:
    repo = walk(paths, include, exclude, root)
    results = [(r, 1) for r in repo.results]
    suppressed: list[tuple[str, str]] = []
    objects = 0  # as built: a component's object in three builds counts three times
    for group in repo.groups:
        weights: dict[tuple, int] = {}  # (file, kind, namespace, name) -> builds of the group that emit it
        items = []
        for item in group.items:
            error = item.parse_error()
            if error is not None:
                location = item.location()
                parse = Result(PARSE, Severity.ERROR, error.message, location=Location(location.path, error.line))
                results.append((parse, getattr(item, "builds", 1)))
                continue
            items.append(item)
            builds = getattr(item, "builds", 1)
            objects += builds
            weight_key = (item.file, item.kind, item.namespace, item.name)
            weights[weight_key] = weights.get(weight_key, 0) + builds
        found, hidden = _check(items)
        results.extend((r, _weight(r, weights)) for r in found)
        suppressed.extend(hidden)
    unique = sorted(once_per_location(results), key=sort_key)
    summary = report.Summary(objects, repo.files, repo.builds, repo.flux, repo.skipped, suppressed)
    notes = []
    code = 1 if any(r.is_error or (strict and r.severity is Severity.WARNING) for r in unique) else 0
    if not objects:
        if allow_empty:
            notes.append("warning: nothing was checked (no Kubernetes objects found); --allow-empty accepts that")
        else:
            notes.append(
                "error: nothing was checked (no Kubernetes objects found below "
                f"{' '.join(paths)}); check the paths and --include/--exclude, or pass --allow-empty"
            )
            code = 1
    stdout, stderr = report.check_output(fmt, unique, summary, notes)
    return Outcome(stdout, stderr, code)


def _weight(found: Result, weights: dict[tuple, int]) -> int:
    """How many builds of a group emit the object a finding is about (1 when not known)."""
    ref, location = found.resource, found.location or Location()
    return weights.get((location.path, ref.kind, ref.namespace, ref.name), 1) if ref is not None else 1


def once_per_location(results: list[tuple[Result, int]]) -> list[Result]:
    """One finding per rule, file, line and field, however many builds (of one cluster or of
    several) include that line; how many do is said in the message."""
    merged: dict[tuple, tuple[Result, int]] = {}
    for found, weight in results:
        location = found.location or Location()
        if location.path is None:
            key: tuple = (found.rule, found.severity, found.message, found.field)
        else:
            key = (found.rule, location.path, location.line, found.field)
        if key in merged:
            first, count = merged[key]
            merged[key] = (min(first, found, key=sort_key), count + weight)
        else:
            merged[key] = (found, weight)
    out = []
    for found, count in merged.values():
        if count > 1 and found.location is not None and found.location.path is not None:
            found = Result(
                found.rule,
                found.severity,
                f"{found.message} ({count} builds include this)",
                found.resource,
                found.field,
                found.location,
            )
        out.append(found)
    return out


def _check(items: list[Item]) -> tuple[list[Result], list[tuple[str, str]]]:
    """The rules over one group, with the stack of each ObservabilityConfig in it."""
    configs = [i for i in items if i.kind == config_model.KIND]
    if not configs:
        results = list(run_rules(CheckContext(None, [], items, sees_pipeline=True, check_all_kinds=True)))
        return suppress.apply(results, items)
    results: list[Result] = []
    suppressed: list[tuple[str, str]] = []
    for config_item in configs:
        request = engine.Request(
            items, function_config=config_item.obj, config_location=config_item.location(), check_all_kinds=True
        )
        response = engine.run(request)
        results.extend(response.results)
        suppressed.extend(response.suppressed)
    return results, suppressed
