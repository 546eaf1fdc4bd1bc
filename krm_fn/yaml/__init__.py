"""YAML in and out: strict parsing, faithful pass-through, safe emitting. Nothing about Kubernetes.

* `resolve`: scalar typing as go-yaml v3 (kustomize, kpt, Flux) does it.
* `load`: `load_documents` parses with libyaml, refuses duplicate keys (PyYAML keeps the last one
  silently) and bounds alias expansion (billion laughs); `load_one` first asks `read`, which reads
  the block YAML kpt writes without PyYAML and is unsure of anything else.
* `emit`: `dump_*` quote every string that a YAML 1.1 or a YAML 1.2 reader could take for
  something else; `serialize_node` writes composed nodes back in their original styles.
* `split`: `split_resource_list` / `split_documents` cut input into the original text of each item,
  with `scan` (flags and spans found on the text) and `header` (apiVersion, kind, name read plainly).

Error messages carry a line and column but never the offending text: the input may be a
Secret. PyYAML is imported on first use, not with this package, and a normal run never uses it.
"""

from krm_fn.yaml.emit import dump_document, dump_sequence_entry, serialize_node
from krm_fn.yaml.errors import YamlError
from krm_fn.yaml.load import (
    MAX_EXPANDED_NODES,
    Document,
    Node,
    compose_documents,
    construct,
    load_documents,
    load_one,
    node_line,
)
from krm_fn.yaml.split import (
    RawItem,
    SplitResourceList,
    as_document,
    as_entry,
    parse_raw_item,
    split_documents,
    split_resource_list,
)

__all__ = [
    "MAX_EXPANDED_NODES",
    "Document",
    "Node",
    "RawItem",
    "SplitResourceList",
    "YamlError",
    "as_document",
    "as_entry",
    "compose_documents",
    "construct",
    "dump_document",
    "dump_sequence_entry",
    "load_documents",
    "load_one",
    "node_line",
    "parse_raw_item",
    "serialize_node",
    "split_documents",
    "split_resource_list",
]
