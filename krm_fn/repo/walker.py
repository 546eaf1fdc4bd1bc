"""The whole repository read the way Flux builds it: one group of objects per cluster.

1. Every YAML file below the paths is listed (krm_fn.repo.listing); the source root is found
   from the Flux paths; `.sourceignore` and `--include`/`--exclude` decide what is read.
2. With Flux in the repository (a Flux Kustomization, or a FluxInstance's sync), each cluster is
   read from where it starts: a FluxInstance's sync path, a Kustomization whose build holds
   itself (`flux bootstrap`'s gotk-sync.yaml), else the shallowest directory of Flux
   Kustomizations nothing builds yet. Every Flux Kustomization a cluster's builds emit (after
   their parent's substitution) is built in turn, once per cluster: its path with its
   components, target namespace and variables. An object is in a cluster once for each
   namespace it gets there, counting the builds that emit it alike.
3. What no cluster builds is never checked as objects: each file or directory of Kubernetes
   objects is one `not-built` warning saying why (krm_fn.repo.unbuilt); other YAML is counted.
4. Without Flux, each kustomization no other one builds is a root, and files no build reads are
   checked if they are Kubernetes objects: all in one group.
"""

from __future__ import annotations

import os

from krm_fn import rules
from krm_fn.items import Item
from krm_fn.repo import flux, unbuilt
from krm_fn.repo.kustomization import FILE_NAMES, Build, build_dir, kustomization_file, references
from krm_fn.repo.listing import is_chart, kept, list_files, source_root, visible
from krm_fn.repo.objects import BuiltItem, Piece, head
from krm_fn.repo.reader import YAML_SUFFIXES, Reader
from krm_fn.results import Location, Result

NOT_OBJECTS = unbuilt.NOT_OBJECTS
OTHER_SOURCE = "Flux Kustomizations of another source (another repository, OCI, a bucket)"
PATH_ELSEWHERE = "Flux Kustomizations whose path is not in this repository"
_LOOKS_KUBERNETES = unbuilt.LOOKS_KUBERNETES


class Group:
    """Objects that are checked together (one cluster, or the rest of a repository without Flux)."""

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
        self.root = "."


def walk(
    paths: list[str], include: list[str] | None = None, exclude: list[str] | None = None, root: str | None = None
) -> Repository:
    """Read the repository below `paths` the way Flux and kustomize would."""
    repo = Repository()
    bases = [os.path.normpath(p) for p in paths]
    reader = Reader(include or [], exclude or [], bases)
    listed, problems = list_files(bases, reader)
    repo.results.extend(problems)
    written, syncs, objects = _flux_objects(listed, reader)
    found = source_root(paths, [ks.path for ks in written] + [s.path for s in syncs], root)
    if paths and not os.path.isabs(paths[0]) and not (root and os.path.isabs(root)):
        found = os.path.relpath(found)  # shown paths keep the form they were given in
    repo.root = found = os.path.normpath(found)
    pushes = _pushes(found, reader)
    reader.set_root(found, _spec_ignore(objects, flux.find_sources(written, syncs, objects, pushes)))
    files = kept(listed, reader)
    kept_files = set(files)
    written = [ks for ks in written if ks.item.file in kept_files]
    syncs = [s for s in syncs if s.file in kept_files]
    objects = [o for o in objects if o.file in kept_files]
    sources = flux.find_sources(written, syncs, objects, pushes)
    if written or syncs:
        _Clusters(reader, repo, sources).read(files, written, syncs)
        unbuilt.report(files, reader, bases)
    else:
        _plain(files, reader, repo)
    repo.files = len({item.file for group in repo.groups for item in group.items})
    repo.results.extend(reader.results)
    for reason, count in reader.skipped.items():
        repo.skipped[reason] = repo.skipped.get(reason, 0) + count
    data = len(reader.data_files & kept_files)
    if data:
        repo.skipped["generator inputs (data, not manifests)"] = data
    return repo


# --- what the files say about Flux -------------------------------------------------------------------


def _flux_objects(files: list[str], reader: Reader) -> tuple[list[flux.FluxKustomization], list[flux.Sync], list[Item]]:
    """Flux Kustomizations as written, FluxInstance syncs, and source objects (OCIRepository,
    ArtifactGenerator, GitRepository) in the files, read before any build."""
    written, syncs, objects = [], [], []
    for path in files:
        if os.path.basename(path) in FILE_NAMES:
            continue
        text = reader.text(path)
        if text is None or "fluxcd" not in text:
            continue
        for raw in reader.documents(path, report=False) or []:
            if "fluxcd" not in raw.text:
                continue
            item = Item(raw=raw, file=path)
            if item.parse_error() is not None:
                continue
            if flux.is_flux_kustomization(item):
                written.append(flux.FluxKustomization(item))
            elif item.kind in ("OCIRepository", "ArtifactGenerator", "GitRepository"):
                objects.append(item)
            elif item.kind in ("FluxInstance", "HelmRelease"):
                sync = flux.sync_of(item)
                if sync is not None:
                    syncs.append(sync)
    return written, syncs, objects


def _pushes(root: str, reader: Reader) -> dict[str, str]:
    """Artifacts the repository's CI and task files push (they live in hidden directories too)."""
    candidates = [os.path.join(root, name) for name in (".gitlab-ci.yml", "Taskfile.yaml", "Taskfile.yml")]
    for folder in (".github/workflows", ".taskfiles"):
        for top, dirs, names in os.walk(os.path.join(root, folder)):
            dirs.sort()
            candidates.extend(os.path.join(top, n) for n in sorted(names) if n.endswith(YAML_SUFFIXES))
    found: dict[str, str] = {}
    for path in candidates:
        text = reader.text(path) if os.path.isfile(path) else None
        if text and "push artifact" in text:
            found.update(flux.pushes_in(text))
    return found


def _spec_ignore(objects: list[Item], sources: flux.Sources) -> str | None:
    for item in objects:
        if item.kind == "GitRepository" and item.name in sources.git:
            spec = item.obj.get("spec")
            if isinstance(spec, dict) and isinstance(spec.get("ignore"), str):
                return spec["ignore"]
    return None


# --- Flux: one group per cluster ---------------------------------------------------------------------


class _Cluster:
    def __init__(self, name: str):
        self.name = name
        self.items: dict[tuple, BuiltItem] = {}
        self.built: set[tuple] = set()  # the Flux Kustomizations built (by what they build)
        self.queue: list[tuple[BuiltItem, tuple]] = []  # Flux Kustomizations found, with their parent's patches


class _Clusters:
    def __init__(self, reader: Reader, repo: Repository, sources: flux.Sources):
        self.reader = reader
        self.repo = repo
        self.sources = sources
        self._substituted: dict[tuple, object] = {}

    def read(self, files: list[str], written: list[flux.FluxKustomization], syncs: list[flux.Sync]) -> None:
        started = False
        for sync in syncs:
            base = self.sources.base(sync.kind, "flux-system")
            directory = os.path.normpath(os.path.join(self.reader.root, base or "", sync.path))
            if base is not None and os.path.isdir(directory) and sync.file not in self.reader.visited:
                self.reader.visited.add(sync.file)  # applied by hand or by a bootstrap tool: where Flux starts
                self._cluster(f"sync:{sync.file}", directory=directory)
                started = True
        while True:
            pending = [ks for ks in written if ks.item.file not in self.reader.visited]
            boot = next((ks for ks in pending if self._holds_itself(ks)), None)
            if boot is not None:
                # where Flux starts (`flux bootstrap` applies it), even when its build does not list it
                self.reader.visited.add(boot.item.file or "")
                self._cluster(f"flux:{boot.item.file}", ks=boot)
                started = True
                continue
            if not pending or started:
                break  # once a cluster starts where Flux starts it, what it does not build is not built
            # no bootstrap in these files (a directory below the root was given): where they start
            before = len(self.reader.visited)
            start = self._start(pending)
            self._cluster(f"files:{start}", directory=start)
            if len(self.reader.visited) == before:  # nothing new: do not go round again
                self.reader.visited.update(ks.item.file for ks in pending if ks.item.file)

    def _holds_itself(self, ks: flux.FluxKustomization) -> bool:
        """Does the Kustomization's path hold its own file (`flux bootstrap`'s flux-system)?"""
        base = self._path(ks)
        return base is not None and (ks.item.file or "").startswith(base.rstrip("/") + "/")

    def _start(self, pending: list[flux.FluxKustomization]) -> str:
        """The shallowest directory of Kustomizations nothing builds, or the kustomization above it
        that lists it (a namespace's kustomization.yaml listing each app's ks.yaml)."""
        directory = min(
            (os.path.dirname(ks.item.file or "") or "." for ks in pending), key=lambda d: (d.count(os.sep), d)
        )
        while True:
            parent = os.path.dirname(directory)
            kfile = kustomization_file(parent) if parent and parent != directory else None
            kustomization = self.reader.kustomization(kfile) if kfile else None
            if kustomization is None or not _includes(kustomization, parent or ".", directory):
                return directory
            directory = parent

    def _cluster(self, name: str, ks: flux.FluxKustomization | None = None, directory: str | None = None) -> None:
        cluster = _Cluster(name)
        if ks is not None:
            cluster.built.add(ks.key)
            self._build_flux(cluster, ks)
        else:
            assert directory is not None
            build = (
                build_dir(directory, self.reader)
                if kustomization_file(directory)
                else generated(directory, self.reader)
            )
            self._add(cluster, build, None)
        while cluster.queue:
            item, patches = cluster.queue.pop(0)
            child = flux.FluxKustomization(item, patches)
            if child.key in cluster.built:
                continue
            cluster.built.add(child.key)
            self._build_flux(cluster, child)
        self.repo.groups.append(Group(name, list(cluster.items.values())))

    def _path(self, ks: flux.FluxKustomization) -> str | None:
        base = self.sources.base(ks.source_kind, ks.source_name)
        if base is None or "${" in ks.path:
            return None
        return os.path.normpath(os.path.join(self.reader.root, base, ks.path))

    def _build_flux(self, cluster: _Cluster, ks: flux.FluxKustomization) -> None:
        """What kustomize-controller builds for one Flux Kustomization."""
        if self.sources.base(ks.source_kind, ks.source_name) is None:
            self.reader.skip(OTHER_SOURCE)
            return
        path = self._path(ks)
        if path is None or not os.path.isdir(path):
            self.reader.skip(PATH_ELSEWHERE)
            return
        components = []
        for entry in ks.components:
            if kustomization_file(os.path.normpath(os.path.join(path, entry))) is not None:
                components.append(entry)
            elif not ks.ignore_missing_components and ks.item.file:
                self.reader.missing(ks.item.file, "spec.components", entry, "a directory with a kustomization.yaml")
        if kustomization_file(path) is not None:
            build = build_dir(path, self.reader, components=tuple(components))
        else:
            build = generated(path, self.reader)
            for entry in components:
                build_dir(os.path.normpath(os.path.join(path, entry)), self.reader, into=build)
        if ks.target_namespace:
            build.set_namespace(ks.target_namespace)
        self.repo.flux += 1
        self._add(cluster, build, ks.substitution, ks.child_patches)

    def _add(
        self, cluster: _Cluster, build: Build, substitution: flux.Substitution | None, patches: tuple = ()
    ) -> None:
        self.repo.builds += 1
        for item in _items(build, substitution, self._substituted):
            raw = item.raw
            key = (item.file, raw.line, item.set_namespace, item.set_name, raw.text)
            found = cluster.items.get(key)
            if found is not None:
                found.builds += 1
                continue
            cluster.items[key] = item
            if flux.GROUP in raw.text and _is_flux(item):
                cluster.queue.append((item, patches))


def _includes(kustomization: dict, directory: str, below: str) -> bool:
    """Does the kustomization of `directory` list `below` or a file in it (an app's ks.yaml)?"""
    for key in ("resources", "bases", "components"):
        entries = kustomization.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str):
                path = os.path.normpath(os.path.join(directory, entry))
                if path == below or path.startswith(below.rstrip(os.sep) + os.sep):
                    return True
    return False


def _is_flux(item: Item) -> bool:
    return item.parse_error() is None and flux.is_flux_kustomization(item)


def _items(build: Build, substitution: flux.Substitution | None, cache: dict | None = None) -> list[BuiltItem]:
    """The build's objects as Flux applies them: substituted, with the namespace (or name) the build gave."""
    items: list[BuiltItem] = []
    values = (tuple(sorted(substitution.values.items())), substitution.open_ended) if substitution else None
    cache = {} if cache is None else cache
    for piece in build.pieces:
        raw = piece.raw
        if substitution is not None and substitution.active:
            key = (id(raw), values)
            entry = cache.get(key)
            if entry is None:  # the original is kept with it, so that its id stays its own
                entry = cache[key] = (raw, flux.substituted(raw, substitution))
            raw = entry[1]
        if head(piece.raw).get("kind") == "Namespace" and piece.namespace is not None:
            items.append(BuiltItem(raw, piece.file, name=piece.namespace))
        else:
            items.append(BuiltItem(raw, piece.file, namespace=piece.namespace))
    return items


def generated(directory: str, reader: Reader) -> Build:
    """The kustomization Flux generates for a directory without one: every YAML file below it, and
    each subdirectory holding a kustomization built with it and not looked into further."""
    build = Build()
    for root, dirs, files in os.walk(directory):
        if root != directory and kustomization_file(root) is not None:
            build.merge(build_dir(root, reader))
            dirs[:] = []
            continue
        if is_chart(root):
            dirs[:] = []
            continue
        dirs[:] = visible(dirs)
        for name in sorted(files):
            path = os.path.normpath(os.path.join(root, name))
            if not name.endswith(YAML_SUFFIXES) or reader.excluded(path):
                continue
            reader.visited.add(path)
            raws = reader.documents(path)
            build.pieces.extend(Piece(path, raw) for raw in raws or [])
    return build


# --- without Flux: kustomize roots and files --------------------------------------------------------


def _plain(files: list[str], reader: Reader, repo: Repository) -> None:
    kfiles = [f for f in files if os.path.basename(f) in FILE_NAMES]
    referenced: set[str] = set()
    for kfile in kfiles:
        kustomization = reader.kustomization(kfile)
        if kustomization is not None:
            referenced.update(references(kustomization, os.path.dirname(kfile) or "."))
    items: list[Item] = []
    for kfile in kfiles:
        directory = os.path.dirname(kfile) or "."
        if directory in referenced or kfile in reader.visited:
            continue
        repo.builds += 1
        items.extend(_items(build_dir(directory, reader), None))
    items.extend(_loose(files, reader))
    if items:
        repo.groups.append(Group("the rest", _unique(items)))


def _loose(files: list[str], reader: Reader) -> list[Item]:
    """Objects of the files no build read; what is not a Kubernetes object is counted, not reported."""
    items: list[Item] = []
    for path in files:
        if path in reader.visited:
            continue
        raws = reader.documents(path, report=False)
        if raws is None:
            text = reader.text(path)
            if text is not None and _LOOKS_KUBERNETES.search(text) and "{{" not in text:
                reader.report_read_error(path)
            else:
                reader.skip(NOT_OBJECTS)
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
                reader.problem(rules.PARSE, error.message, Location(path, error.line))
                taken += 1
        if not taken:
            reader.skip(NOT_OBJECTS)
    return items


def _unique(items: list[Item]) -> list[Item]:
    """One object per (file, line, namespace, name, text): a file two builds read alike counts once."""
    seen: dict[tuple, Item] = {}
    for item in items:
        raw = item.raw
        key = (item.file, raw.line if raw else None, item.namespace, item.name, raw.text if raw else None)
        if key in seen:
            found = seen[key]
            if isinstance(found, BuiltItem):
                found.builds += 1
            continue
        seen[key] = item
    return list(seen.values())
