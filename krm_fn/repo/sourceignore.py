"""What Flux's source-controller leaves out of a repository's artifact: `.sourceignore` files
(gitignore syntax, each scoped to its directory, deeper files later so they win) after its
default patterns (fluxcd/pkg sourceignore: VCS files, images and archives, CI configs,
`**/.sops.yaml`, `**/.goreleaser.yml`, `**/.flux.yaml`). Files left out are not what Flux
builds, so `check` counts them instead of reading them.

The gitignore subset handled: `#` comments, `!` negation (the last matching pattern decides),
a trailing `/` for directories only, a `/` inside or at the start anchoring the pattern to its
directory (else it matches a name at any depth), `*`, `?`, `[...]` and `**`. A directory left
out leaves out everything below it.
"""

from __future__ import annotations

import os
import re

FILE = ".sourceignore"
DEFAULTS = (
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
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


def _glob(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out, i = out + "/.*", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out, i = out + "[" + ("^" + body[1:] if body.startswith("!") else body) + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out


class Pattern:
    def __init__(self, text: str, domain: tuple[str, ...] = ()):
        self.negate = text.startswith("!")
        text = text[1:] if self.negate else text
        self.dir_only = text.endswith("/")
        text = text.rstrip("/")
        self.anchored = "/" in text
        self.domain = domain
        self.regex = re.compile(_glob(text.lstrip("/")))

    def matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if parts[: len(self.domain)] != self.domain or len(parts) <= len(self.domain):
            return False
        if self.dir_only and not is_dir:
            return False
        rest = parts[len(self.domain) :]
        target = "/".join(rest) if self.anchored else rest[-1]
        return self.regex.fullmatch(target) is not None


class Ignore:
    """The patterns of one source root."""

    def __init__(self, root: str):
        self.root = root
        self.patterns = [Pattern(p) for p in DEFAULTS]
        self._read: set[str] = set()
        self._decided: dict[tuple[tuple[str, ...], bool], bool] = {}
        self.read(root)

    def read(self, directory: str) -> None:
        """Add the `.sourceignore` of `directory` (below the root), once."""
        directory = os.path.abspath(directory)
        if directory in self._read:
            return
        self._read.add(directory)
        rel = os.path.relpath(directory, self.root)
        if rel.startswith(".."):
            return
        domain = () if rel == "." else tuple(rel.replace(os.sep, "/").split("/"))
        try:
            with open(os.path.join(directory, FILE), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError):
            return
        for line in lines:
            line = line.rstrip()
            if line and not line.startswith("#"):
                self.patterns.append(Pattern(line, domain))
        self._decided.clear()

    def ignored(self, path: str) -> bool:
        """Is this file (or a directory above it, below the root) left out of the artifact?"""
        rel = os.path.relpath(path, self.root)
        if rel.startswith(".."):
            return False
        parts = tuple(rel.replace(os.sep, "/").split("/"))
        return any(self._decide(parts[:depth], is_dir=depth < len(parts)) for depth in range(1, len(parts) + 1))

    def _decide(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        key = (parts, is_dir)
        if key not in self._decided:  # directories are asked about again for every file below them
            self._decided[key] = self._match(parts, is_dir)
        return self._decided[key]

    def _match(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        decision = False
        for pattern in self.patterns:
            if pattern.matches(parts, is_dir):
                decision = not pattern.negate
        return decision
