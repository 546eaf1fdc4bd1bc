"""What Flux's source-controller leaves out of a repository's artifact, as it decides it.

Facts (fluxcd/pkg sourceignore/sourceignore.go and its gitignore/pattern.go, a copy of go-git's;
source-controller's Storage.Archive and SourceIgnoreFilter):
- The patterns are every `.sourceignore` below the root, the root's first, then each
  subdirectory's in name order, depth first, each scoped to its directory; then the
  GitRepository's `spec.ignore`. When there are none, the defaults apply (VCS files, images and
  archives, CI configs, `**/.sops.yaml`, `**/.goreleaser.yml`, `**/.flux.yaml`); when there
  are any, only the VCS ones are added before them: a `.sourceignore` replaces the defaults.
- Every file is matched on its own (the archiver walks into ignored directories), by the last
  pattern that matches it: a `!file` re-includes a file below an ignored directory.
- A pattern without `/` matches any one component of the path (`docs/` a directory named docs
  at any depth, `*.md` any file or directory so named); a pattern with `/` matches from the
  start of its directory, component by component (`**` any number of them), and then also
  everything below what it matched. A trailing `/` matches directories only. `*`, `?` and
  `[...]` (`[^...]` negated) stay inside one component, as Go's filepath.Match.
"""

from __future__ import annotations

import os
import re

FILE = ".sourceignore"
VCS = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
DEFAULTS = (
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
)
_SKIP = {".git", "node_modules", ".venv", "__pycache__"}


def _component(glob: str) -> re.Pattern[str]:
    """Go's filepath.Match for one path component, as a regular expression."""
    out, i = "", 0
    while i < len(glob):
        char = glob[i]
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and i + 1 < len(glob):
            i += 1
            out += re.escape(glob[i])
        elif char == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            body = glob[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out += "[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]"
            i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out, re.S)


class Pattern:
    """One line of a .sourceignore, scoped to its directory (`domain`)."""

    def __init__(self, text: str, domain: tuple[str, ...] = ()):
        self.domain = domain
        self.inclusion = text.startswith("!")
        text = text[1:] if self.inclusion else text
        if not text.endswith("\\ "):
            text = text.rstrip(" ")
        self.dir_only = text.endswith("/")
        text = text[:-1] if self.dir_only else text
        self.is_glob = "/" in text
        self.parts = text.split("/")
        self._regexes = [None if p in ("", "**") else _component(p) for p in self.parts]
        # a text every path it matches contains: most paths are rejected by one `in` test
        literals = [run for part in self.parts for run in re.split(r"[*?\[\]\\]", part) if run]
        self.needle = max(literals, key=len) if literals and "[" not in text and "\\" not in text else ""

    def match(self, path: tuple[str, ...], is_dir: bool, joined: str = "") -> bool | None:
        """True: excluded, False: included again, None: no match (`joined`: the path with `/`)."""
        if joined and self.needle and self.needle not in joined:
            return None
        if len(path) <= len(self.domain) or path[: len(self.domain)] != self.domain:
            return None
        rest = path[len(self.domain) :]
        found = self._glob(rest, is_dir) if self.is_glob else self._name(rest, is_dir)
        if not found:
            return None
        return not self.inclusion

    def _name(self, path: tuple[str, ...], is_dir: bool) -> bool:
        regex = self._regexes[0]
        for i, name in enumerate(path):
            if regex is None or not regex.fullmatch(name):
                continue
            return not (self.dir_only and not is_dir and i == len(path) - 1)
        return False

    def _glob(self, path: tuple[str, ...], is_dir: bool) -> bool:
        matched, traverse = False, False
        for i, part in enumerate(self.parts):
            if part == "":
                traverse = False
                continue
            if part == "**":
                if i == len(self.parts) - 1:
                    break
                traverse = True
                continue
            if "**" in part or not path:
                return False
            regex = self._regexes[i]
            if traverse:
                traverse = False
                while path:
                    head, path = path[0], path[1:]
                    if regex.fullmatch(head):
                        matched = True
                        break
                    if not path:
                        matched = False
            else:
                if not regex.fullmatch(path[0]):
                    return False
                matched, path = True, path[1:]
        return not (matched and self.dir_only and not is_dir and not path) and matched


class Ignore:
    """The patterns of one source root, read from every .sourceignore below it."""

    def __init__(self, root: str, spec_ignore: str | None = None):
        self.root = root
        self.patterns: list[Pattern] = []
        self._decided: dict[str, bool] = {}
        if os.path.isdir(root):
            self._load(root, ())
        if spec_ignore:
            self.patterns.extend(Pattern(line) for line in _lines(spec_ignore))
        base = VCS if self.patterns else VCS + DEFAULTS
        self.patterns[:0] = [Pattern(p) for p in base]

    def _load(self, directory: str, domain: tuple[str, ...]) -> None:
        try:
            with open(os.path.join(directory, FILE), encoding="utf-8") as handle:
                self.patterns.extend(Pattern(line, domain) for line in _lines(handle.read()))
        except (OSError, UnicodeDecodeError):
            pass
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name not in _SKIP and entry.is_dir(follow_symlinks=False):
                self._load(entry.path, (*domain, entry.name))

    def ignored(self, path: str) -> bool:
        """Is this file left out of the artifact?"""
        if path not in self._decided:
            prefix = self.root.rstrip(os.sep) + os.sep
            if self.root in (".", "") and not os.path.isabs(path) and not path.startswith(".."):
                rel = path
            elif path.startswith(prefix):
                rel = path[len(prefix) :]
            else:
                rel = os.path.relpath(path, self.root)
            if rel.startswith(".."):
                self._decided[path] = False
            else:
                joined = rel.replace(os.sep, "/")
                self._decided[path] = self._match(tuple(joined.split("/")), os.path.isdir(path), joined)
        return self._decided[path]

    def _match(self, parts: tuple[str, ...], is_dir: bool, joined: str) -> bool:
        for pattern in reversed(self.patterns):
            found = pattern.match(parts, is_dir, joined)
            if found is not None:
                return found
        return False


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#") and line.strip()]
