"""Every way a Result is shown: the one-line text form, the KRM `results` entry, GitHub workflow
annotations, JSON, and the summary of `check`. Every entry point (the KRM function, the legacy
plugin, `render`, `check`) formats through here. Nothing here knows about Prometheus.
"""

from __future__ import annotations

import json
import os

from krm_fn.results import Location, Result, Severity
from krm_fn.rules import SUPPRESSION

FORMATS = ("text", "github", "json")
_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def line(result: Result) -> str:
    """`file:line: severity [rule] Kind ns/name field: message` on one line."""
    where = str(result.location) if result.location else "<input>"
    subject = _subject(result)
    text = " ".join(result.message.split())  # one line, whatever the message holds
    return f"{where}: {result.severity.value} [{result.rule}] {subject + ': ' if subject else ''}{text}"


def lines(results: list[Result]) -> str:
    """One line per result, errors first (stable otherwise): kpt shows only the first lines of a
    failing function's stderr, and warnings must not push the error that failed it out of view."""
    return "".join(line(r) + "\n" for r in sorted(results, key=lambda r: not r.is_error))


def krm(result: Result) -> dict:
    """The KRM function spec's result item."""
    out: dict = {"message": result.message, "severity": result.severity.value}
    if result.resource:
        out["resourceRef"] = result.resource.to_krm()
    if result.field:
        out["field"] = {"path": result.field}
    if result.location and result.location.path:
        file = {"path": result.location.path}
        if result.location.index is not None:
            file["index"] = result.location.index
        out["file"] = file
    out["tags"] = {"rule": result.rule}
    return out


def github(result: Result) -> str:
    """A GitHub Actions workflow command: `::error file=F,line=N,title=T::message`."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}[result.severity]
    props = []
    loc = result.location or Location()
    if loc.path:
        props.append(f"file={_escape_property(_from_workspace(loc.path))}")
        if loc.line is not None:
            props.append(f"line={loc.line}")
    subject = _subject(result)
    props.append(f"title={_escape_property(f'[{result.rule}] {subject}'.strip())}")
    return f"::{level} {','.join(props)}::{_escape_data(' '.join(result.message.split()))}"


def as_json(result: Result) -> dict:
    loc = result.location or Location()
    out: dict = {"rule": result.rule, "severity": result.severity.value, "message": result.message}
    out["file"] = loc.path
    out["line"] = loc.line
    out["resource"] = result.resource.to_krm() if result.resource else None
    out["field"] = result.field
    return out


def _from_workspace(path: str) -> str:
    """GitHub places an annotation by the file's path in the checkout: an absolute path below the
    working directory (where a workflow runs) is made relative to it."""
    if os.path.isabs(path):
        cwd = os.getcwd()
        if path.startswith(cwd.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, cwd)
    return path


def _subject(result: Result) -> str:
    return " ".join(s for s in (str(result.resource) if result.resource else "", result.field or "") if s)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# --- suppressions ------------------------------------------------------------------------------


def suppressed_text(suppressed: list[tuple[str, str]]) -> str:
    """`3 findings suppressed: route-overlap 2 (annotation), secret-plaintext 1 (spec.checks.rules)`."""
    counts: dict[tuple[str, str], int] = {}
    for key in suppressed:
        counts[key] = counts.get(key, 0) + 1
    parts = ", ".join(f"{rule} {n} ({how})" for (rule, how), n in sorted(counts.items()))
    return f"{len(suppressed)} finding{'s' if len(suppressed) != 1 else ''} suppressed: {parts}"


def suppression_result(suppressed: list[tuple[str, str]]) -> Result | None:
    """The info line every mode shows when something was suppressed."""
    if not suppressed:
        return None
    return Result(SUPPRESSION, Severity.INFO, suppressed_text(suppressed))


# --- `check` -----------------------------------------------------------------------------------


class Summary:
    """What `check` looked at, for the last lines of its report."""

    def __init__(
        self,
        objects: int,
        files: int,
        builds: int = 0,
        flux: int = 0,
        skipped: dict[str, int] | None = None,
        suppressed: list[tuple[str, str]] | None = None,
    ):
        self.objects = objects
        self.files = files
        self.builds = builds  # kustomize builds walked (roots and Flux Kustomization paths)
        self.flux = flux  # Flux Kustomizations followed
        self.skipped = skipped or {}  # reason -> count
        self.suppressed = suppressed or []

    def to_json(self, results: list[Result]) -> dict:
        return {
            "objects": self.objects,
            "files": self.files,
            "builds": self.builds,
            "fluxKustomizations": self.flux,
            "counts": _counts(results),
            "skipped": dict(sorted(self.skipped.items())),
            "suppressed": len(self.suppressed),
            "suppressedBy": _suppressed_by(self.suppressed),
        }


def _suppressed_by(suppressed: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """rule -> how (annotation, spec.checks.rules) -> count."""
    out: dict[str, dict[str, int]] = {}
    for rule, how in sorted(suppressed):
        out.setdefault(rule, {})[how] = out.get(rule, {}).get(how, 0) + 1
    return out


def _counts(results: list[Result]) -> dict[str, dict[str, int]]:
    """severity -> rule -> count."""
    out: dict[str, dict[str, int]] = {}
    for sev in _ORDER:
        per: dict[str, int] = {}
        for r in results:
            if r.severity is sev:
                per[r.rule] = per.get(r.rule, 0) + 1
        out[sev.value] = dict(sorted(per.items()))
    return out


def summary_text(summary: Summary, results: list[Result]) -> str:
    """The lines a person reads at the end of `check`: what was checked, counts, what was not."""
    out = [
        f"{_n(summary.objects, 'object')} checked in {_n(summary.files, 'file')} "
        f"({_n(summary.builds, 'kustomize build')}, {_n(summary.flux, 'Flux Kustomization')} followed)"
    ]
    counts = _counts(results)
    for sev, per in counts.items():
        total = sum(per.values())
        detail = f": {', '.join(f'{rule} {n}' for rule, n in per.items())}" if per else ""
        out.append(f"  {_n(total, sev) if sev != Severity.INFO.value else f'{total} info'}{detail}")
    if summary.skipped:
        total = sum(summary.skipped.values())
        detail = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.skipped.items()))
        out.append(f"  not checked: {total}: {detail}")
    if summary.suppressed:
        out.append(f"  {suppressed_text(summary.suppressed)}")
    return "".join(f"{text}\n" for text in out)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def check_output(fmt: str, results: list[Result], summary: Summary, notes: list[str]) -> tuple[str, str]:
    """(stdout, stderr) of `check` in one format; `notes` are extra summary lines (e.g. nothing checked)."""
    if fmt == "json":
        doc = {
            "version": 1,  # of this document's shape
            "results": [as_json(r) for r in results],
            "summary": summary.to_json(results),
            "notes": notes,
        }
        return json.dumps(doc, indent=2, sort_keys=False) + "\n", ""
    tail = summary_text(summary, results) + "".join(f"{n}\n" for n in notes)
    if fmt == "github":
        return "".join(github(r) + "\n" for r in results), tail
    return lines(results), tail
