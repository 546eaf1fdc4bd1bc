"""What no Flux Kustomization in any cluster builds: one `not-built` warning per file or directory
of Kubernetes objects, saying why, and never the objects' own findings (Flux never applies them).

Why a file is not built, as kustomize-controller builds a path (fluxcd/pkg kustomize generator):
a directory with a kustomization.yaml is built with it alone, so a file it does not list is not
applied; and Flux's generated kustomization (for a path without one) lists a subdirectory that has
a kustomization.yaml as a whole and does not look at its other files. A directory is reported
once, at the highest directory below the paths given of which nothing is built.
"""

from __future__ import annotations

import os
import re

from krm_fn import rules
from krm_fn.repo.kustomization import FILE_NAMES, kustomization_file
from krm_fn.repo.objects import head
from krm_fn.repo.reader import Reader
from krm_fn.results import Location, Severity

NOT_OBJECTS = "files that are not Kubernetes objects (app configs, templates, helmfiles)"
LOOKS_KUBERNETES = re.compile(r"^apiVersion:.*\n(?:.*\n)*?kind:|^kind:.*\n(?:.*\n)*?apiVersion:", re.M)
_API_VERSION = re.compile(r"v1|[^/\s]+/[^/\s]+")  # Kubernetes' (a Talos config's v1alpha1 is not)
# Configuration files written like objects but read by a tool or a node, never applied to a cluster
# (kubeadm's ClusterConfiguration, an API server audit Policy, kind's and k3d's cluster files, a Kptfile).
CONFIG_GROUPS = frozenset({"kubeadm.k8s.io", "audit.k8s.io", "kind.x-k8s.io", "k3d.io", "kpt.dev", "talos.dev"})


def is_kubernetes(path: str, reader: Reader) -> bool:
    """Does the file hold a Kubernetes object (apiVersion `v1` or `group/version`, and a kind)?"""
    raws = reader.documents(path, report=False)
    if raws is None:
        text = reader.text(path)
        return text is not None and LOOKS_KUBERNETES.search(text) is not None and "{{" not in text
    for raw in raws:
        found = raw.header
        if found is None:
            if "apiVersion" not in raw.text or "kind" not in raw.text:
                continue
            found = head(raw)
        version, kind = found.get("apiVersion"), found.get("kind")
        if isinstance(version, str) and isinstance(kind, str) and kind and _API_VERSION.fullmatch(version):
            group = version.rsplit("/", 1)[0] if "/" in version else ""
            if group not in CONFIG_GROUPS and not group.endswith(".config.k8s.io"):
                return True
    return False


def report(files: list[str], reader: Reader, bases: list[str]) -> None:
    """One warning per unbuilt file or directory of Kubernetes objects; other YAML counted."""
    built: set[str] = set()
    for path in reader.visited:
        directory = os.path.dirname(path)
        while directory and directory not in built:
            built.add(directory)
            directory = os.path.dirname(directory)
    built.add(".")
    by_kustomization: dict[str, list[str]] = {}
    by_directory: dict[str, list[str]] = {}
    for path in files:
        if path in reader.visited:
            continue
        if os.path.basename(path) not in FILE_NAMES and not is_kubernetes(path, reader):
            reader.skip(NOT_OBJECTS)
            continue
        kfile = _built_kustomization_above(path, reader)
        if kfile is not None:
            by_kustomization.setdefault(kfile, []).append(path)
        else:
            by_directory.setdefault(_unit(path, built, bases), []).append(path)
    for kfile, paths in sorted(by_kustomization.items()):
        _not_listed(kfile, paths, reader, built)
    for unit, paths in sorted(by_directory.items()):
        _not_reached(unit, paths, reader)


def _built_kustomization_above(path: str, reader: Reader) -> str | None:
    """The nearest kustomization a Flux build read, in the file's directory or above it."""
    directory = os.path.dirname(path)
    while directory:
        kfile = kustomization_file(directory)
        if kfile is not None and kfile != path and kfile in reader.visited:
            return kfile
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def _unit(path: str, built: set[str], bases: list[str]) -> str:
    """The highest directory of which nothing is built, below the paths given; or the file itself
    when its directory has something built."""
    directory = os.path.dirname(path)
    if directory in built or not directory:
        return path
    tops = {os.path.normpath(b) for b in bases}
    while directory not in tops:
        parent = os.path.dirname(directory)
        if not parent or parent in built:
            break
        directory = parent
    return directory


def _objects(paths: list[str]) -> tuple[str, bool]:
    """How to name the unbuilt files ("2 files of Kubernetes objects"), and whether that is plural."""
    count = sum(os.path.basename(p) not in FILE_NAMES for p in paths)
    if not count:
        return "kustomizations", True
    return f"{count} file{'s' if count != 1 else ''} of Kubernetes objects", count != 1


def _not_listed(kfile: str, paths: list[str], reader: Reader, built: set[str]) -> None:
    """Files below a built kustomization that it does not include: a directory of which nothing is
    built by its name, else each file by its path."""
    directory = os.path.dirname(kfile)
    names = set()
    for path in paths:
        rel = os.path.relpath(path, directory)
        top = rel.split(os.sep)[0]
        if os.path.basename(rel) in FILE_NAMES:  # a kustomization: its directory is what is not included
            rel = os.path.dirname(rel) + "/"
        names.add(rel if top == rel or os.path.join(directory, top) in built else top + "/")
    names = sorted(names)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    what, plural = _objects(paths)
    them = "them" if plural else "it"
    reader.problem(
        rules.NOT_BUILT,
        f"does not include {shown} ({what}): Flux builds this directory with this kustomization alone, so "
        f"{'they are' if plural else 'it is'} built by no Flux Kustomization and never applied; the rules do not "
        f"check {them} (list {them} here, or delete {them})",
        Location(kfile, None),
        Severity.WARNING,
    )


def _not_reached(unit: str, paths: list[str], reader: Reader) -> None:
    """A file or directory no Flux Kustomization's path reaches."""
    directory = unit if unit not in paths else os.path.dirname(unit)
    own = kustomization_file(directory)
    if own is not None and _is_component(own, reader):
        why = (
            "a Component that no kustomization built in any cluster lists under components:, and no Flux "
            "Kustomization under spec.components"
        )
    elif own is not None:
        why = "no Flux Kustomization's path is this directory, and no kustomization built by one includes it"
    else:
        why = "no Flux Kustomization's path is this directory or one above it"
    if unit in paths or (own is not None and paths == [own]):
        plural = False
        subject = (
            "" if unit in paths else f"{'this Component' if _is_component(own, reader) else 'this kustomization'} is "
        )
        message = f"{subject}built by no Flux Kustomization of any cluster ({why}), so Flux never applies it"
    else:
        what, plural = _objects(paths)
        subject = f"{what} below this directory {'are' if plural else 'is'}"
        message = (
            f"{subject} built by no Flux Kustomization of any cluster ({why}), "
            f"so Flux never applies {'them' if plural else 'it'}"
        )
    them = "them" if plural else "it"
    reader.problem(
        rules.NOT_BUILT,
        f"{message}; the rules do not check {them} (build {them} from a Flux Kustomization, or delete {them})",
        Location(unit, None),
        Severity.WARNING,
    )


def _is_component(kfile: str, reader: Reader) -> bool:
    data = reader.kustomization(kfile)
    return isinstance(data, dict) and data.get("kind") == "Component"
