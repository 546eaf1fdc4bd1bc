"""Objects in the pipeline: the original text (passed through as is) and, on demand, the data.

Parsing is lazy because the function sees every resource of a repository but reads only a
few kinds (Secrets, routes, Gateways, its own objects); the rest are never parsed.
"""

from __future__ import annotations

import re

from krm_fn import yaml as yamlio
from krm_fn.results import Location, ResourceRef

PATH_ANNOTATIONS = ("config.kubernetes.io/path", "internal.config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("config.kubernetes.io/index", "internal.config.kubernetes.io/index")
# kustomize `buildMetadata: [originAnnotations]`: "path: <file relative to the kustomization>\n..."
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"

_UNPARSED = object()


class Item:
    """One object. `raw` is set for input objects, `data` alone for generated ones.

    (A plain class, not a dataclass: see krm_fn.engine. Equality is identity.)
    """

    def __init__(
        self,
        raw: yamlio.RawItem | None = None,
        data: object = _UNPARSED,
        generated: bool = False,
        file: str | None = None,  # the file it was read from (check and render read files)
    ):
        self.raw = raw
        self.data = data
        self.generated = generated
        self.file = file
        self._error: yamlio.YamlError | None = None

    def __repr__(self) -> str:
        return f"Item(raw={self.raw!r}, data={self.data!r}, generated={self.generated!r}, file={self.file!r})"

    @classmethod
    def from_data(cls, data: dict, generated: bool = True) -> Item:
        return cls(raw=None, data=data, generated=generated)

    # -- data -------------------------------------------------------------------------------

    @property
    def parsed(self) -> bool:
        return self.data is not _UNPARSED

    @property
    def obj(self) -> dict:
        """The parsed object; {} when the text is not a mapping. Raises YamlError when invalid."""
        if self.data is _UNPARSED:
            assert self.raw is not None
            try:
                self.data = yamlio.parse_raw_item(self.raw)
            except yamlio.YamlError as err:
                self._error = err
                self.data = {}
                raise
        return self.data if isinstance(self.data, dict) else {}

    def parse_error(self) -> yamlio.YamlError | None:
        """Parse now; the error, if the text is not valid YAML."""
        try:
            self.obj  # noqa: B018 - parse for the side effect
        except yamlio.YamlError as err:
            return err
        return self._error

    # -- identity (cheap when the header scan could read it) ----------------------------------

    def _header(self, key: str) -> str | None:
        if not self.parsed and self.raw is not None and self.raw.header is not None:
            return self.raw.header.get(key)
        try:
            obj = self.obj
        except yamlio.YamlError:
            return None
        if key in ("name", "namespace"):
            meta = obj.get("metadata")
            value = meta.get(key) if isinstance(meta, dict) else None
        else:
            value = obj.get(key)
        return None if value is None else str(value)

    @property
    def kind(self) -> str | None:
        return self._header("kind")

    @property
    def api_version(self) -> str | None:
        return self._header("apiVersion")

    @property
    def name(self) -> str | None:
        return self._header("name")

    @property
    def namespace(self) -> str | None:
        return self._header("namespace")

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """(group, kind, namespace, name): what kustomize and kpt treat as the same object."""
        api_version = self.api_version or ""
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        return (group, self.kind or "", self.namespace or "", self.name or "")

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.api_version or "", self.kind or "", self.name or "", self.namespace)

    def mentions(self, text: str) -> bool:
        """Cheap test: does the original text contain `text` (always True once parsed only)?"""
        return self.raw is None or text in self.raw.text

    # -- where it came from -------------------------------------------------------------------

    def annotations(self) -> dict:
        try:
            meta = self.obj.get("metadata")
        except yamlio.YamlError:
            return {}
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        return annotations if isinstance(annotations, dict) else {}

    def location(self, field_path: list[str | int] | None = None) -> Location:
        """The user's file (and line, when read from a file) of this object or of one field."""
        if self.file is not None:
            line = self.raw.content_line if self.raw else None
            if field_path and self.raw is not None:
                # The field's line, or its nearest existing parent's (a missing field's).
                for depth in range(len(field_path), 0, -1):
                    field_line = _field_line(self.raw, field_path[:depth])
                    if field_line is not None:
                        line = field_line
                        break
            return Location(self.file, line)
        if self.raw is None:
            return Location()
        annotations = self.annotations() if self.parse_error() is None else _annotations_in_text(self.raw.text)
        path = next((str(annotations[a]) for a in PATH_ANNOTATIONS if annotations.get(a)), None)
        if path is None and isinstance(annotations.get(ORIGIN_ANNOTATION), str):
            path = _origin_path(annotations[ORIGIN_ANNOTATION])
        index = next((annotations[a] for a in INDEX_ANNOTATIONS if annotations.get(a) is not None), None)
        try:
            index = int(index) if index is not None else None
        except (TypeError, ValueError):
            index = None
        return Location(path, None, index)


def _origin_path(origin: str) -> str | None:
    """The `path:` of a kustomize origin annotation (a local file; not for a remote resource)."""
    fields = dict(line.split(":", 1) for line in origin.splitlines() if ":" in line and not line.startswith(" "))
    if "repo" in fields:
        return None  # a remote base: the path is inside another repository
    path = fields.get("path", "").strip().strip("'\"")
    return path or None


# An annotation line kpt writes (`config.kubernetes.io/path: 'apps/x.yaml'`), read from the text
# of an object that does not parse, so that its error still names its own file.
_LOCATION_LINE = re.compile(
    r"""^[ ]+['"]?((?:internal\.)?config\.kubernetes\.io/(?:path|index))['"]?:[ ]+"""
    r"""(?:'((?:[^'\n]|'')*)'|"([^"\\\n]*)"|([^'"\s#][^\n#]*?))[ ]*(?:[ ]\#[^\n]*)?$""",
    re.M,
)


def _annotations_in_text(text: str) -> dict:
    """The path and index annotations as they read in the text (the first of each)."""
    found: dict = {}
    for match in _LOCATION_LINE.finditer(text):
        single, double, plain = match.group(2, 3, 4)
        value = single.replace("''", "'") if single is not None else double if double is not None else plain
        found.setdefault(match.group(1), value)
    return found


def _field_line(raw: yamlio.RawItem, path: list[str | int]) -> int | None:
    try:
        nodes = yamlio.compose_documents(raw.text)
    except yamlio.YamlError:
        return None
    if not nodes:
        return None
    node = nodes[0]
    if raw.form == "entry":
        node = node.value[0] if getattr(node, "value", None) else None
    line = yamlio.node_line(node, path)
    return None if line is None else line + raw.line - 1
