"""Reading a Secret without the key, for the SOPS rules (krm_fn/checks/secrets.py, stack_secret.py).

Where a Secret's values are (`data`, `stringData`) and which hold nothing; which hold no credential
(a reference to a secret kept elsewhere, a URL without a password, a file path); why a file's sops
selector left a value in clear; and the file a message's command names. Never a value in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from krm_fn.items import Item
from krm_fn.placeholders import has_placeholder, is_placeholder, stand_in
from krm_fn.sops import b64_strict, reference_kind

SECTIONS = ("data", "stringData")
GENERATOR_ANNOTATION = "internal.config.kubernetes.io/generatorBehavior"  # set by kustomize secretGenerator
ENCRYPT_HINT = "sops encrypt --encrypted-regex '^(data|stringData)$' --in-place FILE"
_SHELL_SAFE_PATH = re.compile(r"[\w./@+-]+")


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
