"""`Record` does what its docstring promises: frozen after `__init__`, equal and hashable by its fields,
and a clear TypeError naming the field when a field value cannot be hashed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krm_fn.record import Record
from krm_fn.results import Location, ResourceRef, Result, Severity


class Point(Record):
    x: int
    y: int = 0


class Bag(Record):
    name: str
    items: dict | None = None


def test_fields_positional_by_name_and_default() -> None:
    assert Point(1, 2) == Point(x=1, y=2)
    assert Point(1).y == 0
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"


def test_wrong_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError, match="missing the field 'x'"):
        Point()
    with pytest.raises(TypeError, match="unexpected or repeated field 'z'"):
        Point(1, z=3)
    with pytest.raises(TypeError, match="takes 2 fields, 3 given"):
        Point(1, 2, 3)


def test_assignment_after_init_names_class_and_field() -> None:
    point = Point(1, 2)
    with pytest.raises(AttributeError, match=r"Point is frozen: cannot assign to field 'x'"):
        point.x = 5
    with pytest.raises(AttributeError, match=r"Point is frozen: cannot assign to field 'extra'"):
        point.extra = 5  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"Point is frozen: cannot delete field 'y'"):
        del point.y
    assert point == Point(1, 2)


def test_unhashable_field_is_named() -> None:
    with pytest.raises(TypeError, match=r"Bag is not hashable: field 'items' holds a dict"):
        hash(Bag("a", {"k": 1}))
    with pytest.raises(TypeError, match="field 'items'"):
        {Bag("a", {"k": 1})}
    assert hash(Bag("a")) == hash(Bag("a"))


def test_different_classes_with_equal_values_are_not_equal() -> None:
    class Other(Record):
        x: int
        y: int = 0

    assert Point(1, 2) != Other(1, 2)


def test_results_deduplicate_in_a_set() -> None:
    """lint dedupes results with set(): a real Result with every optional field set must hash."""
    result = Result(
        rule="schema",
        severity=Severity.ERROR,
        message="m",
        resource=ResourceRef("v1", "Secret", "s", "monitoring"),
        field="spec",
        location=Location("a.yaml", 3, 0),
    )
    twin = Result(
        "schema", Severity.ERROR, "m", ResourceRef("v1", "Secret", "s", "monitoring"), "spec", Location("a.yaml", 3, 0)
    )
    assert len({result, twin}) == 1


@given(st.integers(), st.integers(), st.integers(), st.integers())
def test_equality_and_hash_follow_the_fields(a: int, b: int, c: int, d: int) -> None:
    assert (Point(a, b) == Point(c, d)) == ((a, b) == (c, d))
    if (a, b) == (c, d):
        assert hash(Point(a, b)) == hash(Point(c, d))
