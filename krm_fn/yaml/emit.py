"""Emitting: generated objects as YAML every reader types the same, and composed nodes back to text."""

from __future__ import annotations

from types import SimpleNamespace

from krm_fn.yaml import direct
from krm_fn.yaml.load import Node, _py, _Unusual
from krm_fn.yaml.resolve import _MAYBE_NOT_STR, BOOL, INT, MAP, NULL, SEQ, STR, plain_is_str

_DUMPERS: SimpleNamespace | None = None


def _dumpers() -> SimpleNamespace:
    """The dumper classes, built on first use on top of the loader's PyYAML classes."""
    global _DUMPERS
    if _DUMPERS is not None:
        return _DUMPERS
    py = _py()
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # start-up budget: docs/startup.md
    from yaml.representer import SafeRepresenter
    from yaml.resolver import Resolver

    Emitter, GoYamlResolver = py.Emitter, py.GoYamlResolver

    # First characters ("" for the empty scalar) of what YAML 1.1 or go-yaml v3 may read as a non-string.
    maybe_not_str = frozenset(key for key in Resolver.yaml_implicit_resolvers if key is not None) | _MAYBE_NOT_STR
    plain_checks_all = None not in Resolver.yaml_implicit_resolvers and not Resolver.yaml_path_resolvers

    class UnambiguousResolver(Resolver):
        """Quote a string whenever YAML 1.1 *or* go-yaml v3 would read it as non-string."""

        def resolve(self, kind, value, implicit):  # type: ignore[override]
            # libyaml's emitter asks twice for each scalar (as plain, then as quoted): answer the
            # common cases here, which is what the generic machinery below would conclude.
            if kind is ScalarNode and plain_checks_all and (not implicit[0] or value[:1] not in maybe_not_str):
                return STR
            tag = super().resolve(kind, value, implicit)
            if kind is ScalarNode and implicit[0] and tag == "tag:yaml.org,2002:str":
                return GoYamlResolver.resolve(self, kind, value, implicit)
            return tag

    class Representer(SafeRepresenter):
        def represent_str(self, data: str) -> ScalarNode:
            if "\n" in data and _block_safe(data):
                return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")
            return super().represent_str(data)

    Representer.add_representer(str, Representer.represent_str)
    Representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))

    def generated_node(data: object, seen: dict[int, Node]) -> Node:
        """The node GeneratedDumper's representer makes of `data`, for the types generated objects hold.

        A third of the cost of emitting them, as a plain recursion. As in PyYAML, a dict or list met
        twice becomes one node (the emitter anchors it); strings, numbers and null never do.
        """
        kind = type(data)
        if kind is str:
            return ScalarNode(STR, data, style="|" if "\n" in data and _block_safe(data) else None)
        if kind is dict or kind is list:
            node = seen.get(id(data))
            if node is not None:
                return node
            if kind is dict:
                pairs: list = []
                node = seen[id(data)] = MappingNode(MAP, pairs, flow_style=False)
                for key, value in data.items():  # type: ignore[attr-defined]
                    pairs.append((generated_node(key, seen), generated_node(value, seen)))
            else:
                entries: list = []
                node = seen[id(data)] = SequenceNode(SEQ, entries, flow_style=False)
                for value in data:  # type: ignore[attr-defined]
                    entries.append(generated_node(value, seen))
            return node
        if kind is bool:
            return ScalarNode(BOOL, "true" if data else "false")
        if kind is int:
            return ScalarNode(INT, str(data))
        if data is None:
            return ScalarNode(NULL, "null")
        raise _Unusual

    class GeneratedDumper(Emitter, Representer, UnambiguousResolver):
        def __init__(self, stream, **kwargs):
            Emitter.__init__(self, stream, width=1 << 30, allow_unicode=True, explicit_start=False)
            Representer.__init__(self, default_style=None, default_flow_style=False, sort_keys=False)
            UnambiguousResolver.__init__(self)

    class FaithfulDumper(Emitter, GoYamlResolver):
        """Serializes composed nodes; scalars keep their text and style."""

        def __init__(self, stream, **kwargs):
            Emitter.__init__(self, stream, width=1 << 30, allow_unicode=True, explicit_start=False)
            GoYamlResolver.__init__(self)

    resolver = UnambiguousResolver()

    def plain_is_str(text: str) -> bool:
        """What the emitter asks the resolver: does this text, written plain, read as a string?
        (resolve.plain_is_str answers the same without PyYAML; tests hold the two together.)"""
        return resolver.resolve(ScalarNode, text, (True, False)) == STR

    _DUMPERS = SimpleNamespace(
        yaml=py.yaml,
        GeneratedDumper=GeneratedDumper,
        generated_node=generated_node,
        FaithfulDumper=FaithfulDumper,
        plain_is_str=plain_is_str,
    )
    return _DUMPERS


def _block_safe(text: str) -> bool:
    """Literal block style keeps the text exactly only without trailing spaces or tabs."""
    return not any(line != line.rstrip(" \t") for line in text.split("\n")) and not text.startswith((" ", "\n"))


def dump_document(obj: object) -> str:
    """One generated object as a YAML document (block style, keys in insertion order)."""
    return _dump(obj, as_entry=False)


def dump_sequence_entry(obj: object) -> str:
    """One generated object as a `- ...` entry of a block sequence at column 0."""
    return _dump(obj, as_entry=True)


_MEMO: dict[str, str] = {}  # one-line strings already written (krm_fn/yaml/direct.py)


def _dump(obj: object, as_entry: bool) -> str:
    # Written directly, PyYAML is not even imported (issue 25: ~10 ms of a warm run); it writes
    # only what direct.py does not prove.
    text = direct.emit(obj, plain_is_str, as_entry, _MEMO) if type(obj) is dict else None
    if text is None:
        text = _dump_generated([obj] if as_entry else obj)
    return text


def _dump_generated(data: object) -> str:
    """Through PyYAML: what krm_fn/yaml/direct.py does not prove (and, in tests, its reference)."""
    py = _dumpers()
    try:
        node = py.generated_node(data, {})
    except _Unusual:  # a float, bytes, a subclass...: PyYAML's representers know them all
        return py.yaml.dump(data, Dumper=py.GeneratedDumper)
    return py.yaml.serialize(node, Dumper=py.GeneratedDumper)


def serialize_node(node: Node) -> str:
    """A composed node back to text, every scalar in its original style."""
    py = _dumpers()
    return py.yaml.serialize(node, Dumper=py.FaithfulDumper)
