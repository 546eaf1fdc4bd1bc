"""What a SOPS-encrypted file looks like, read without the key. Nothing here is a rule.

* `enc_problem`: is a value a well-formed `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`, as
  sops 3.11 writes it (iv 32 bytes, tag 16 bytes, a type sops knows)?
* `metadata_problems`: is a `sops` block complete enough for sops to decrypt the file (mac,
  lastmodified, version, at least one complete recipient)?
* `reference_kind`: is a value a reference to a secret kept elsewhere (1Password, Vault,
  argocd-vault-plugin, vals, a Flux substitution placeholder) rather than a secret?

The rules that use them are in krm_fn/checks/secrets.py (reading values: secret_values.py). Problems
name fields, never values.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from krm_fn.checks.base import dotted
from krm_fn.placeholders import is_placeholder

# What sops 3.11 writes for each value: AES-GCM with a 32-byte nonce and a 16-byte tag.
_ENC = re.compile(
    r"ENC\[AES256_GCM,data:(?P<data>[A-Za-z0-9+/=]*),iv:(?P<iv>[A-Za-z0-9+/=]*),"
    r"tag:(?P<tag>[A-Za-z0-9+/=]*),type:(?P<type>[a-z0-9]*)\]"
)
IV_BYTES = 32
TAG_BYTES = 16
MAC_BYTES = 128  # the MAC is a SHA-512 in uppercase hex, encrypted as a str
VALUE_TYPES = frozenset({"str", "int", "int64", "float", "bool", "bytes", "time", "comment"})

# Recipient kinds of the sops metadata and the fields sops needs to use each one.
RECIPIENT_FIELDS: dict[str, tuple[str, ...]] = {
    "age": ("recipient", "enc"),
    "pgp": ("fp", "enc", "created_at"),
    "kms": ("arn", "enc", "created_at"),
    "gcp_kms": ("resource_id", "enc", "created_at"),
    "azure_kv": ("vault_url", "name", "version", "enc", "created_at"),
    "hc_vault": ("vault_address", "engine_path", "key_name", "enc", "created_at"),
    "hckms": ("key_id", "enc"),
}
_TIME_FIELDS = ("created_at",)
# Go's time.RFC3339, which sops parses lastmodified and created_at with.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_AGE_ARMOR = "-----BEGIN AGE ENCRYPTED FILE-----"


def b64_strict(text: str) -> bytes | None:
    """Strict standard base64 (padding required, nothing after it), or None."""
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if base64.b64encode(decoded).decode() == text else None


def enc_problem(value: object) -> str | None:
    """Why `value` is not a well-formed sops value, or None when it is one. Never quotes it."""
    return parse_enc(value)[0]


def parse_enc(value: object) -> tuple[str | None, bytes]:
    """(problem or None, decoded data part) of a sops value."""
    if not isinstance(value, str):
        return f"is a plaintext {type(value).__name__}, not a sops ENC[...] value", b""
    if not value.startswith("ENC["):
        return "is plaintext, not a sops ENC[AES256_GCM,...] value", b""
    match = _ENC.fullmatch(value)
    if match is None:
        return "is not a well-formed ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value", b""
    data, iv, tag = (b64_strict(match[part]) for part in ("data", "iv", "tag"))
    if not data:
        return "has an ENC[...] data part that is not non-empty base64", b""
    if iv is None or len(iv) != IV_BYTES:
        return f"has an ENC[...] iv that is not base64 of {IV_BYTES} bytes", data
    if tag is None or len(tag) != TAG_BYTES:
        return f"has an ENC[...] tag that is not base64 of {TAG_BYTES} bytes", data
    if match["type"] not in VALUE_TYPES:
        return f"has an ENC[...] type that sops does not know (known: {', '.join(sorted(VALUE_TYPES))})", data
    return None, data


# Values that name a secret kept elsewhere, filled in by a tool before the Secret reaches the cluster.
# Each is recognised only as the whole (one-line) value: text around it could be a secret.
_REFERENCES = (
    # op://vault/item/[section/]field; 1Password names may hold spaces ("op://Automation/1password connect/token")
    (re.compile(r"op://[^/\r\n]+/[^/\r\n]+(/[^/\r\n]+)+"), "1Password reference (op://)"),
    (re.compile(r"vault:[^\s]+"), "Vault reference (vault:, as bank-vaults injects)"),
    (re.compile(r"<path:[^\s<>]+>"), "argocd-vault-plugin placeholder (<path:...>)"),
    (re.compile(r"ref\+[a-z0-9]+://[^\s]+"), "vals reference (ref+...)"),
)


def reference_kind(value: object) -> str | None:
    """What kind of reference to a secret kept elsewhere `value` is, or None when it is not one.

    A `data` value is read as base64 first. A value that is only a Flux substitution placeholder
    (`${TOKEN}`) is filled in by Flux's postBuild.substituteFrom, usually from a Secret.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if is_placeholder(text):
        return "Flux substitution placeholder (${...})"
    for pattern, kind in _REFERENCES:
        if pattern.fullmatch(text):
            return kind
    return None


def metadata_problems(sops: object) -> Iterator[tuple[list[str | int], str]]:
    """(field path, problem) for each defect of a sops metadata block."""
    if not isinstance(sops, dict):
        yield ["sops"], "the sops block is not a mapping"
        return
    mac = sops.get("mac")
    if not mac:
        yield ["sops", "mac"], "sops.mac is missing"
    else:
        problem, data = parse_enc(mac)
        if problem is None and len(data) != MAC_BYTES:
            problem = f"is not an encrypted SHA-512 (its data part is {len(data)} bytes, not {MAC_BYTES})"
        if problem is not None:
            yield ["sops", "mac"], f"sops.mac {problem}"
    lastmodified = sops.get("lastmodified")
    if not lastmodified:
        yield ["sops", "lastmodified"], "sops.lastmodified is missing"
    elif not (isinstance(lastmodified, str) and _RFC3339.fullmatch(lastmodified)):
        yield ["sops", "lastmodified"], "sops.lastmodified is not an RFC 3339 time"
    version = sops.get("version")
    if version is None or version == "" or isinstance(version, dict | list | bool):
        yield ["sops", "version"], "sops.version is missing"

    recipients = 0
    groups: list[tuple[list[str | int], object]] = [(["sops"], sops)]
    key_groups = sops.get("key_groups")
    if isinstance(key_groups, list):
        groups.extend((["sops", "key_groups", i], g) for i, g in enumerate(key_groups))
    elif key_groups is not None:
        yield ["sops", "key_groups"], "sops.key_groups is not a list"
    for base, group in groups:
        if not isinstance(group, dict):
            yield base, f"{dotted(base)} is not a mapping"
            continue
        for kind, fields in RECIPIENT_FIELDS.items():
            entries = group.get(kind)
            if entries is None:
                continue
            if not isinstance(entries, list):
                yield [*base, kind], f"{dotted([*base, kind])} is not a list"
                continue
            for index, entry in enumerate(entries):
                where = [*base, kind, index]
                problem = _recipient_problem(kind, entry, fields)
                if problem is None:
                    recipients += 1
                else:
                    yield where, f"{dotted(where)} {problem}"
    if recipients == 0:
        yield (
            ["sops"],
            (
                f"the sops block has no complete recipient (one of {', '.join(RECIPIENT_FIELDS)}, "
                "or key_groups of them), so no one can decrypt the file"
            ),
        )


def _recipient_problem(kind: str, entry: object, fields: tuple[str, ...]) -> str | None:
    if not isinstance(entry, dict):
        return "is not a mapping"
    missing = [f for f in fields if not isinstance(entry.get(f), str) or not entry.get(f)]
    if missing:
        return f"lacks {', '.join(missing)}"
    for field in _TIME_FIELDS:
        if field in fields and not _RFC3339.fullmatch(entry[field]):
            return f"has a {field} that is not an RFC 3339 time"
    if kind == "age" and _AGE_ARMOR not in entry["enc"]:
        return "has an enc that is not an armored age file"
    return None
