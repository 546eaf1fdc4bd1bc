"""Strict loading: libyaml parsing with go-yaml v3 resolution, duplicate keys and alias bombs refused.

PyYAML (~25 ms to import) is imported on first use, not with this module (start-up budget:
docs/startup.md); functions that take its node classes import them inside for the same reason.
"""

from __future__ import annotations

from types import SimpleNamespace

from krm_fn.yaml import read
from krm_fn.yaml.errors import YamlError, _yaml_error
from krm_fn.yaml.resolve import _GO_IMPLICIT, _MAYBE_NOT_STR, _SCALARS, MAP, MERGE, SEQ, STR, _go_float, _go_int

MAX_EXPANDED_NODES = 1_000_000  # nodes after expanding aliases; a 2,000-item list has ~200k
Node = object  # a yaml.nodes.Node (PyYAML is imported lazily, so not named here)


# --- PyYAML classes, built on first use ------------------------------------------------------

_PY: SimpleNamespace | None = None


def _py() -> SimpleNamespace:
    """PyYAML and the loader classes built on it (imported lazily: ~25 ms); emit.py adds the dumpers."""
    global _PY
    if _PY is not None:
        return _PY
    import yaml  # start-up budget: docs/startup.md
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.events import AliasEvent
    from yaml.nodes import ScalarNode, SequenceNode  # start-up budget: docs/startup.md
    from yaml.resolver import BaseResolver

    try:
        from yaml._yaml import CEmitter as Emitter
        from yaml._yaml import CParser as Parser
    except ImportError:  # PyYAML without libyaml: slower, same results
        from yaml.emitter import Emitter as PyEmitter
        from yaml.parser import Parser as PyParser
        from yaml.reader import Reader
        from yaml.scanner import Scanner
        from yaml.serializer import Serializer

        class Parser(Reader, Scanner, PyParser, Composer):  # type: ignore[no-redef]
            def __init__(self, stream: str):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                PyParser.__init__(self)
                Composer.__init__(self)

        class Emitter(PyEmitter, Serializer):  # type: ignore[no-redef]
            def __init__(self, stream, width=None, allow_unicode=None, explicit_start=None, **_):
                PyEmitter.__init__(self, stream, width=width, allow_unicode=allow_unicode)
                Serializer.__init__(self, explicit_start=explicit_start)

    class GoYamlResolver(BaseResolver):
        """Implicit tags of go-yaml v3, which every consumer of our output uses.

        `resolve` runs for every scalar libyaml composes; this one does what BaseResolver
        would do with the implicit resolvers below, minus its generic bookkeeping.
        """

        def resolve(self, kind, value, implicit):  # type: ignore[override]
            if kind is ScalarNode:
                if implicit[0] and (not value or value[0] in _MAYBE_NOT_STR):
                    for tag, pattern in _GO_IMPLICIT:
                        if pattern.match(value):
                            return tag
                return STR
            return SEQ if kind is SequenceNode else MAP

    for tag, pattern in _GO_IMPLICIT:  # for the generic machinery (the pure-Python serializer)
        GoYamlResolver.add_implicit_resolver(tag, pattern, None)

    class Constructor(SafeConstructor):
        def construct_go_int(self, node: ScalarNode) -> int:
            return _go_int(node.value)

        def construct_go_float(self, node: ScalarNode) -> float:
            return _go_float(node.value)

    Constructor.add_constructor("tag:yaml.org,2002:int", Constructor.construct_go_int)
    Constructor.add_constructor("tag:yaml.org,2002:float", Constructor.construct_go_float)
    Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)

    def construct_set(constructor: SafeConstructor, node):  # a dict, not a set: ordered, as go-yaml reads it
        mapping: dict = {}
        yield mapping
        mapping.update(constructor.construct_mapping(node))

    Constructor.add_constructor("tag:yaml.org,2002:set", construct_set)

    def construct_untagged(constructor: SafeConstructor, node):
        """A tag nothing here knows (`!secret x`, `!Find [a, b]`): its value, as go-yaml v3 decodes it."""
        if isinstance(node, ScalarNode):
            return constructor.construct_scalar(node)
        if isinstance(node, SequenceNode):
            return constructor.construct_yaml_seq(node)  # generators, as PyYAML's own (for recursion)
        return constructor.construct_yaml_map(node)

    Constructor.add_constructor(None, construct_untagged)

    class StrictLoader(Parser, Constructor, GoYamlResolver):
        """libyaml parser + go-yaml v3 resolution; node checks happen in `compose_documents`."""

        def __init__(self, stream: str):
            Parser.__init__(self, stream)
            Constructor.__init__(self)
            GoYamlResolver.__init__(self)

    class AnchorRedefiningComposer(Composer):
        """go-yaml v3's anchors: a redefined anchor replaces the old one for the aliases after it.

        PyYAML (and libyaml's composer) refuse a second `&name` in one document, which YAML 1.2
        allows and kustomize, kpt and Flux accept. Only used when the fast composer refused one.
        """

        def compose_node(self, parent, index):  # type: ignore[override]
            event = self.peek_event()
            if event.anchor is not None and not isinstance(event, AliasEvent):
                self.anchors.pop(event.anchor, None)
            return super().compose_node(parent, index)

    class RedefiningLoader(AnchorRedefiningComposer, Parser, Constructor, GoYamlResolver):
        """StrictLoader with a Python composer over the same parser's events."""

        def __init__(self, stream: str):
            Parser.__init__(self, stream)
            AnchorRedefiningComposer.__init__(self)
            Constructor.__init__(self)
            GoYamlResolver.__init__(self)

    _PY = SimpleNamespace(
        yaml=yaml,
        StrictLoader=StrictLoader,
        RedefiningLoader=RedefiningLoader,
        GoYamlResolver=GoYamlResolver,
        Emitter=Emitter,
    )
    return _PY


# --- node checks ---------------------------------------------------------------------------


def _check_node(node: Node) -> None:
    """Refuse duplicate mapping keys and alias bombs, without recursion."""
    from yaml.nodes import MappingNode, ScalarNode  # start-up budget: docs/startup.md

    expanded: dict[int, int] = {}  # id(node) -> node count once aliases are expanded
    started: set[int] = set()  # nodes whose children are being checked: met again only through a cycle
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in expanded:
            continue
        if not children_done and key in started:
            mark = current.start_mark
            raise YamlError(
                "an alias refers to a collection that contains it (a recursive alias: kustomize overflows "
                "its stack on it); replace the alias with the value",
                mark.line + 1,
                mark.column + 1,
            )
        if isinstance(current, ScalarNode):
            expanded[key] = 1
            continue
        children = [n for pair in current.value for n in pair] if isinstance(current, MappingNode) else current.value
        if not children_done:
            if isinstance(current, MappingNode):
                _check_duplicate_keys(current, ScalarNode)
            started.add(key)
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in expanded)
            continue
        total = 1 + sum(expanded.get(id(child), 1) for child in children)
        if total > MAX_EXPANDED_NODES:
            mark = current.start_mark
            raise YamlError(
                f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases "
                "(an alias bomb?); remove the anchors and aliases",
                mark.line + 1,
                mark.column + 1,
            )
        expanded[key] = total


def _check_duplicate_keys(node: Node, scalar_type: type) -> None:
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, scalar_type):
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in seen and key_node.tag != "tag:yaml.org,2002:merge":
            raise YamlError(
                f"duplicate key {key_node.value!r} (first defined at line {seen[key_node.value]}); "
                "YAML readers disagree on which one wins, so merge the two blocks",
                line,
                key_node.start_mark.column + 1,
                related=seen[key_node.value],
            )
        seen[key_node.value] = line


class Document:
    """One parsed YAML document and where it starts (1-based line, 0-based index)."""

    __slots__ = ("data", "index", "line", "node")

    def __init__(self, data: object, line: int, index: int, node: Node = None):
        self.data, self.line, self.index, self.node = data, line, index, node


def compose_documents(text: str, check: bool = True) -> list[Node]:
    """Parse to nodes; checked (duplicate keys and alias bombs refused) unless told not to.

    Anchors are scoped per document and may be redefined, as in go-yaml v3.
    """
    py = _py()
    try:
        return _compose(py.StrictLoader(text), check)
    except py.yaml.YAMLError as exc:
        if "duplicate anchor" not in str(getattr(exc, "context", None)):
            raise _yaml_error(exc) from None
    try:
        return _compose(py.RedefiningLoader(text), check)
    except py.yaml.YAMLError as exc:
        raise _yaml_error(exc) from None


def _compose(loader: object, check: bool) -> list[Node]:
    nodes = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if check:
                _check_node(node)
            nodes.append(node)
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None
    finally:
        loader.dispose()
    return nodes


def construct(node: Node) -> object:
    """Python data of a checked node."""
    py = _py()
    loader = py.StrictLoader("")
    try:
        return loader.construct_document(node)
    except py.yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except (ValueError, TypeError, OverflowError):  # an explicit tag on text that is not one (`!!float x`)
        mark = node.start_mark
        raise YamlError("a tagged value does not match its tag", mark.line + 1, mark.column + 1) from None
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


class _Unusual(Exception):
    """A node `_to_python` leaves to PyYAML's constructor (merge keys, explicit tags)."""


def _to_python(root: Node) -> object:
    """Python data of a composed node, refusing duplicate keys; ~3x faster than PyYAML's
    SafeConstructor for the plain maps, lists and scalars of Kubernetes objects.

    Raises _Unusual for what it leaves to PyYAML (merge keys, explicit tags).
    """
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # start-up budget: docs/startup.md

    memo: dict[int, object] = {}  # aliases: the same node gives the same object

    def build(node: Node) -> object:
        kind = type(node)
        if kind is ScalarNode:
            if node.tag == STR:
                return node.value
            convert = _SCALARS.get(node.tag)
            if convert is None:
                raise _Unusual
            try:
                return convert(node.value)
            except ValueError:  # `!!int abc`
                mark = node.start_mark
                raise YamlError(f"a value tagged {node.tag} is not one", mark.line + 1, mark.column + 1) from None
        done = memo.get(id(node))
        if done is not None:
            return done
        if kind is MappingNode and node.tag == MAP:
            mapping: dict = {}
            memo[id(node)] = mapping
            for key_node, value_node in node.value:
                if key_node.tag == MERGE:
                    raise _Unusual
                key = build(key_node)
                try:
                    duplicate = key in mapping
                except TypeError:
                    mark = key_node.start_mark
                    raise YamlError("a mapping key is a list or a map", mark.line + 1, mark.column + 1) from None
                if duplicate:
                    _check_duplicate_keys(node, ScalarNode)  # raises with both lines
                    mark = key_node.start_mark
                    raise YamlError("two keys of one mapping mean the same value", mark.line + 1, mark.column + 1)
                mapping[key] = build(value_node)
            return mapping
        if kind is SequenceNode and node.tag == SEQ:
            sequence: list = []
            memo[id(node)] = sequence
            for child in node.value:
                sequence.append(build(child))
            return sequence
        raise _Unusual

    return build(root)


def _load_node(node: Node, may_alias: bool) -> object:
    """Checked Python data of a node that `compose_documents(check=False)` returned."""
    if may_alias:
        _check_node(node)  # alias bombs (and duplicate keys)
    try:
        return _to_python(node)
    except _Unusual:
        if not may_alias:
            _check_node(node)
        return construct(node)
    except RecursionError:
        raise YamlError("YAML nested too deeply") from None


def load_documents(text: str, keep_nodes: bool = False) -> list[Document]:
    """Every document of a YAML stream; empty documents are skipped."""
    docs = []
    may_alias = "*" in text
    for index, node in enumerate(compose_documents(text, check=False)):
        data = _load_node(node, may_alias)
        if data is None:
            continue
        docs.append(Document(data, node.start_mark.line + 1, index, node if keep_nodes else None))
    return docs


def load_one(text: str) -> object:
    """The single document of `text` (None when empty)."""
    try:
        return read.read(text)  # without PyYAML when read.py is sure (issue 25)
    except read.Unsure:
        pass
    docs = load_documents(text)
    if len(docs) > 1:
        raise YamlError("expected one YAML document, found several", docs[1].line)
    return docs[0].data if docs else None


def node_line(node: Node, path: list[str | int]) -> int | None:
    """1-based line of the value at `path` below a mapping/sequence node, if it exists."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # start-up budget: docs/startup.md

    current = node
    line = None  # the key's line for a mapping entry (a block value starts on the next line)
    for part in path:
        if isinstance(current, MappingNode):
            pair = next(((k, v) for k, v in current.value if isinstance(k, ScalarNode) and k.value == part), None)
            if pair is None:
                return None
            line, current = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(current, SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            return None
    return line if path else (current.start_mark.line + 1 if current is not None else None)
