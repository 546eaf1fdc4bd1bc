"""What one repository walk shares: each file read and split once, what was read as what, and
the findings about the layout itself (missing entries, patches of nothing, unreadable files).

The builds (krm_fn.repo.kustomization), the listing (krm_fn.repo.listing) and the walk
(krm_fn.repo.walker) all read files through one `Reader`; nothing here imports them.
"""

from __future__ import annotations

import fnmatch
import os

from krm_fn import rules
from krm_fn import yaml as yamlio
from krm_fn.protocol import decode
from krm_fn.repo.sourceignore import Ignore
from krm_fn.results import Location, Result, Severity

YAML_SUFFIXES = (".yaml", ".yml")
EXCLUDED = "files excluded by --include/--exclude"
IGNORED = "files Flux leaves out (.sourceignore and its defaults)"


class Reader:
    """The file cache, the exclusions and the findings of one walk."""

    def __init__(self, include: list[str], exclude: list[str], bases: list[str]):
        self.root = "."  # the source root Flux paths are relative to (set_root)
        self.include = include
        self.exclude = exclude
        self.bases = bases  # the paths given on the command line, for include/exclude globs
        self.visited: set[str] = set()  # files some build read (objects, data, patches, kustomizations)
        self.patch_files: set[str] = set()
        self.data_files: set[str] = set()
        self.results: list[Result] = []
        self.skipped: dict[str, int] = {}
        self.ignore: Ignore | None = None
        self._texts: dict[str, str | None] = {}
        self._documents: dict[str, list[yamlio.RawItem] | None] = {}
        self._errors: dict[str, Result] = {}
        self._kustomizations: dict[str, dict | None] = {}
        self._exclusions: dict[str, str | None] = {}

    def set_root(self, root: str, spec_ignore: str | None = None) -> None:
        """The source root, its .sourceignore files and the GitRepository's spec.ignore."""
        self.root = root
        self.ignore = Ignore(root, spec_ignore)
        self._exclusions.clear()

    # -- findings and counts --

    def problem(self, rule: str, message: str, location: Location, severity: Severity = Severity.ERROR) -> None:
        self.results.append(Result(rule, severity, message, location=location))

    def missing(self, kfile: str, key: str, entry: str, what: str) -> None:
        self.results.append(
            Result(
                rules.KUSTOMIZATION,
                Severity.ERROR,
                f"{key} entry {entry!r} is not {what}; kustomize fails on it (fix the path, or remove the entry)",
                location=Location(kfile, self.line_of(kfile, entry)),
            )
        )

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def data(self, path: str) -> None:
        """A generator's input: data, never manifests."""
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    self.data(os.path.join(root, name))
            return
        self.visited.add(path)
        self.data_files.add(path)

    def line_of(self, path: str, needle: str) -> int | None:
        """The first line of a file that mentions `needle` (a kustomization's entry), for messages."""
        text = self.text(path)
        if text is None:
            return None
        for number, line in enumerate(text.splitlines(), 1):
            if needle in line:
                return number
        return None

    # -- what is left out --

    def excluded(self, path: str) -> bool:
        return self.exclusion(path) is not None

    def exclusion(self, path: str) -> str | None:
        """Why a file is not read (--include/--exclude, or Flux leaves it out), or None."""
        if path not in self._exclusions:
            self._exclusions[path] = self._exclusion(path)
        return self._exclusions[path]

    def _exclusion(self, path: str) -> str | None:
        if self.include or self.exclude:
            return self._option(path) or self._ignored(path)
        return self._ignored(path)

    def _ignored(self, path: str) -> str | None:
        return IGNORED if self.ignore is not None and self.ignore.ignored(path) else None

    def _option(self, path: str) -> str | None:
        rel = self.relative(path)
        if any(fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path, pattern) for pattern in self.exclude):
            return EXCLUDED
        included = any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(path, p) for p in self.include)
        if self.include and os.path.isfile(path) and path.endswith(YAML_SUFFIXES) and not included:
            return EXCLUDED
        return None

    def relative(self, path: str) -> str:
        for base in self.bases:
            if path == base or path.startswith(base.rstrip("/") + "/"):
                return os.path.relpath(path, base).replace(os.sep, "/")
        return path.replace(os.sep, "/")

    # -- reading (each file once) --

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            try:
                with open(path, "rb") as handle:
                    self._texts[path] = decode(handle.read(), path)
            except (OSError, yamlio.YamlError):
                self._texts[path] = None
        return self._texts[path]

    def documents(self, path: str, report: bool = True) -> list[yamlio.RawItem] | None:
        """The documents of a file; None (and, with report, an error) when it cannot be split."""
        if path not in self._documents:
            try:
                with open(path, "rb") as handle:
                    text = decode(handle.read(), path)
                self._texts[path] = text
                self._documents[path] = yamlio.split_documents(text)
            except OSError as err:
                self._documents[path] = None
                self._errors[path] = Result(
                    rules.PARSE, Severity.ERROR, f"cannot read: {err.strerror}", location=Location(path)
                )
            except yamlio.YamlError as err:
                self._documents[path] = None
                self._errors[path] = Result(rules.PARSE, Severity.ERROR, err.message, location=Location(path, err.line))
        if report:
            self.report_read_error(path)
        return self._documents[path]

    def report_read_error(self, path: str) -> None:
        """The error of a file that cannot be split, once."""
        error = self._errors.pop(path, None)
        if error is not None:
            self.results.append(error)

    def kustomization(self, path: str) -> dict | None:
        if path not in self._kustomizations:
            raws = self.documents(path)
            data = None
            if raws:
                try:
                    data = yamlio.parse_raw_item(raws[0])
                except yamlio.YamlError as err:
                    self.problem(rules.PARSE, err.message, Location(path, err.line))
            self._kustomizations[path] = data if isinstance(data, dict) else None
        return self._kustomizations[path]
