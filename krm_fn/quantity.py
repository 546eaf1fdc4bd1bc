"""Kubernetes quantities (100m, 256Mi, 1.5Gi, 1T, 2) as numbers: the one parser the rules, the
components and `render --summary` share. The schema's `$defs/quantity` limits the form to digits
and one of these suffixes."""

from __future__ import annotations

_SUFFIX = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def quantity(text: str) -> float:
    """A Kubernetes quantity as a number of base units."""
    number = text.rstrip("kmMGTPEi")
    return float(number) * _SUFFIX[text[len(number) :]]
