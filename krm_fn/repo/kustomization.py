"""One kustomize build of a directory, as far as checking needs it.

What kustomize reads from a `kustomization.yaml` and what becomes of it here:
- `resources` (and the old `bases`, `crds`): files give their objects, directories are built
  in turn; remote URLs are not fetched (counted, and the build is marked incomplete).
- `components`: built into this build; their patches and `namespace:` apply to it as a whole.
- `patches`, `patchesStrategicMerge`, `patchesJson6902`: patches, never objects. Each must parse,
  and its target must be in the build (kustomize fails on a strategic-merge patch without a
  target that matches nothing; a `target:` selector matching nothing is a warning).
- `namespace:` overrides every namespaced object's namespace and renames Namespace objects, as
  kustomize's namespace transformer does (a component's `Namespace` named `_`).
- `configMapGenerator`/`secretGenerator` inputs (`files`, `envs`, `env`) are data, not manifests.
- `helmCharts` are not rendered (counted). `generators`/`transformers`/`validators` files are
  read as objects (an ObservabilityConfig is listed there); an entry that is itself a YAML
  document (kustomize takes inline transformer configs) is no file and is left alone.
- Flux's `spec.components` join `components:` after the kustomization's own (fluxcd/pkg
  kustomize generator appends them), so they apply before its `patches`.
Not applied: patches' content, `namePrefix`/`nameSuffix` (kustomize also rewrites references to
renamed objects; doing half of that would invent mismatches), labels, images, replacements.
"""

from __future__ import annotations

import os
import re

from krm_fn import rules
from krm_fn import yaml as yamlio
from krm_fn.placeholders import has_placeholder
from krm_fn.repo.objects import CLUSTER_SCOPED, Piece, head
from krm_fn.repo.reader import Reader
from krm_fn.results import Location, Severity

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# kustomize's (and Flux's) test for a remote resource
REMOTE_PREFIXES = ("git::", "gh:", "ssh://", "https://", "http://", "git@", "github.com:", "github.com/")


def kustomization_file(directory: str) -> str | None:
    for name in FILE_NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def is_remote(entry: str) -> bool:
    if ":" not in entry and not entry[:10].lower().startswith(("github.com", "git@")):
        return False  # every remote form has a colon but `github.com/...`
    lowered = entry.lower()
    return any(len(p) < len(entry) and lowered.startswith(p) for p in REMOTE_PREFIXES)


def strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def references(kustomization: dict, directory: str) -> list[str]:
    """The local directories a kustomization builds in (resources, bases, components)."""
    out = []
    for key in ("resources", "bases", "components"):
        for entry in strings(kustomization.get(key)):
            if not is_remote(entry):
                path = os.path.normpath(os.path.join(directory, entry))
                if os.path.isdir(path):
                    out.append(path)
    return out


class Build:
    """What one build emits: its pieces, and whether it is complete enough to judge patch targets."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self.complete = True  # False: a remote resource or a Helm chart adds objects we cannot see
        self.generated: set[tuple[str, str]] = set()  # (kind, name) a generator makes

    def merge(self, other: Build) -> None:
        self.pieces.extend(other.pieces)
        self.complete = self.complete and other.complete
        self.generated |= other.generated

    def has(self, kind: str | None, name: str | None, pattern: bool = False) -> bool:
        """Is there an object of `kind` (any kind when None) whose name is (or, with pattern, matches) `name`?"""
        if kind and name and (kind, name) in self.generated:
            return True
        matcher = _name_matcher(name, pattern)
        for piece in self.pieces:
            found = head(piece.raw)
            if kind and found.get("kind") != kind:
                continue
            if matcher(found.get("name")):
                return True
        return False

    def set_namespace(self, namespace: str) -> None:
        for piece in self.pieces:
            kind = head(piece.raw).get("kind")
            if kind not in CLUSTER_SCOPED or kind == "Namespace":
                piece.namespace = namespace


def _name_matcher(name: str | None, pattern: bool):
    if name is None:
        return lambda found: True
    if pattern:  # kustomize target names are anchored regular expressions
        try:
            compiled = re.compile(name)
        except re.error:
            return lambda found: found == name
        return lambda found: found is not None and compiled.fullmatch(found) is not None
    return lambda found: found == name


def build_dir(
    directory: str,
    walk: Reader,
    stack: tuple[str, ...] = (),
    into: Build | None = None,
    components: tuple[str, ...] = (),
) -> Build:
    """The build of `directory`'s kustomization (into `into` for a component); `components` are
    Flux's `spec.components`, added after the kustomization's own, before its patches."""
    build = into if into is not None else Build()
    kfile = kustomization_file(directory)
    if kfile is None:
        return build
    if directory in stack:
        walk.problem(rules.KUSTOMIZATION, f"{directory} includes itself (a cycle of resources)", Location(kfile))
        return build
    stack = (*stack, directory)
    walk.visited.add(kfile)
    kustomization = walk.kustomization(kfile)
    if kustomization is None:
        build.complete = False
        return build

    for key in ("resources", "bases", "crds"):
        for entry in strings(kustomization.get(key)):
            _resource(entry, directory, kfile, key, walk, build, stack)
    for key in ("generators", "transformers", "validators"):
        for entry in strings(kustomization.get(key)):
            if "\n" not in entry.strip():  # else an inline config, not a file (kustomize takes both)
                _resource(entry, directory, kfile, key, walk, build, stack)
    _generators(kustomization, directory, kfile, walk, build)
    charts = dicts(kustomization.get("helmCharts"))
    if charts:
        walk.skip("helmCharts entries (not rendered)", len(charts))
        build.complete = False
    for entry in [*strings(kustomization.get("components")), *components]:
        if is_remote(entry):
            walk.skip("remote resources (not fetched)")
            build.complete = False
            continue
        path = os.path.normpath(os.path.join(directory, entry))
        if kustomization_file(path) is None:
            if not walk.excluded(path):
                walk.missing(kfile, "components", entry, "a directory with a kustomization.yaml")
            continue
        build_dir(path, walk, stack, into=build)
    _patches(kustomization, directory, kfile, walk, build)
    for key in ("replacements", "configurations"):
        for entry in kustomization.get(key) or []:
            path = entry.get("path") if isinstance(entry, dict) else entry
            if isinstance(path, str):
                walk.data(os.path.normpath(os.path.join(directory, path)))
    namespace = kustomization.get("namespace")
    if isinstance(namespace, str) and namespace:
        build.set_namespace(namespace)
    return build


def _resource(entry: str, directory: str, kfile: str, key: str, walk: Reader, build: Build, stack: tuple) -> None:
    if is_remote(entry):
        walk.skip("remote resources (not fetched)")
        build.complete = False
        return
    path = os.path.normpath(os.path.join(directory, entry))
    if walk.excluded(path):
        build.complete = False
        return
    if os.path.isdir(path):
        if kustomization_file(path) is None:
            walk.missing(kfile, key, entry, "a directory with a kustomization.yaml (kustomize needs one)")
            return
        build.merge(build_dir(path, walk, stack))
    elif os.path.isfile(path):
        walk.visited.add(path)
        raws = walk.documents(path)
        build.pieces.extend(Piece(path, raw) for raw in raws or [])
        if not raws:  # unreadable, or empty: a placeholder filled in later (`flux bootstrap`'s gotk files)
            build.complete = False
    else:
        walk.missing(kfile, key, entry, "a file or directory")


def _generators(kustomization: dict, directory: str, kfile: str, walk: Reader, build: Build) -> None:
    for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for generator in dicts(kustomization.get(key)):
            if isinstance(generator.get("name"), str):
                build.generated.add((kind, generator["name"]))
            inputs = strings(generator.get("files")) + strings(generator.get("envs"))
            if isinstance(generator.get("env"), str):
                inputs.append(generator["env"])
            for entry in inputs:
                source = entry.split("=", 1)[1] if "=" in entry else entry
                if is_remote(source):
                    walk.skip("remote resources (not fetched)")
                    continue
                path = os.path.normpath(os.path.join(directory, source))
                if os.path.exists(path):
                    walk.data(path)
                elif not walk.excluded(path):
                    walk.missing(kfile, key, source, "a file")


# --- patches ---------------------------------------------------------------------------------------


def _patches(kustomization: dict, directory: str, kfile: str, walk: Reader, build: Build) -> None:
    for entry in kustomization.get("patchesStrategicMerge") or []:
        if isinstance(entry, str):
            _check_patch(entry, None, directory, kfile, "patchesStrategicMerge", walk, build)
    for entry in dicts(kustomization.get("patches")):
        source = entry.get("path") if isinstance(entry.get("path"), str) else None
        inline = entry.get("patch") if isinstance(entry.get("patch"), str) else None
        target = entry.get("target") if isinstance(entry.get("target"), dict) else None
        if source is not None:
            _check_patch(source, target, directory, kfile, "patches", walk, build)
        elif inline is not None:
            _check_patch(inline, target, directory, kfile, "patches", walk, build, inline=True)
    for entry in dicts(kustomization.get("patchesJson6902")):
        target = entry.get("target") if isinstance(entry.get("target"), dict) else {}
        if isinstance(entry.get("path"), str):
            _check_patch(entry["path"], target, directory, kfile, "patchesJson6902", walk, build)
        elif isinstance(entry.get("patch"), str):
            _check_patch(entry["patch"], target, directory, kfile, "patchesJson6902", walk, build, inline=True)


def _check_patch(
    source: str,
    target: dict | None,
    directory: str,
    kfile: str,
    key: str,
    walk: Reader,
    build: Build,
    inline: bool = False,
) -> None:
    """The patch parses, and what it patches is in the build."""
    if not inline and ("\n" in source or not source.strip()):
        inline = True  # patchesStrategicMerge also takes the patch itself as a string
    if inline:
        where, raws = kfile, _inline_documents(source, kfile, walk)
    else:
        where = os.path.normpath(os.path.join(directory, source))
        if walk.excluded(where):
            return
        if not os.path.isfile(where):
            walk.missing(kfile, key, source, "a patch file")
            return
        walk.visited.add(where)
        walk.patch_files.add(where)
        raws = walk.documents(where)
    if raws is None:
        return
    docs = []
    for raw in raws:
        try:
            docs.append((raw, yamlio.parse_raw_item(raw)))
        except yamlio.YamlError as err:
            walk.problem(rules.PARSE, f"patch: {err.message}", Location(where, None if inline else err.line))
            return
    if not build.complete:
        return  # objects from a remote base or a chart could be the target
    if target is not None:
        if target.get("labelSelector") or target.get("annotationSelector"):
            return  # matched by labels we do not evaluate
        kind, name = target.get("kind"), target.get("name")
        if (kind or name) and not build.has(kind, name, pattern=True):
            what = " ".join(str(p) for p in (kind, name) if p)
            walk.problem(
                rules.PATCH,
                f"the patch target {what} matches no object of the build of {directory}; the patch changes "
                f"nothing (check the target's kind and name){_substituted_later(build, kind)}",
                Location(kfile, _line_of(walk, kfile, source if not inline else str(name or kind))),
                severity=Severity.WARNING,
            )
        return
    for raw, data in docs:
        if not isinstance(data, dict):
            continue  # a JSON 6902 list needs a target; kustomize says so
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        kind, name = data.get("kind"), meta.get("name")
        if not isinstance(kind, str) or not isinstance(name, str):
            continue
        if not build.has(kind, name):
            walk.problem(
                rules.PATCH,
                f"strategic-merge patch of {kind} {name} matches no object of the build of {directory}; "
                "kustomize fails on it (check the name, or list the object's file under resources)"
                + _substituted_later(build, kind),
                Location(where, raw.content_line if not inline else _line_of(walk, kfile, name)),
            )


def _inline_documents(text: str, kfile: str, walk: Reader) -> list[yamlio.RawItem] | None:
    try:
        return yamlio.split_documents(text)
    except yamlio.YamlError as err:
        walk.problem(rules.PARSE, f"inline patch: {err.message}", Location(kfile))
        return None


def _line_of(walk: Reader, path: str, needle: str) -> int | None:
    return walk.line_of(path, needle)


def _substituted_later(build: Build, kind: str | None) -> str:
    """A hint when the build has objects of `kind` whose name Flux substitutes only after the build."""
    names = sorted(
        {
            str(head(piece.raw).get("name"))
            for piece in build.pieces
            if (not kind or head(piece.raw).get("kind") == kind) and has_placeholder(head(piece.raw).get("name") or "")
        }
    )
    if not names:
        return ""
    return (
        f"; the build has {kind or 'objects'} named {', '.join(names[:3])}: Flux substitutes variables after "
        "kustomize has applied the patches, so the target must name them as written"
    )
