"""What every rule gets (CheckContext) and how rules are registered (the @rule decorator).

A rule is a function `CheckContext -> Iterable[Result]`, registered with its id, default
severity and a one-line summary (the README's rule table is built from these). A rule never
raises for bad input: it reports. A rule never puts a secret value in a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from krm_fn import yaml as yamlio
from krm_fn.config import Config
from krm_fn.items import Item
from krm_fn.results import Location, ResourceRef, Result, Severity
from krm_fn.rules import INTERNAL, RULES, Rule, declare


class CheckContext:
    """The config, the generated objects, and the user's objects in the pipeline."""

    def __init__(
        self,
        config: Config | None,
        generated: list[Item],
        pipeline: list[Item],
        sees_pipeline: bool,
        check_all_kinds: bool = False,
    ):
        self.config = config
        self.generated = generated
        self.pipeline = pipeline  # the user's objects the consumer showed us (never the config itself)
        self.sees_pipeline = sees_pipeline  # False when the consumer shows the config only (kustomize generators)
        self.check_all_kinds = check_all_kinds  # `observability-fn check`: every object, not only the stack's kinds
        self._kinds: dict[str, list[Item]] = {}
        self._by_kind: dict[str | None, list[Item]] | None = None

    def user_objects(self, kind: str) -> list[Item]:
        """The user's objects of one kind that parse (unparseable ones are reported elsewhere)."""
        if kind not in self._kinds:
            if self._by_kind is None:  # one pass over the pipeline, whatever number of kinds the rules ask for
                self._by_kind = {}
                for item in self.pipeline:
                    self._by_kind.setdefault(item.kind, []).append(item)
            self._kinds[kind] = [item for item in self._by_kind.get(kind, []) if item.parse_error() is None]
        return self._kinds[kind]

    def generated_objects(self, kind: str) -> list[Item]:
        return [item for item in self.generated if item.kind == kind]

    def all_objects(self, kind: str) -> list[Item]:
        """Generated and user objects of one kind, generated first."""
        return self.generated_objects(kind) + self.user_objects(kind)


def rule(rule_id: str, severity: Severity, summary: str):
    """Register a rule in the one registry (krm_fn.rules). `severity` is the usual one; a rule may
    report other severities."""

    def register(check: Callable[[CheckContext], Iterable[Result]]):
        declare(rule_id, severity, summary, check)
        return check

    return register


def result(
    rule_id: str,
    severity: Severity,
    message: str,
    item: Item | None = None,
    field_path: list[str | int] | None = None,
    location: Location | None = None,
) -> Result:
    """A Result about `item` (and one of its fields), located in the user's files when known."""
    ref: ResourceRef | None = item.ref if item is not None else None
    if location is None and item is not None:
        location = item.location(field_path)
    return Result(rule_id, severity, message, ref, dotted(field_path) if field_path else None, location)


def on_config(rule_id: str, severity: Severity, message: str, config: Config, field: str | None) -> Result:
    """A Result about a field of the ObservabilityConfig (dotted, e.g. `spec.secret.name`), located in its file."""
    return Result(rule_id, severity, message, config.ref, field, config.location)


def dotted(path: list[str | int]) -> str:
    """kpt's field path syntax: a.b[0].c, with keys that contain dots quoted as a.[b.c]."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in part or "[" in part:
            out += f".[{part}]" if out else f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def run_rules(ctx: CheckContext, rules: Iterable[Rule] | None = None) -> Iterator[Result]:
    """Every rule's results; a rule that crashes becomes one error, never a traceback."""
    for current in RULES if rules is None else rules:
        if current.check is None:
            continue  # a pipeline rule: reported by the engine, the reader or the walker
        try:
            yield from current.check(ctx)
        except yamlio.YamlError as err:
            yield Result(current.id, Severity.ERROR, f"could not read an object: {err}")
        except Exception as exc:  # a rule bug must not hide the other results
            # Only the exception type: its text could quote an input value.
            yield Result(
                INTERNAL,
                Severity.ERROR,
                f"rule {current.id} failed with {type(exc).__name__}; please report this with the input that caused it",
            )


_ABSENT = object()


def dig(tree: object, path: tuple | list, default: object = None) -> object:
    """The value at `path` in nested dicts and lists, or `default` when any step is missing."""
    for key in path:
        if (isinstance(tree, dict) and key in tree) or (
            isinstance(tree, list) and isinstance(key, int) and 0 <= key < len(tree)
        ):
            tree = tree[key]
        else:
            return default
    return tree


def has_path(tree: object, path: tuple | list) -> bool:
    """Does `path` exist in nested dicts (whatever its value, None included)?"""
    return dig(tree, path, _ABSENT) is not _ABSENT
