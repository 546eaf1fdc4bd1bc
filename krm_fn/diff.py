"""`observability-fn diff OLD NEW`: what changes in the cluster between two renders.

OLD and NEW are multi-document YAML files, typically two `render --through-helm` outputs (a branch
and its base), so a chart bump shows the objects it adds, removes and changes, not only a version
string in a HelmRelease. Objects are matched by identity: API group, kind, namespace and name (an
apiVersion bump of the same object is a change, not a remove and an add). Each changed object gets
a unified diff of its YAML with keys sorted, so a reordering is no change. A Secret's values are
never shown: each is replaced by `<secret>` or, where it differs, `<secret, changed>`.

The first lines say which HelmRelease changed chart release (from the `# HelmRelease ns/name:
chart@version from repository` comments `render --through-helm` writes), then one line per object
added (`+`), removed (`-`) or changed (`~`). Exit code 0 when nothing differs, 1 when something
does (as diff(1)), 2 when an input cannot be read.
"""

from __future__ import annotations

import difflib
import re

from krm_fn.protocol import Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:  # start-up budget: docs/startup.md
    from typing import Any

_RELEASE = re.compile(r"^# HelmRelease (\S+): (\S+)@(\S+)(?: from (\S+))?")
_OWNER = re.compile(r"^# HelmRelease (\S+)")
SECRET_FIELDS = ("data", "stringData")


class Rendered:
    """The objects of one render, by identity, with the HelmRelease each came from."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.owner: dict[tuple[str, str, str, str], str] = {}
        self.charts: dict[str, str] = {}  # HelmRelease ns/name -> chart@version


def identity(obj: dict) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): what stays the same when only the apiVersion's version moves."""
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return group, str(obj.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or "")


def label(key: tuple[str, str, str, str], obj: dict) -> str:
    _, kind, namespace, name = key
    return f"{obj.get('apiVersion', '')} {kind} {namespace + '/' if namespace else ''}{name}"


def parse(text: str, what: str) -> Rendered:
    """The objects of a multi-document YAML text; ValueError naming `what` when it does not parse."""
    import yaml  # start-up budget: docs/startup.md (only diff parses whole renders)

    out = Rendered()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for number, chunk in enumerate(re.split(r"^---(?=[ \t]|$)", text, flags=re.M), start=1):
        owner = None
        for line in chunk.splitlines():
            found = _RELEASE.match(line)
            if found:
                out.charts[found.group(1)] = f"{found.group(2)}@{found.group(3)}"
            found = _OWNER.match(line)
            if found and owner is None:
                owner = found.group(1).rstrip(":")
        try:
            obj = yaml.load(chunk, Loader=loader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (document {number}, line {mark.line + 1})" if mark else f" (document {number})"
            raise ValueError(f"{what}: not YAML{where}; give the output of `observability-fn render`") from None
        if not isinstance(obj, dict) or not obj.get("kind"):
            continue
        key = identity(obj)
        out.objects[key] = obj
        if owner:
            out.owner[key] = owner
    return out


def _redacted(obj: dict, base: dict | None) -> dict:
    """A copy of a Secret with every value replaced by `<secret>`, or `<secret, changed>` where it
    differs from the same key in `base` (the old object; None for the old object itself)."""
    if obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for field in SECRET_FIELDS:
        values = obj.get(field)
        if not isinstance(values, dict):
            continue
        theirs = base.get(field) if base is not None and isinstance(base.get(field), dict) else None
        out[field] = {
            key: "<secret, changed>" if theirs is not None and key in theirs and theirs[key] != value else "<secret>"
            for key, value in values.items()
        }
    return out


def _yaml(obj: Any) -> list[str]:
    import yaml  # start-up budget: docs/startup.md (only diff dumps objects)

    text = yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, width=120, allow_unicode=True)
    return text.splitlines(keepends=True)


def compare(old: Rendered, new: Rendered) -> tuple[list[str], list[str]]:
    """(summary lines, unified diff lines) from OLD to NEW."""
    summary: list[str] = []
    details: list[str] = []
    for release in sorted(set(old.charts) | set(new.charts)):
        before, after = old.charts.get(release), new.charts.get(release)
        if before != after:
            summary.append(f"HelmRelease {release}: {before or '(none)'} -> {after or '(none)'}")
    for key in sorted(set(old.objects) | set(new.objects)):
        before, after = old.objects.get(key), new.objects.get(key)
        owner = new.owner.get(key) or old.owner.get(key)
        suffix = f" (HelmRelease {owner})" if owner else ""
        if before is None:
            summary.append(f"+ {label(key, after)}: added{suffix}")
            continue
        if after is None:
            summary.append(f"- {label(key, before)}: removed{suffix}")
            continue
        if before == after:
            continue
        a, b = _yaml(_redacted(before, None)), _yaml(_redacted(after, before))
        lines = list(difflib.unified_diff(a, b, f"old/{label(key, before)}", f"new/{label(key, after)}", n=2))
        added = sum(1 for line in lines[2:] if line.startswith("+"))
        removed = sum(1 for line in lines[2:] if line.startswith("-"))
        summary.append(f"~ {label(key, after)}: changed (+{added} -{removed}){suffix}")
        details += [line if line.endswith("\n") else line + "\n" for line in lines]
    return summary, details


def markdown(summary: list[str], details: list[str]) -> str:
    """A pull-request comment: the summary as a list, the diff in a collapsed block."""
    if not summary:
        return "No change in the rendered cluster objects.\n"
    out = ["### What changes in the cluster", ""]
    out += [f"- `{line}`" for line in summary]
    if details:
        out += ["", "<details><summary>Diff of the changed objects</summary>", "", "```diff"]
        out += ["".join(details).rstrip("\n").replace("```", "`\u200b``"), "```", "", "</details>"]
    return "\n".join(out) + "\n"


def run(old_path: str, new_path: str, output: str = "text") -> Outcome:
    """Compare two renders; text (summary, blank line, unified diff) or markdown."""
    try:
        rendered = []
        for what in (old_path, new_path):
            with open(what, encoding="utf-8") as handle:
                rendered.append(parse(handle.read(), what))
    except OSError as err:
        return Outcome("", f"observability-fn diff: cannot read {err.filename}: {err.strerror}\n", 2)
    except (UnicodeDecodeError, ValueError) as err:
        return Outcome("", f"observability-fn diff: {err}\n", 2)
    summary, details = compare(*rendered)
    if output == "markdown":
        text = markdown(summary, details)
    else:
        text = "".join(line + "\n" for line in summary) + ("\n" + "".join(details) if details else "")
    return Outcome(text, "", 1 if summary else 0)
