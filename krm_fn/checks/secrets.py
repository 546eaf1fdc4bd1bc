"""Rules: SOPS-encrypted Secrets, checked without the key.

What the rules can see without the age (or KMS, PGP...) key, and so check:
  * the stack Secret (`spec.secret.name` in `spec.namespace`) is in the pipeline and holds the
    keys the stack reads (those two rules: krm_fn/checks/stack_secret.py);
  * every value under `data` and `stringData` of a Secret with a `sops` block is a well-formed
    `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]` (iv 32 bytes, tag 16 bytes), so a value
    left in plaintext by a narrow `encrypted_regex` or pasted in by hand is caught, even though
    `sops decrypt` accepts such a file with a valid MAC;
  * the `sops` block has `mac`, `lastmodified`, `version` and at least one complete recipient;
  * every other Secret is encrypted at all.

What they cannot see: the MAC and each value's tag are keyed by the data key, which only a
recipient's private key unwraps. So a ciphertext pasted onto another key, metadata edited after
encryption, or a deleted key (beyond the required ones) pass these rules; only `sops decrypt`
with the key finds them (docs/reference/consumers.md#5-sops-and-age). Nor can they see whether a
value ends in a newline (the ciphertext has the plaintext's length, not its bytes).

Out of scope: the encryption of Secrets made at build time by a kustomize `secretGenerator` (their
values are not in the user's files; kustomize marks them with
`internal.config.kubernetes.io/generatorBehavior` and the encryption rules skip them; a stack
Secret made so is still checked for its keys, and for the name suffix kustomize would add), and
Secrets referenced only by name (say by `valuesFrom`) but not in the pipeline.

Messages name keys (`stringData.pushover-user-key`), never values. What a SOPS file looks like
(ENC values, the metadata block, references to secrets kept elsewhere) is in krm_fn/sops.py; how
the rules read a Secret's values and tell which hold no credential, in krm_fn/checks/secret_values.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dotted, result, rule
from krm_fn.checks.secret_values import (
    _CREDENTIAL_PARAM,
    _encrypt,
    _file,
    _generated_by_kustomize,
    _holds_nothing,
    _is_plaintext,
    _reference,
    _selector_reason,
    _sops_block,
    _values,
)
from krm_fn.checks.stack_secret import external_made, is_stack_secret
from krm_fn.items import Item
from krm_fn.results import Result, Severity
from krm_fn.sops import enc_problem, metadata_problems

ENCRYPTED = "sops-encrypted"
METADATA = "sops-metadata"
PLAINTEXT = "secret-plaintext"


# --- encryption of every Secret ------------------------------------------------------------


def _checked_secrets(ctx: CheckContext) -> Iterator[Item]:
    """The user's Secrets whose values are in the files (secretGenerator output is not); in
    ExternalSecret mode, not the stack Secret (rule `external-secret`)."""
    external = external_made(ctx.config)
    for item in ctx.user_objects("Secret"):
        if _generated_by_kustomize(item):
            continue
        if external and ctx.config is not None and is_stack_secret(item, ctx.config):
            continue
        yield item


def _has_values(item: Item) -> bool:
    return any(not _holds_nothing(value) for _, value in _values(item))


def _encrypted_whole(ctx: CheckContext) -> Iterator[Result]:
    """Objects whose apiVersion or kind sops encrypted too (no encrypted_regex): no tool can read them."""
    for position, item in enumerate(ctx.pipeline, start=1):
        if not (item.mentions("ENC[AES256_GCM") and item.mentions("sops")) or item.parse_error() is not None:
            continue
        header = [item.obj.get("apiVersion"), item.obj.get("kind")]
        if "sops" in item.obj and any(isinstance(v, str) and v.startswith("ENC[") for v in header):
            location = item.location()
            which = "an object" if location.path else f"item {position} of the input (its file is not known here)"
            yield result(
                ENCRYPTED,
                Severity.ERROR,
                f"{which} has its apiVersion, kind and metadata encrypted (sops ran without encrypted_regex), "
                "so kustomize, kpt and Flux cannot tell what it is; decrypt it and encrypt it again with "
                f"`{_encrypt(item, position)}`",
                None,
                location=location,
            )


@rule(
    ENCRYPTED,
    Severity.ERROR,
    "every value of the stack's Secret is encrypted, and of other sops Secrets every value their selector covers "
    "(values it leaves clear on purpose: a warning)",
)
def secret_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """The stack Secret, and every Secret with a sops block, has every value in ENC[...] form."""
    config = ctx.config
    yield from _encrypted_whole(ctx)
    for item in _checked_secrets(ctx):
        sops = _sops_block(item)
        stack = config is not None and is_stack_secret(item, config)
        if sops is None:
            if stack:
                looks = any(isinstance(v, str) and v.startswith("ENC[") for _, v in _values(item))
                why = (
                    "its values look encrypted but the sops block is missing, so nothing can decrypt them; "
                    if looks
                    else ""
                )
                yield result(
                    ENCRYPTED,
                    Severity.ERROR,
                    f"is not SOPS-encrypted (no sops metadata): {why}encrypt it with `{_encrypt(item)}` "
                    "before it is committed",
                    item,
                )
            continue  # other Secrets without sops metadata: secret-plaintext
        selector = sops if isinstance(sops, dict) else {}
        for path, value in _values(item):
            if _holds_nothing(value):
                continue
            problem = enc_problem(value)
            if problem is None:
                continue
            if _is_plaintext(problem):
                reason = _selector_reason(selector, path)
                if reason and not stack:
                    yield _left_clear(item, path, reason)
                    continue
                fix = (
                    f"{reason}; decrypt the file and encrypt it again with `{_encrypt(item)}`"
                    if reason
                    else f"it was probably edited after encryption; set it with `sops edit {_file(item)}`"
                )
                message = f"value {problem}: {fix}"
            else:
                message = (
                    f"value {problem}: the file was damaged after encryption; restore it from git or re-encrypt it"
                )
            yield result(ENCRYPTED, Severity.ERROR, message, item, path)


def _left_clear(item: Item, path: list[str | int], reason: str) -> Result:
    """A value the file's sops selector leaves in clear on purpose: a warning (the stack's Secret: an error)."""
    return result(
        ENCRYPTED,
        Severity.WARNING,
        f"value is in clear: {reason}, so sops leaves it in clear on purpose; fine for a value that is not secret, "
        f"otherwise widen the selector and encrypt the file again with `{_encrypt(item)}`",
        item,
        path,
    )


@rule(
    PLAINTEXT,
    Severity.ERROR,
    "every other Secret is SOPS-encrypted unless its values hold no credential (references: op://, vault:, "
    "<path:...>, ref+..., ${VAR}; URLs without a password; paths; an info line); "
    "spec.checks.plaintextSecrets: warning relaxes it",
)
def secret_plaintext(ctx: CheckContext) -> Iterator[Result]:
    """Every other Secret that holds values has a sops block at all.

    Values that are references to a secret kept elsewhere (op://, vault:, <path:...>, ref+...,
    a lone ${VAR}) are not plaintext secrets: a Secret holding only those gets one info line.
    """
    config = ctx.config
    severity = Severity.ERROR if config is None else config.plaintext_secrets_severity
    for item in _checked_secrets(ctx):
        if _sops_block(item) is not None or (config is not None and is_stack_secret(item, config)):
            continue
        if not _has_values(item):
            continue
        plain: list[list[str | int]] = []
        references: dict[str, int] = {}
        for path, value in _values(item):
            if _holds_nothing(value):
                continue
            kind = _reference(path, value)
            if kind is None:
                plain.append(path)
            else:
                references[kind] = references.get(kind, 0) + 1
        if not plain:
            kinds = ", ".join(f"{kind} x{count}" if count > 1 else kind for kind, count in sorted(references.items()))
            yield result(
                PLAINTEXT,
                Severity.INFO,
                "holds no secret in clear (references to secrets kept elsewhere, URLs without a password, paths): "
                f"{kinds}; not checked for encryption",
                item,
            )
            continue
        plain.sort(key=lambda path: not _CREDENTIAL_PARAM.search(str(path[-1])))  # name a password first
        key = dotted(plain[0])
        more = f" (and {len(plain) - 1} more value{'s' if len(plain) > 2 else ''})" if len(plain) > 1 else ""
        relax = (
            "(no ObservabilityConfig in these files, so every Secret must be encrypted)"
            if config is None
            else "or, if this repository makes it plaintext on purpose, set spec.checks.plaintextSecrets: warning"
        )
        yield result(
            PLAINTEXT,
            severity,
            f"value {key}{more} is in clear and is not a reference to a secret kept elsewhere, a URL without a "
            "password "
            "or a path: the Secret is not SOPS-encrypted, so its values would be committed in clear; "
            f"encrypt it with `{_encrypt(item)}` {relax}",
            item,
            plain[0],
        )


# --- the sops block ------------------------------------------------------------------------


@rule(METADATA, Severity.ERROR, "the sops block of every Secret has mac, lastmodified, version and a recipient")
def sops_metadata(ctx: CheckContext) -> Iterator[Result]:
    """Every sops block is complete enough for sops to decrypt the file."""
    for item in _checked_secrets(ctx):
        sops = _sops_block(item)
        if sops is None:
            continue
        for path, problem in metadata_problems(sops):
            yield result(
                METADATA,
                Severity.ERROR,
                f"{problem}; sops writes this block itself: encrypt the file again rather than editing it",
                item,
                path,
            )
