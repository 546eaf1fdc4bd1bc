"""`observability-fn check`: every rule over a directory of manifests, no kustomize needed."""

from __future__ import annotations

from krm_fn import config as config_model
from krm_fn import engine, report
from krm_fn.checks import CheckContext, run_rules
from krm_fn.files import read_items
from krm_fn.protocol import Outcome
from krm_fn.results import has_errors, sort_key


def run(paths: list[str]) -> Outcome:
    items, results = read_items(paths)
    configs = [i for i in items if i.kind == config_model.KIND]
    if not configs:
        results.extend(run_rules(CheckContext(None, [], items, sees_pipeline=True, check_all_kinds=True)))
    for config_item in configs:
        request = engine.Request(
            items, function_config=config_item.obj, config_location=config_item.location(), check_all_kinds=True
        )
        results.extend(engine.run(request).results)
    unique = sorted(set(results), key=sort_key)
    lines = report.lines(unique)
    errors = sum(r.is_error for r in unique)
    summary = f"{len(items)} objects checked, {errors} errors, {len(unique) - errors} other findings\n"
    return Outcome(lines, summary, 1 if has_errors(unique) else 0)
