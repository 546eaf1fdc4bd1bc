"""Gateway API hostnames: the grammar and wildcard matching.

Facts (docs/reference/crds.md#5-gateway-api-hostname-rules, gateway-api v1.6.1): a hostname is a lowercase
RFC 1123 DNS name with no trailing dot; a wildcard is only a whole leftmost `*.` label and
matches one or more labels (`*.example.com` matches `a.b.example.com`, not `example.com`);
an IP address is never valid, although the CRD pattern accepts `1.2.3.4`. The CRD pattern
has no per-label limit, DNS has one (63). Python's `re` `$` also matches before a final
newline, so every check here uses `fullmatch`.
"""

from __future__ import annotations

import re

from krm_fn.placeholders import has_placeholder, stand_in

MAX_LENGTH = 253
MAX_LABEL = 63

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Valid names, checked in one step (the common case); anything else gets the full diagnosis.
_VALID = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*")
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


def show(text: str, limit: int = 80) -> str:
    """A hostname for a message: quoted (so a newline shows as \\n) and cut when very long."""
    if len(text) > limit:
        text = text[: limit - 24] + "…" + text[-20:]
    return repr(text)


def problems(host: str, wildcard_ok: bool = True) -> list[str]:
    """What is wrong with `host` as a Gateway API hostname, in words; [] when it is valid."""
    if (
        len(host) <= MAX_LENGTH
        and _VALID.fullmatch(host)
        and not host.rpartition(".")[2].isdigit()
        and (wildcard_ok or not host.startswith("*."))
    ):
        return []
    if host == "":
        return ["empty"]
    found: list[str] = []
    name = host
    if name != name.strip():
        found.append("leading or trailing whitespace (a trailing newline?)")
        name = name.strip()
    if any(c.isspace() for c in name):
        found.append("whitespace inside the name")
    if name.endswith("."):
        found.append("a trailing dot (Gateway API takes the name without it)")
        name = name.rstrip(".")
    if name != name.lower():
        found.append("uppercase letters")
        name = name.lower()
    if _is_ip(name):
        return [*found, "an IP address, which Gateway API never accepts (leave hostnames out to match any host)"]
    if name == "*":
        return [*found, "a lone '*' (leave hostnames out to match any host, or use *.example.com)"]
    rest = name
    if name.startswith("*."):
        rest = name[2:]
        if not wildcard_ok:
            found.append("a wildcard (each UI needs one exact name)")
    if "*" in rest:
        found.append("'*' is allowed only as the whole leftmost label, as in *.example.com")
        rest = rest.replace("*", "x")
    bad = sorted({c for c in rest if c not in _ALLOWED and not c.isspace()} - {"*"})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        found.append(f"invalid characters {shown} (only lowercase letters, digits, '-' and '.')")
    labels = rest.split(".")
    if "" in labels:
        found.append("an empty label (two dots in a row, or a leading dot)")
    long_labels = [label for label in labels if len(label) > MAX_LABEL]
    if long_labels:
        found.append(f"a label of {len(long_labels[0])} characters (at most {MAX_LABEL})")
    if len(name) > MAX_LENGTH:
        found.append(f"{len(name)} characters (at most {MAX_LENGTH})")
    if any(label.startswith("-") or label.endswith("-") for label in labels):
        found.append("a label that starts or ends with '-'")
    if not found and labels[-1].isdigit():
        found.append("an all-numeric last label: no top-level domain is numeric, and browsers read such a name as IPv4")
    if not found and not all(_LABEL.fullmatch(label) for label in labels):
        found.append("not a DNS name")  # not reached with the checks above; kept as a safety net
    return found


def _is_ip(name: str) -> bool:
    import ipaddress  # start-up budget: docs/startup.md (only invalid names get here)

    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
    except ValueError:
        return False
    return True


def suggestion(host: str, wildcard_ok: bool = True) -> str | None:
    """The obvious repair of `host` (trimmed, lowercased, no trailing dot), when that is valid."""
    fixed = re.sub(r"\.{2,}", ".", host.strip().strip(".").lower())
    if fixed != host and not problems(fixed, wildcard_ok):
        return fixed
    return None


def is_valid(host: object, wildcard_ok: bool = True) -> bool:
    return isinstance(host, str) and not problems(host, wildcard_ok)


def describe(host: str, wildcard_ok: bool = True) -> str | None:
    """One sentence: what is wrong and how to fix it; None when `host` is valid.

    Flux substitution placeholders (`${APP}.example.com`) are unknown until Flux runs: only the
    known rest is judged, with each placeholder standing for a valid label.
    """
    if has_placeholder(host):
        found = problems(stand_in(host), wildcard_ok)
        if not found:
            return None
        return (
            f"hostname {show(host)} is invalid whatever its ${{...}} placeholders become after Flux's "
            f"substitution: {'; '.join(found)}: fix the part around them"
        )
    found = problems(host, wildcard_ok)
    if not found:
        return None
    fixed = suggestion(host, wildcard_ok)
    fix = f"use {fixed}" if fixed else "use a lowercase DNS name such as grafana.example.com"
    return f"hostname {show(host)} is invalid: {'; '.join(found)}: {fix}"


def within(host: str, domain: str) -> bool:
    """True when `host` is `domain` or one of its subdomains."""
    return host == domain or host.endswith("." + domain)


# --- matching (Gateway API wildcard semantics) ---------------------------------------------


def matches(pattern: str, host: str) -> bool:
    """Does hostname `pattern` (precise or `*.suffix`) cover precise hostname `host`?"""
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def intersect(a: str, b: str) -> bool:
    """Do two hostnames (precise or wildcard) share at least one concrete name? Symmetric.

    precise/precise: equal; wildcard/precise: the wildcard covers the other (one or more
    labels); wildcard/wildcard: one suffix lies inside the other (`*.com` and `*.example.com`
    share `a.example.com`).
    """
    a, b = a.lower(), b.lower()
    a_wild, b_wild = a.startswith("*."), b.startswith("*.")
    if a_wild and b_wild:
        return a == b or a.endswith(b[1:]) or b.endswith(a[1:])
    if a_wild:
        return matches(a, b)
    if b_wild:
        return matches(b, a)
    return a == b
