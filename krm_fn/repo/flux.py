"""Flux `Kustomization` objects (kustomize.toolkit.fluxcd.io): what they build and how.

kustomize-controller builds `spec.path` (relative to the source's root): with the directory's
kustomization.yaml if it has one, else with one it generates listing every YAML file below it
(a subdirectory holding a kustomization.yaml is added as a directory, not descended into). It
adds `spec.components`, sets `targetNamespace` as kustomize's `namespace:` would, then
substitutes variables in each object (`postBuild`):

- only when the Kustomization has variables at all (`substitute` or `substituteFrom`);
- `${VAR}` is replaced with the value; `${VAR:-default}`/`${VAR:=default}` give the default when
  VAR is unset or empty, `${VAR-default}`/`${VAR=default}` when it is unset (krm_fn.placeholders
  does the substituting, for the rules and here alike; `$${VAR}` is an escaped literal);
- values lose their newlines; an object labelled or annotated
  `kustomize.toolkit.fluxcd.io/substitute: disabled` is left alone.
(fluxcd/pkg kustomize/kustomize_varsub.go, with drone/envsubst.) Values from `substituteFrom`
live in the cluster: while a Kustomization has any, a variable it does not set inline stays a
`${...}` placeholder, which the rules treat as unknown. A variable that is set nowhere also stays
a placeholder (Flux would substitute an empty string; the placeholder says more).
"""

from __future__ import annotations

import re

from krm_fn import placeholders
from krm_fn import yaml as yamlio
from krm_fn.items import Item

GROUP = "kustomize.toolkit.fluxcd.io"
DISABLE = "kustomize.toolkit.fluxcd.io/substitute"


def is_flux_kustomization(item: Item) -> bool:
    return item.kind == "Kustomization" and (item.api_version or "").startswith(GROUP + "/")


class Substitution:
    """The variables one Flux Kustomization gives its objects."""

    def __init__(self, values: dict[str, str], open_ended: bool):
        self.values = values
        self.open_ended = open_ended  # substituteFrom: more values exist that we cannot see

    @property
    def active(self) -> bool:
        return bool(self.values) or self.open_ended

    def apply(self, text: str) -> str:
        """The text with every known variable substituted; unknown ones left as they are."""
        if not self.active or "${" not in text:
            return text
        return placeholders.substitute(text, self.values, use_defaults=not self.open_ended)


class FluxKustomization:
    """The fields of a Flux Kustomization that decide what it builds."""

    def __init__(self, item: Item, patches: tuple[dict, ...] = ()):
        spec = item.obj.get("spec") if isinstance(item.obj.get("spec"), dict) else {}
        for patch in patches:  # the parent's spec.patches for Kustomizations, applied when it built this one
            if _selects(patch, item):
                spec = _merged(spec, patch["spec"])
        self.item = item
        path = spec.get("path")
        # relative to the source's root, a leading `/` included (kustomize-controller joins it securely)
        self.path = (path.lstrip("/") or "./") if isinstance(path, str) else "./"
        namespace = spec.get("targetNamespace")
        self.target_namespace = namespace if isinstance(namespace, str) and namespace else None
        source = spec.get("sourceRef") if isinstance(spec.get("sourceRef"), dict) else {}
        self.source_kind = source.get("kind") if isinstance(source.get("kind"), str) else "GitRepository"
        self.source_name = source.get("name") if isinstance(source.get("name"), str) else None
        components = spec.get("components")
        self.components = [c for c in components if isinstance(c, str)] if isinstance(components, list) else []
        self.ignore_missing_components = spec.get("ignoreMissingComponents") is True
        post = spec.get("postBuild") if isinstance(spec.get("postBuild"), dict) else {}
        values = post.get("substitute") if isinstance(post.get("substitute"), dict) else {}
        self.substitution = Substitution(
            {str(k): str(v).replace("\n", "") for k, v in values.items() if v is not None},
            bool(post.get("substituteFrom")),
        )
        self.child_patches = _child_patches(spec.get("patches"))

    @property
    def key(self) -> tuple:
        """What makes two Kustomizations build the same thing."""
        return (
            self.source_kind,
            self.source_name,
            self.path.strip("/").removeprefix("./"),
            self.target_namespace,
            tuple(self.components),
            tuple(sorted(self.substitution.values.items())),
            self.substitution.open_ended,
        )


# --- spec.patches that change the Kustomizations a Kustomization builds --------------------------------
# A cluster's root Kustomization often patches every Kustomization it builds (onedr0p's
# cluster-template adds `postBuild.substituteFrom` and `decryption` to each). Such a patch is read
# here when it is a strategic-merge patch of `spec` whose target is the Kustomization kind; kustomize
# merges maps and replaces lists, as a JSON merge patch does. Other patches are not applied.


def _child_patches(patches: object) -> tuple[dict, ...]:
    found = []
    for entry in patches if isinstance(patches, list) else []:
        target = entry.get("target") if isinstance(entry, dict) else None
        text = entry.get("patch") if isinstance(entry, dict) else None
        if not isinstance(target, dict) or target.get("kind") != "Kustomization" or not isinstance(text, str):
            continue
        if target.get("group") not in (None, GROUP) or target.get("annotationSelector"):
            continue
        try:
            body = yamlio.load_one(text)
        except yamlio.YamlError:
            continue
        if isinstance(body, dict) and isinstance(body.get("spec"), dict):
            found.append({"spec": body["spec"], "name": target.get("name"), "labels": target.get("labelSelector")})
    return tuple(found)


def _merged(base: dict, patch: dict) -> dict:
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _selects(patch: dict, item: Item) -> bool:
    name = patch.get("name")
    if isinstance(name, str) and not re.fullmatch(name, item.name or ""):
        return False
    selector = patch.get("labels")
    if not isinstance(selector, str) or not selector.strip():
        return True
    meta = item.obj.get("metadata") if isinstance(item.obj.get("metadata"), dict) else {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    return all(_requirement(part.strip(), labels) for part in _split_selector(selector))


def _split_selector(selector: str) -> list[str]:
    """The requirements of a label selector, split on the commas outside `(...)`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


_SET = re.compile(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)")


def _requirement(text: str, labels: dict) -> bool:
    """One requirement of a Kubernetes label selector (`a`, `!a`, `a=b`, `a!=b`, `a in (b,c)`, `a notin (b)`)."""
    found = _SET.fullmatch(text)
    if found:
        key, op, values = found.groups()
        listed = {v.strip() for v in values.split(",")}
        return (labels.get(key) in listed) if op == "in" else (key not in labels or labels[key] not in listed)
    if "!=" in text:
        key, value = (p.strip() for p in text.split("!=", 1))
        return labels.get(key) != value
    if "=" in text:
        key, value = (p.strip() for p in text.replace("==", "=").split("=", 1))
        return labels.get(key) == value
    if text.startswith("!"):
        return text[1:].strip() not in labels
    return text in labels


def substituted(raw: yamlio.RawItem, substitution: Substitution | None) -> yamlio.RawItem:
    """The raw item after Flux's substitution (the same object when nothing changes)."""
    if substitution is None or not substitution.active or ("${" not in raw.text and "$$" not in raw.text):
        return raw
    if DISABLE in raw.text and _disabled(raw):
        return raw
    text = substitution.apply(raw.text)
    if text == raw.text:
        return raw
    return yamlio.RawItem(text, raw.form, raw.line, None)  # header unknown: the name may have changed


def _disabled(raw: yamlio.RawItem) -> bool:
    try:
        data = yamlio.parse_raw_item(raw)
    except yamlio.YamlError:
        return False
    meta = data.get("metadata") if isinstance(data, dict) and isinstance(data.get("metadata"), dict) else {}
    for key in ("labels", "annotations"):
        found = meta.get(key)
        if isinstance(found, dict) and found.get(DISABLE) == "disabled":
            return True
    return False


# --- where a cluster starts, and which sources are this repository -----------------------------------

INSTANCE_CHART = "flux-instance"  # flux-operator's chart: a FluxInstance from its values' `instance`


class Sync:
    """Where a FluxInstance (flux-operator) starts a cluster: its `spec.sync` source and path."""

    def __init__(self, kind: str, url: str, path: str, file: str):
        self.kind = kind
        self.url = url
        self.path = path.lstrip("/") or "./"
        self.file = file


def sync_of(item: Item) -> Sync | None:
    """The sync of a FluxInstance, or of a HelmRelease of the flux-instance chart (values.instance.sync)."""
    obj = item.obj
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if item.kind == "FluxInstance":
        sync = spec.get("sync")
    elif item.kind == "HelmRelease" and INSTANCE_CHART in (item.raw.text if item.raw else ""):
        values = spec.get("values") if isinstance(spec.get("values"), dict) else {}
        instance = values.get("instance") if isinstance(values.get("instance"), dict) else {}
        sync = instance.get("sync")
    else:
        return None
    if not isinstance(sync, dict) or not isinstance(sync.get("path"), str):
        return None
    kind = sync.get("kind") if isinstance(sync.get("kind"), str) else "GitRepository"
    url = sync.get("url") if isinstance(sync.get("url"), str) else ""
    return Sync(kind, url, sync["path"], item.file or "")


def artifact_name(url: str) -> str:
    """The repository part of an OCI URL, without registry and tag: what a push and a pull share
    when one goes through a port-forward (`localhost:5050/x` and `registry:5000/x`)."""
    name = url.removeprefix("oci://")
    name = name.split("/", 1)[1] if "/" in name else name
    name = name.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name[: name.rindex(":")]
    return name


class Sources:
    """Which Flux sources hold this repository, and at which directory their paths start.

    A GitRepository is this repository when most Kustomizations build from it (others name
    another repository, such as a project's CRDs) or a FluxInstance syncs it; an OCIRepository
    when its URL is an artifact this repository's CI or task files push (`flux push artifact URL
    --path=DIR`: its paths start at DIR); an ExternalArtifact when an ArtifactGenerator copies one
    directory of such a GitRepository into it (`@alias/DIR/**` to `@artifact/`)."""

    def __init__(self) -> None:
        self.git: set[str] = set()
        self.bases: dict[tuple[str, str], str] = {}  # (kind, name) -> directory below the root

    def base(self, kind: str, name: str | None) -> str | None:
        """The directory below the root that a source's paths start at; None when it is not this repository."""
        if kind == "GitRepository":
            return "" if not self.git or name is None or name in self.git else None
        return self.bases.get((kind, name or ""))


def find_sources(
    kustomizations: list[FluxKustomization], syncs: list[Sync], objects: list[Item], pushes: dict[str, str]
) -> Sources:
    """The Sources of a repository from its Flux Kustomizations, FluxInstance syncs, source objects
    (OCIRepository, ArtifactGenerator) and the artifacts it pushes (name -> directory)."""
    sources = Sources()
    counts: dict[str, int] = {}
    for ks in kustomizations:
        if ks.source_kind == "GitRepository" and ks.source_name:
            counts[ks.source_name] = counts.get(ks.source_name, 0) + 1
    most = max(counts.values(), default=0)
    sources.git = {name for name, count in counts.items() if count == most}
    for sync in syncs:
        if sync.kind == "GitRepository":
            sources.git.add("flux-system")  # the source a FluxInstance makes
        elif sync.kind == "OCIRepository" and artifact_name(sync.url) in pushes:
            sources.bases[("OCIRepository", "flux-system")] = pushes[artifact_name(sync.url)]
    for item in objects:
        spec = item.obj.get("spec") if isinstance(item.obj.get("spec"), dict) else {}
        if item.kind == "OCIRepository" and isinstance(spec.get("url"), str) and item.name:
            pushed = pushes.get(artifact_name(spec["url"]))
            if pushed is not None:
                sources.bases[("OCIRepository", item.name)] = pushed
        elif item.kind == "ArtifactGenerator":
            _generated_artifacts(spec, sources)
    return sources


def _generated_artifacts(spec: dict, sources: Sources) -> None:
    aliases = {
        s.get("alias"): s.get("name")
        for s in spec.get("sources") or []
        if isinstance(s, dict) and s.get("kind") == "GitRepository"
    }
    for artifact in spec.get("artifacts") or []:
        if not isinstance(artifact, dict) or not isinstance(artifact.get("name"), str):
            continue
        copies = [c for c in artifact.get("copy") or [] if isinstance(c, dict)]
        if len(copies) != 1 or copies[0].get("to") not in ("@artifact/", "@artifact"):
            continue
        source = copies[0].get("from")
        if not isinstance(source, str) or not source.startswith("@") or not source.endswith("/**"):
            continue
        alias, _, directory = source[1:-3].partition("/")
        name = aliases.get(alias)
        if name is not None and sources.base("GitRepository", name) == "":
            sources.bases[("ExternalArtifact", artifact["name"])] = directory.strip("/")


_PUSH = re.compile(r"flux\s+push\s+artifact\s+(oci://[^\s\"']+)")
_PUSH_PATH = re.compile(r"--path[= ][\"']?([^\s\"']+)")
_TEMPLATE = re.compile(r"^(?:\{\{[^}]*\}\}|\$\{\{[^}]*\}\}|\$\{?\w+\}?)/?")


def pushes_in(text: str) -> dict[str, str]:
    """Artifacts a CI or task file pushes with `flux push artifact URL --path=DIR`: name -> DIR
    (relative to the repository; a leading variable such as {{.ROOT_DIR}} or $GITHUB_WORKSPACE
    stands for the repository itself)."""
    found = {}
    for match in _PUSH.finditer(text):
        window = text[match.end() : match.end() + 600]
        path = _PUSH_PATH.search(window)
        if path is None:
            continue
        directory = _TEMPLATE.sub("", path.group(1)).strip("/").removeprefix("./")
        found[artifact_name(match.group(1))] = "" if directory in (".", "") else directory
    return found
