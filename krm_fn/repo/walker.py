"""The whole repository: every build Flux and kustomize would make, grouped by cluster, and the rest.

1. Every YAML file below the paths is listed (hidden and tool directories skipped, Helm chart
   folders — a `Chart.yaml` next to `templates/` — skipped and counted, `--include`/`--exclude`
   applied).
2. Each kustomization that no other kustomization builds, and that no Flux Kustomization names
   as its path, is a root build.
3. Every Flux Kustomization found in a build (after that build's own substitution) or in a file
   no build reads is built from its spec.path. A build and the Flux Kustomizations in it belong
   to one group: one cluster, checked together. Builds and files that no Flux Kustomization ties
   to a cluster form one more group.
4. What no build reads is checked if it is Kubernetes objects and counted if it is not (app
   configs with custom tags, helmfiles, templates).
"""

from __future__ import annotations

import fnmatch
import os
import re

from krm_fn import rules
from krm_fn import yaml as yamlio
from krm_fn.items import Item
from krm_fn.protocol import decode
from krm_fn.repo import flux
from krm_fn.repo.kustomization import FILE_NAMES, Build, build_dir, kustomization_file, missing_result, references
from krm_fn.repo.listing import YAML_SUFFIXES, files_below, is_chart, list_files, source_root, visible
from krm_fn.repo.objects import BuiltItem, Piece, head
from krm_fn.repo.sourceignore import Ignore
from krm_fn.results import Location, Result, Severity

NOT_OBJECTS = "files that are not Kubernetes objects (app configs, templates, helmfiles)"
EXCLUDED = "files excluded by --include/--exclude"
IGNORED = "files Flux leaves out (.sourceignore and its defaults)"
_LOOKS_KUBERNETES = re.compile(r"^apiVersion:.*\n(?:.*\n)*?kind:|^kind:.*\n(?:.*\n)*?apiVersion:", re.M)


class Group:
    """Objects that are checked together (one cluster's builds, or the rest of the repository)."""

    def __init__(self, name: str, items: list[Item]):
        self.name = name
        self.items = items


class Repository:
    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.results: list[Result] = []
        self.skipped: dict[str, int] = {}
        self.files = 0  # files whose objects were checked
        self.builds = 0
        self.flux = 0


class Walk:
    """State shared by the builds of one walk: file cache, what was read as what, findings."""

    def __init__(self, root: str, include: list[str], exclude: list[str], bases: list[str]):
        self.root = root  # the source root Flux paths are relative to
        self.include = include
        self.exclude = exclude
        self.bases = bases  # the directories given on the command line, for include/exclude globs
        self.visited: set[str] = set()  # files some build read (objects, data, patches, kustomizations)
        self.patch_files: set[str] = set()
        self.data_files: set[str] = set()
        self.results: list[Result] = []
        self.skipped: dict[str, int] = {}
        self._texts: dict[str, str | None] = {}
        self._documents: dict[str, list[yamlio.RawItem] | None] = {}
        self._errors: dict[str, Result] = {}
        self._kustomizations: dict[str, dict | None] = {}
        self.own_sources: set[str] = set()  # GitRepository names taken to be this repository
        self.ignore = Ignore(root)
        self._exclusions: dict[str, str | None] = {}
        for base in bases:  # the .sourceignore files between the root and each directory given
            directory = os.path.abspath(base if os.path.isdir(base) else os.path.dirname(base) or ".")
            chain = []
            while directory != os.path.dirname(directory) and not os.path.relpath(directory, root).startswith(".."):
                chain.append(directory)
                directory = os.path.dirname(directory)
            for found in reversed(chain):
                self.ignore.read(found)

    # -- findings and counts --

    def problem(self, rule: str, message: str, location: Location, severity: Severity = Severity.ERROR) -> None:
        self.results.append(Result(rule, severity, message, location=location))

    def missing(self, kfile: str, key: str, entry: str, what: str) -> None:
        line = None
        text = self.text(kfile)
        if text is not None:
            line = next((n for n, t in enumerate(text.splitlines(), 1) if entry in t), None)
        self.results.append(missing_result(kfile, key, entry, what, line))

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def data(self, path: str) -> None:
        """A generator's input: data, never manifests."""
        if os.path.isdir(path):
            for found in files_below(path):
                self.data(found)
            return
        self.visited.add(path)
        self.data_files.add(path)

    def excluded(self, path: str) -> bool:
        return self.exclusion(path) is not None

    def exclusion(self, path: str) -> str | None:
        """Why a file is not read (--include/--exclude, or Flux leaves it out), or None."""
        if path not in self._exclusions:
            self._exclusions[path] = self._exclusion(path)
        return self._exclusions[path]

    def _exclusion(self, path: str) -> str | None:
        rel = self.relative(path)
        if any(fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path, pattern) for pattern in self.exclude):
            return EXCLUDED
        included = any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(path, p) for p in self.include)
        if self.include and os.path.isfile(path) and path.endswith(YAML_SUFFIXES) and not included:
            return EXCLUDED
        if self.ignore.ignored(path):
            return IGNORED
        return None

    def roots(self) -> list[str]:
        """Where a Flux spec.path may start: the source root, then each directory given."""
        return [self.root, *(b for b in self.bases if os.path.isdir(b))]

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


class _Node:
    def __init__(self, name: str, flux: bool = False):
        self.name = name
        self.flux = flux
        self.items: list[Item] = []
        self.parent: _Node = self

    def find(self) -> _Node:
        node = self
        while node.parent is not node:
            node = node.parent
        return node


def _union(a: _Node, b: _Node) -> None:
    ra, rb = a.find(), b.find()
    if ra is not rb:
        rb.parent = ra
        ra.flux = ra.flux or rb.flux


def _items(build: Build, substitution: flux.Substitution | None = None) -> list[Item]:
    """The build's objects as Flux applies them: substituted, with the namespace (or name) the build gave."""
    items: list[Item] = []
    for piece in build.pieces:
        raw = flux.substituted(piece.raw, substitution)
        if head(piece.raw).get("kind") == "Namespace" and piece.namespace is not None:
            items.append(BuiltItem(raw, piece.file, name=piece.namespace))
        else:
            items.append(BuiltItem(raw, piece.file, namespace=piece.namespace))
    return items


def walk(paths: list[str], include: list[str] | None = None, exclude: list[str] | None = None) -> Repository:
    """Read the repository below `paths` the way Flux and kustomize would."""
    repo = Repository()
    bases = [os.path.normpath(p) for p in paths]
    root = source_root(paths)
    if paths and not os.path.isabs(paths[0]):
        root = os.path.relpath(root)  # shown paths keep the form they were given in
    w = Walk(os.path.normpath(root), include or [], exclude or [], bases)
    files = list_files(bases, w, repo)
    walker = _Walker(w, repo)
    deferred = walker.kustomize_roots(files)
    while True:
        walker.follow_flux()
        walker.flux_in_loose_files(files)  # may queue more
        if walker.queue:
            continue
        # roots that a Flux-generated kustomization would build, when no Flux Kustomization did
        deferred = [d for d in deferred if kustomization_file(d) not in w.visited]
        if not deferred:
            break
        walker.root(deferred.pop(0))
    walker.loose(files)
    walker.group()

    repo.files = len({item.file for group in repo.groups for item in group.items})
    repo.results.extend(w.results)
    for reason, count in w.skipped.items():
        repo.skipped[reason] = repo.skipped.get(reason, 0) + count
    data = len(w.data_files & set(files))
    if data:
        repo.skipped["generator inputs (data, not manifests)"] = data
    return repo


class _Walker:
    """The steps of `walk`, sharing the builds made so far and how they connect."""

    def __init__(self, w: Walk, repo: Repository):
        self.w = w
        self.repo = repo
        self.nodes: list[_Node] = []
        self.queue: list[tuple[Item, _Node]] = []  # Flux Kustomizations found, and the build they are in
        self.built: dict[tuple, _Node] = {}
        self.loose_nodes: dict[str, _Node] = {}  # directory -> files no build read

    def kustomize_roots(self, files: list[str]) -> list[str]:
        """Build each kustomization that no kustomization builds and no Flux Kustomization names; the
        directories a Flux-generated kustomization would build are returned for later instead."""
        w = self.w
        kfiles = [f for f in files if os.path.basename(f) in FILE_NAMES]
        referenced: set[str] = set()
        for kfile in kfiles:
            kustomization = w.kustomization(kfile)
            if kustomization is not None:
                referenced.update(references(kustomization, os.path.dirname(kfile) or "."))
        written = [flux.FluxKustomization(item) for item in _flux_objects(files, w, set(kfiles))]
        w.own_sources = _own_sources(written)
        flux_paths = {
            os.path.normpath(os.path.join(base, ks.path)) for ks in written if _own(ks, w) for base in w.roots()
        }
        generated: set[str] = set()
        for path in flux_paths:
            if os.path.isdir(path) and kustomization_file(path) is None:
                generated.update(_generated_references(path))
        deferred = []
        for kfile in kfiles:
            directory = os.path.dirname(kfile) or "."
            if directory in referenced or directory in flux_paths or kfile in w.visited:
                continue
            if directory in generated:
                deferred.append(directory)
                continue
            self.root(directory)
        return deferred

    def root(self, directory: str) -> None:
        node = _Node(f"kustomize:{directory}")
        node.items = _items(build_dir(directory, self.w))
        self.repo.builds += 1
        self.nodes.append(node)
        self.queue.extend((item, node) for item in node.items if _flux_candidate(item))

    def follow_flux(self) -> None:
        """Build every queued Flux Kustomization once per cluster, and those its build holds."""
        while self.queue:
            item, parent = self.queue.pop(0)
            if not _is_flux(item):
                continue
            ks = flux.FluxKustomization(item)
            parent.find().flux = True
            key = (ks.key, id(parent.find()))  # per cluster: the same path in two clusters is built twice
            if key in self.built:
                _union(parent, self.built[key])
                continue
            node = self.built[key] = _Node(f"flux:{item.file}:{item.name}", flux=True)
            _union(parent, node)
            self.nodes.append(node)
            build = _flux_build(ks, self.w)
            if build is None:
                continue
            self.repo.flux += 1
            self.repo.builds += 1
            node.items = _items(build, ks.substitution)
            self.queue.extend((found, node) for found in node.items if _flux_candidate(found))

    def flux_in_loose_files(self, files: list[str]) -> None:
        """Flux Kustomizations in files no build read (clusters/<name>/*.yaml with no kustomization).

        Only the shallowest directory holding any is taken per call: what its Kustomizations build
        (the apps' own ks.yaml files, typically) is then no longer loose. The files of one
        directory go together, as Flux's generated kustomization would take them."""
        found: dict[str, list[tuple[str, list[Item], list[Item]]]] = {}
        for path in files:
            if path in self.w.visited:
                continue
            raws = self.w.documents(path, report=False)
            if not raws or not any(flux.GROUP in raw.text for raw in raws):
                continue
            candidates: list[Item] = [BuiltItem(raw, path) for raw in raws]
            kustomizations = [i for i in candidates if _flux_candidate(i) and _is_flux(i)]
            if kustomizations:
                found.setdefault(os.path.dirname(path), []).append((path, candidates, kustomizations))
        if not found:
            return
        directory = min(found, key=lambda d: (d.count(os.sep), d))
        # What Flux builds from a directory with no kustomization: everything below it
        node = self._loose_node(directory)
        node.items.extend(_items(_generated(directory, self.w)))
        self.repo.builds += 1
        self.queue.extend((item, node) for item in node.items if _flux_candidate(item))

    def loose(self, files: list[str]) -> None:
        for item in _loose(files, self.w):
            self._loose_node(os.path.dirname(item.file or "")).items.append(item)

    def _loose_node(self, directory: str) -> _Node:
        return self.loose_nodes.setdefault(directory, _Node(f"files:{directory}"))

    def group(self) -> None:
        """One group per cluster Flux ties together; everything else in one more."""
        groups: dict[int, tuple[_Node, list[Item]]] = {}
        rest: list[Item] = []
        for node in [*self.nodes, *self.loose_nodes.values()]:
            root = node.find()
            if root.flux:
                groups.setdefault(id(root), (root, []))[1].extend(node.items)
            else:
                rest.extend(node.items)
        for root, items in groups.values():
            self.repo.groups.append(Group(root.name, _unique(items)))
        if rest:
            self.repo.groups.append(Group("the rest", _unique(rest)))


def _is_flux(item: Item) -> bool:
    return item.parse_error() is None and flux.is_flux_kustomization(item)


def _flux_candidate(item: Item) -> bool:
    return item.raw is not None and flux.GROUP in item.raw.text


def _flux_objects(files: list[str], w: Walk, kfiles: set[str]) -> list[Item]:
    """Every Flux Kustomization in the files, as written (for the paths kustomize roots must not claim)."""
    out = []
    for path in files:
        if path in kfiles:
            continue
        text = w.text(path)
        if text is None or flux.GROUP not in text:
            continue
        for raw in w.documents(path, report=False) or []:
            item = Item(raw=raw, file=path)
            if flux.GROUP in raw.text and item.parse_error() is None and flux.is_flux_kustomization(item):
                out.append(item)
    return out


def _own_sources(kustomizations: list[flux.FluxKustomization]) -> set[str]:
    """The GitRepository names that stand for this repository: those most Kustomizations build from
    (a repository's Kustomizations nearly all use the one `flux bootstrap` made; others name
    another repository, such as a project's CRDs)."""
    counts: dict[str, int] = {}
    for ks in kustomizations:
        if ks.source_kind == "GitRepository" and ks.source_name:
            counts[ks.source_name] = counts.get(ks.source_name, 0) + 1
    most = max(counts.values(), default=0)
    return {name for name, count in counts.items() if count == most}


def _own(ks: flux.FluxKustomization, w: Walk) -> bool:
    if ks.source_kind != "GitRepository":
        return False
    return not w.own_sources or ks.source_name is None or ks.source_name in w.own_sources


def _flux_build(ks: flux.FluxKustomization, w: Walk) -> Build | None:
    if not _own(ks, w):
        w.skip("Flux Kustomizations of another source (another repository, OCI, a bucket)")
        return None
    # spec.path is relative to the source's root: the git work tree, or else a directory given
    base = next((b for b in (os.path.normpath(os.path.join(r, ks.path)) for r in w.roots()) if os.path.isdir(b)), "")
    if "${" in ks.path or not base:
        w.skip("Flux Kustomizations whose path is not in this repository")
        return None
    build = build_dir(base, w) if kustomization_file(base) is not None else _generated(base, w)
    for component in ks.components:
        build_dir(os.path.normpath(os.path.join(base, component)), w, into=build)
    if ks.target_namespace:
        build.set_namespace(ks.target_namespace)
    return build


def _generated_references(directory: str) -> list[str]:
    """The kustomization directories Flux's generated kustomization for `directory` builds."""
    found = []
    for root, dirs, _ in os.walk(directory):
        if root != directory and kustomization_file(root) is not None:
            found.append(os.path.normpath(root))
            dirs[:] = []
        elif is_chart(root):
            dirs[:] = []
        else:
            dirs[:] = visible(dirs)
    return found


def _generated(directory: str, w: Walk) -> Build:
    """The kustomization Flux generates for a directory without one: every YAML file below it."""
    build = Build()
    for root, dirs, files in os.walk(directory):
        if root != directory and kustomization_file(root) is not None:
            build.merge(build_dir(root, w))
            dirs[:] = []
            continue
        if is_chart(root):
            dirs[:] = []
            continue
        dirs[:] = visible(dirs)
        for name in sorted(files):
            path = os.path.normpath(os.path.join(root, name))
            if not name.endswith(YAML_SUFFIXES) or w.excluded(path):
                continue
            w.visited.add(path)
            raws = w.documents(path)
            build.pieces.extend(Piece(path, raw) for raw in raws or [])
    return build


def _loose(files: list[str], w: Walk) -> list[Item]:
    """Objects of the files no build read; what is not a Kubernetes object is counted, not reported."""
    items: list[Item] = []
    for path in files:
        if path in w.visited:
            continue
        raws = w.documents(path, report=False)
        if raws is None:
            text = w.text(path)
            if text is not None and _LOOKS_KUBERNETES.search(text) and "{{" not in text:
                w.report_read_error(path)
            else:
                w.skip(NOT_OBJECTS)
            continue
        taken = 0
        for raw in raws:
            item = BuiltItem(raw, path)
            error = item.parse_error()
            if error is None:
                obj = item.obj
                if isinstance(obj.get("apiVersion"), str) and isinstance(obj.get("kind"), str):
                    items.append(item)
                    taken += 1
            elif _LOOKS_KUBERNETES.search(raw.text) and "{{" not in raw.text:
                w.problem(rules.PARSE, error.message, Location(path, error.line))
                taken += 1
        if not taken:
            w.skip(NOT_OBJECTS)
    return items


def _unique(items: list[Item]) -> list[Item]:
    """One object per (file, line, namespace, name, text): a file two builds read alike counts once."""
    seen: set[tuple] = set()
    out = []
    for item in items:
        raw = item.raw
        key = (item.file, raw.line if raw else None, item.namespace, item.name, raw.text if raw else None)
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out
