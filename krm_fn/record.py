"""`Record`: what the package used frozen dataclasses for, at no start-up cost.

Every run of the function is a new process, and a 20-resource kpt package leaves it about 100 ms.
`dataclasses` costs ~12 ms to import and ~1 ms per class (it generates and compiles code for each);
`typing.NamedTuple` ~4 ms to import `typing` and ~0.3 ms per class (start-up budget: docs/startup.md).
A Record subclass declares its fields as annotations, with defaults where it has them, exactly as a
dataclass would; one shared `__init__` takes them positionally or by name.

What a Record promises, and enforces:
- Frozen: assigning or deleting an attribute after `__init__` raises AttributeError naming the class
  and the field. (The field values themselves are not copied: a dict field stays a mutable dict.)
- Equality compares the field values, for records of the same class.
- `hash()` works when every field value is hashable (results are deduplicated with `set()`); when one is
  not (a dict or list field), it raises TypeError naming the class and that field, instead of
  Python's anonymous "unhashable type".
"""

from __future__ import annotations


class Record:
    _fields: tuple[str, ...] = ()
    _defaults: dict[str, object] = {}  # noqa: RUF012 - replaced per subclass, never mutated

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect costs start-up time
        cls._fields = tuple(name for name in annotations if not name.startswith("_"))
        cls._defaults = {name: cls.__dict__[name] for name in cls._fields if name in cls.__dict__}

    def __init__(self, *args: object, **kwargs: object) -> None:
        name = type(self).__name__
        if len(args) > len(self._fields):
            raise TypeError(f"{name}() takes {len(self._fields)} fields, {len(args)} given")
        values = dict(zip(self._fields, args, strict=False))  # fewer args than fields is fine
        for key, value in kwargs.items():
            if key not in self._fields or key in values:
                raise TypeError(f"{name}() got an unexpected or repeated field {key!r}")
            values[key] = value
        for field in self._fields:
            if field in values:
                object.__setattr__(self, field, values[field])
            elif field in self._defaults:
                object.__setattr__(self, field, self._defaults[field])
            else:
                raise TypeError(f"{name}() is missing the field {field!r}")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete field {name!r}")

    def __hash__(self) -> int:
        try:
            return hash(self._values())
        except TypeError:
            for name in self._fields:
                try:
                    hash(getattr(self, name))
                except TypeError:
                    kind = type(getattr(self, name)).__name__
                    raise TypeError(f"{type(self).__name__} is not hashable: field {name!r} holds a {kind}") from None
            raise

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"
