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

    def __init__(self, item: Item):
        spec = item.obj.get("spec") if isinstance(item.obj.get("spec"), dict) else {}
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
        post = spec.get("postBuild") if isinstance(spec.get("postBuild"), dict) else {}
        values = post.get("substitute") if isinstance(post.get("substitute"), dict) else {}
        self.substitution = Substitution(
            {str(k): str(v).replace("\n", "") for k, v in values.items() if v is not None},
            bool(post.get("substituteFrom")),
        )

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
