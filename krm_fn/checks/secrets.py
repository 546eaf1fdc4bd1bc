"""Rules: SOPS-encrypted Secrets, checked without the key.

What the rules can see without the age (or KMS, PGP...) key, and so check:
  * the stack Secret (`spec.secret.name` in `spec.namespace`) is in the pipeline and holds the
    keys the stack reads;
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
(ENC values, the metadata block, references to secrets kept elsewhere) is in krm_fn/sops.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from krm_fn.checks.base import CheckContext, dotted, result, rule
from krm_fn.components import profile
from krm_fn.components.routes import basic_auth_key
from krm_fn.config import Config
from krm_fn.items import Item
from krm_fn.placeholders import has_placeholder, is_placeholder, stand_in
from krm_fn.results import Result, Severity
from krm_fn.sops import b64_strict, enc_problem, metadata_problems, reference_kind

PRESENT = "sops-secret-present"
ENCRYPTED = "sops-encrypted"
METADATA = "sops-metadata"
REQUIRED_KEYS = "sops-required-keys"
PLAINTEXT = "secret-plaintext"

SECTIONS = ("data", "stringData")
GENERATOR_ANNOTATION = "internal.config.kubernetes.io/generatorBehavior"  # set by kustomize secretGenerator
HASH_ANNOTATION = "internal.config.kubernetes.io/needsHashSuffix"  # kustomize will append -<hash> to the name
ENCRYPT_HINT = "sops encrypt --encrypted-regex '^(data|stringData)$' --in-place FILE"
_SHELL_SAFE_PATH = re.compile(r"[\w./@+-]+")
NEWLINE_NOTE = (
    "values must not end in a newline (Pushover answers HTTP 400 to a key file with one), "
    "so write them as plain scalars, not `|` blocks"
)


def required_keys(config: Config) -> dict[str, str]:
    """The keys the stack reads from its Secret, each with what reads it."""
    keys = {}
    if config.alerting.pushover.enabled:
        keys["pushover-user-key"] = "Alertmanager's Pushover user_key_file"
        keys["pushover-api-token"] = "Alertmanager's Pushover token_file"
    if config.alerting.heartbeat is not None:
        keys[config.alerting.heartbeat.url_key] = "Alertmanager's heartbeat webhook url_file"
        if config.alerting.heartbeat.token_key:
            keys[config.alerting.heartbeat.token_key] = "Alertmanager's heartbeat bearer token (credentials_file)"
    htpasswd = basic_auth_key(config)
    if htpasswd:
        keys[htpasswd] = f"the {config.access_implementation} basic auth of the exposed UIs (htpasswd lines)"
    keys["grafana-admin-user"] = "Grafana's admin.existingSecret userKey"
    keys["grafana-admin-password"] = "Grafana's admin.existingSecret passwordKey"
    keys.update(profile.secret_keys(config))  # object storage, when the topology needs it
    return keys


# --- reading a Secret ----------------------------------------------------------------------


def _sops_block(item: Item) -> object:
    """The top-level `sops` value (None when absent)."""
    return item.obj.get("sops")


def _file(item: Item | None, position: int | None = None) -> str:
    """The item's file for a command in a message, when known and safe to paste into a shell.

    Else what stands for it: the object's kind and name (kustomize hands objects over without
    their files unless the kustomization sets `buildMetadata: [originAnnotations]`), or, when
    sops encrypted the metadata too, the object's position in the input.
    """
    path = item.location().path if item is not None else None
    if path and _SHELL_SAFE_PATH.fullmatch(path):
        return path
    if item is not None and position is None and item.kind and item.name and not item.kind.startswith("ENC["):
        ref = f"{item.namespace}/{item.name}" if item.namespace else item.name
        return f"<the file of {item.kind} {ref}>"
    if position is not None:
        return f"<the file of item {position} of the input>"
    return "FILE"


def _encrypt(item: Item, position: int | None = None) -> str:
    return ENCRYPT_HINT.replace("FILE", _file(item, position))


def _generated_by_kustomize(item: Item) -> bool:
    return GENERATOR_ANNOTATION in item.annotations()


def _leaves(value: object, path: list[str | int]) -> Iterator[tuple[list[str | int], object]]:
    """Every scalar below `value`, with its path (Secret values are flat, but be safe)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _leaves(sub, [*path, str(key)])
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _leaves(sub, [*path, index])
    else:
        yield path, value


def _values(item: Item) -> Iterator[tuple[list[str | int], object]]:
    """Every value under data and stringData."""
    for section in SECTIONS:
        value = item.obj.get(section)
        if value is not None:
            yield from _leaves(value, [section])


def _holds_nothing(value: object) -> bool:
    """sops leaves empty strings and nulls as they are: they hold no secret."""
    return value is None or value == ""


def _reference(path: list[str | int], value: object) -> str | None:
    """What a Secret value holds when it is no secret (a reference to one kept elsewhere, a URL
    without a password, a path), decoding `data` values (base64) first; None when it may be one."""
    if path[0] == "data" and isinstance(value, str) and not is_placeholder(value.strip()):
        decoded = b64_strict(value.strip())
        if decoded is None:
            return None
        try:
            value = decoded.decode()
        except UnicodeDecodeError:
            return None
    return reference_kind(value) or _no_credential(value)


_URL = re.compile(r"(?P<scheme>(?:[a-z][a-z0-9+.-]*:)+)//(?P<rest>\S*)", re.I)
_PATH = re.compile(r"(?:/|\./)(?:[\w.@+-]+/)*[\w.@+-]+")
_CREDENTIAL_PARAM = re.compile(r"pass|pwd|secret|token|key|auth|sig|credential", re.I)
_WORD = re.compile(r"[A-Za-z0-9]+")


def _placeholder_free(text: str) -> str:
    return stand_in(text, "")


def _token_like(word: str) -> bool:
    """A run of letters and digits that reads as a key rather than a word, a number or a name."""
    letters, digits = any(c.isalpha() for c in word), any(c.isdigit() for c in word)
    return (letters and digits) or len(word) >= 24


def _no_credential(value: object) -> str | None:
    """What a Secret value is when it holds no credential, or None (it may hold one).

    - a URL without a password (`postgresql://${USER}@db/app?sslcert=/certs/tls.crt`,
      `s3:https://${HOST}/${CLUSTER}/backups`): a password in the user info, a credential-named
      query parameter with a literal value, or a token-like path segment (a webhook's) is a
      credential;
    - a file path (a certificate's);
    - placeholders with only plain words between them (`${USER}:${PASSWORD}`).
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or "\n" in text:
        return None
    url = _URL.fullmatch(text)
    if url is not None:
        rest = url.group("rest")
        authority, _, tail = rest.partition("/")
        path, _, query = tail.partition("?")
        if "@" in authority:
            userinfo = authority.rsplit("@", 1)[0]
            password = userinfo.partition(":")[2]
            if password and not is_placeholder(password):
                return None
        for pair in query.split("&") if query else []:
            name, _, found = pair.partition("=")
            literal = _placeholder_free(found)
            if _CREDENTIAL_PARAM.search(name) and literal and not _PATH.fullmatch(found):
                return None
        if any(_token_like(w) for segment in path.split("/") for w in _WORD.findall(_placeholder_free(segment))):
            return None
        return "URL without a password"
    if _PATH.fullmatch(text):
        return "file path"
    if has_placeholder(text) and not any(_token_like(w) for w in _WORD.findall(_placeholder_free(text))):
        return "Flux substitution placeholders joined by plain text"
    return None


def _is_plaintext(problem: str) -> bool:
    return problem.startswith(("is plaintext", "is a plaintext"))


def _selector_reason(sops: dict, path: list[str | int]) -> str | None:
    """Why the file's sops selector left `path` in clear, when it says so (a hint only)."""
    keys = [p for p in path if isinstance(p, str)]

    def matches(pattern: str) -> bool:
        try:
            return any(re.search(pattern, key) for key in keys)
        except re.error:
            return True  # a Go-only pattern: claim nothing

    for option, encrypts in (("encrypted_regex", True), ("unencrypted_regex", False)):
        pattern = sops.get(option)
        if isinstance(pattern, str) and pattern and matches(pattern) != encrypts:
            return f"the file's {option} {'does not match' if encrypts else 'matches'} it"
    for option, encrypts in (("encrypted_suffix", True), ("unencrypted_suffix", False)):
        suffix = sops.get(option)
        if isinstance(suffix, str) and suffix and any(k.endswith(suffix) for k in keys) != encrypts:
            return f"the file's {option} {'does not match' if encrypts else 'matches'} it"
    return None


# --- the stack Secret ----------------------------------------------------------------------


def _is_stack_secret(item: Item, config: Config) -> bool:
    return item.name == config.secret_name and item.namespace in (config.namespace, None)


def _stack_secrets(ctx: CheckContext) -> list[Item]:
    if ctx.config is None:
        return []
    return [item for item in ctx.user_objects("Secret") if _is_stack_secret(item, ctx.config)]


@rule(PRESENT, Severity.ERROR, "the stack's Secret (spec.secret.name in spec.namespace) is in the pipeline")
def secret_present(ctx: CheckContext) -> Iterator[Result]:
    """The stack Secret is in the pipeline, under its own name and namespace."""
    config = ctx.config
    if config is None:
        return
    wanted = f"Secret {config.namespace}/{config.secret_name}"
    if not ctx.sees_pipeline:
        yield _config_result(
            PRESENT,
            Severity.INFO,
            config,
            f"{wanted} could not be checked: the function saw only its config (kustomize `generators:`, or "
            "`render` given the config alone); list it under `transformers:`, or pass the Secret's file to render",
        )
        return
    found = _stack_secrets(ctx)
    for item in found:
        if item.annotations().get(HASH_ANNOTATION) == "enabled":
            yield result(
                PRESENT,
                Severity.WARNING,
                f"comes from a kustomize secretGenerator that will rename it to {config.secret_name}-<hash>, "
                f"while the HelmReleases read {config.secret_name}: set `options: {{disableNameSuffixHash: true}}` "
                "on the generator",
                item,
                ["metadata", "name"],
            )
        if item.namespace is None:
            yield result(
                PRESENT,
                Severity.WARNING,
                f"has no metadata.namespace but the stack reads it from namespace {config.namespace}: "
                f"set the namespace through the kustomization (`namespace: {config.namespace}`) or add it "
                "before encrypting (the sops MAC covers metadata)",
                item,
                ["metadata"],
            )
    if found:
        return
    elsewhere = sorted(
        item.namespace or "(none)" for item in ctx.user_objects("Secret") if item.name == config.secret_name
    )
    hint = f"; a Secret of that name is in namespace {', '.join(elsewhere)}" if elsewhere else ""
    yield _config_result(
        PRESENT,
        Severity.ERROR,
        config,
        f"{wanted} is not in the pipeline{hint}: the stack reads its Pushover and Grafana credentials from it; "
        "add the SOPS-encrypted Secret to the kustomization or kpt package (or set spec.secret.name)",
    )


def _config_result(rule_id: str, severity: Severity, config: Config, message: str) -> Result:
    return Result(rule_id, severity, message, config.ref, "spec.secret.name", config.location)


@rule(REQUIRED_KEYS, Severity.ERROR, "the stack's Secret holds every key the stack reads, none of them empty")
def secret_required_keys(ctx: CheckContext) -> Iterator[Result]:
    """The stack Secret holds every key the stack reads, none of them empty."""
    if ctx.config is None:
        return
    wanted = required_keys(ctx.config)
    for item in _stack_secrets(ctx):
        sections = {s: item.obj.get(s) for s in SECTIONS if isinstance(item.obj.get(s), dict)}
        where = "stringData" if "stringData" in sections or "data" not in sections else "data"
        for key, reader in wanted.items():
            holders = [s for s, values in sections.items() if key in values]
            if not holders:
                yield result(
                    REQUIRED_KEYS,
                    Severity.ERROR,
                    f"key {key!r} is missing ({reader} reads it); "
                    f"add it with `sops edit {_file(item)}`; {NEWLINE_NOTE}",
                    item,
                    [where, key],
                )
            elif all(_holds_nothing(sections[s][key]) for s in holders):
                yield result(
                    REQUIRED_KEYS,
                    Severity.ERROR,
                    f"key {key!r} is empty ({reader} reads it); set it with `sops edit {_file(item)}`; {NEWLINE_NOTE}",
                    item,
                    [holders[0], key],
                )


# --- encryption of every Secret ------------------------------------------------------------


def _checked_secrets(ctx: CheckContext) -> Iterator[Item]:
    """The user's Secrets whose values are in the files (secretGenerator output is not)."""
    for item in ctx.user_objects("Secret"):
        if not _generated_by_kustomize(item):
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
        stack = config is not None and _is_stack_secret(item, config)
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
        if _sops_block(item) is not None or (config is not None and _is_stack_secret(item, config)):
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
