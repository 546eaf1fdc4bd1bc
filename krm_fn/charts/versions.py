"""Which chart release's knowledge applies to the versions a config asks for, and what to say about it."""

from __future__ import annotations

from collections.abc import Callable

from krm_fn.charts import CHARTS, PUBLISHERS, paths
from krm_fn.config_schema import dotted
from krm_fn.results import Location, ResourceRef, Result, Severity
from krm_fn.rules import CHART_VERSION


def chart_versions(
    instance: dict, ref: ResourceRef, locate: Callable[[list], Location | None]
) -> tuple[dict[str, str], list[Result]]:
    """For each chart, the known release whose values knowledge applies, and what to say about it.

    A known release is itself. A release newer than the newest known renders with the newest's
    knowledge and a warning (an error with spec.charts.strict). An older one, or a version between
    known releases that was never released (a typo, or a tag its publisher never published), is an
    error naming the nearest known ones.
    """
    spec = instance["spec"]["charts"]
    data: dict[str, str] = {}
    results: list[Result] = []
    for name in CHARTS:
        version = spec[name]["version"]
        known = paths.known_versions(name)
        field = ["spec", "charts", name, "version"]
        applies = paths.applicable_release(name, version)
        if applies == version:
            data[name] = version
            continue
        newest = known[-1]
        key = paths.version_key(version)
        from krm_fn.charts import former  # start-up budget: docs/startup.md (only a version not known)

        retired = former.release_message(name, version, newest)
        if retired:
            results.append(Result(CHART_VERSION, Severity.ERROR, retired, ref, dotted(field), locate(field)))
            continue
        if applies is not None:  # newer than the newest known
            data[name] = newest
            severity = Severity.ERROR if spec["strict"] else Severity.WARNING
            then = (
                "spec.charts.strict is set: use a known release, or unset strict to render it"
                if spec["strict"]
                else f"the values written and checked are those of {newest}; run `make charts` "
                "(scripts/update-charts.py) to teach the function the new release"
            )
            results.append(
                Result(
                    CHART_VERSION,
                    severity,
                    f"{name} {version} is newer than the newest release the function knows ({newest}); {then}",
                    ref,
                    dotted(field),
                    locate(field),
                )
            )
            continue
        nearest = sorted(known, key=lambda v: _distance(paths.version_key(v), key))[:3]
        tagged = paths.unpublished(name).get(version)
        if tagged:
            where = PUBLISHERS.get(tagged[1])
            places = f"{where.repository.url} or {where.oci}/{name}" if where else f"{tagged[1]}'s repository"
            why = (
                f"not a release: it was tagged upstream ({tagged[0]}) but never published to {places}, "
                "so Flux cannot pull it"
            )
        elif key < paths.version_key(known[0]):
            why = f"older than the oldest supported release ({known[0]})"
        else:
            why = "not a release of the chart"
        results.append(
            Result(
                CHART_VERSION,
                Severity.ERROR,
                f"{name} {version} is {why}; nearest known: {', '.join(sorted(nearest, key=paths.version_key))}",
                ref,
                dotted(field),
                locate(field),
            )
        )
    return data, results


def _distance(a: tuple, b: tuple) -> tuple:
    """How far apart two X.Y.Z versions are: majors first, then minors, then patches."""
    return tuple(abs(x - y) for x, y in zip(a, b, strict=False))
