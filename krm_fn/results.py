"""Results: what every check and every parse or config error reports.

A Result becomes a KRM `results` entry (kpt shows them, kustomize ignores them) and a
one-line human message on stderr (krm_fn.report does every formatting). Messages never carry
secret values: a rule names the key that is wrong, never what it holds.
"""

from __future__ import annotations

from enum import StrEnum

from krm_fn.record import Record


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ResourceRef(Record):
    """Identifies a Kubernetes object in messages and in KRM results."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    def to_krm(self) -> dict:
        ref = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            ref["namespace"] = self.namespace
        return ref

    def __str__(self) -> str:
        name = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {name}"

    @classmethod
    def of(cls, obj: dict) -> ResourceRef:
        """The reference of a parsed object; tolerant of missing or odd fields."""
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        return cls(
            api_version=str(obj.get("apiVersion", "")),
            kind=str(obj.get("kind", "")),
            name=str(meta.get("name", "")),
            namespace=str(meta["namespace"]) if meta.get("namespace") else None,
        )


class Location(Record):
    """Where something is in the user's files: a path, and a 1-based line when known."""

    path: str | None = None
    line: int | None = None
    index: int | None = None  # document index inside a multi-document file

    def __str__(self) -> str:
        if not self.path:
            return "<stdin>" if self.line is None else f"<stdin>:{self.line}"
        return self.path if self.line is None else f"{self.path}:{self.line}"


class Result(Record):
    """One problem (or note) found by a rule."""

    rule: str
    severity: Severity
    message: str
    resource: ResourceRef | None = None
    field: str | None = None
    location: Location | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def sort_key(result: Result) -> tuple:
    """Deterministic order: by file, line, severity, rule, resource, field, message."""
    loc = result.location or Location()
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}[result.severity]
    res = result.resource
    return (
        loc.path or "",
        loc.line or 0,
        order,
        result.rule,
        (res.kind, res.namespace or "", res.name) if res else ("", "", ""),
        result.field or "",
        result.message,
    )


def has_errors(results: list[Result]) -> bool:
    return any(r.is_error for r in results)
