"""`Record`: what the package used frozen dataclasses for, at no start-up cost.

Every run of the function is a new process, and a 20-resource kpt package leaves it about 100 ms.
`dataclasses` costs ~12 ms to import and ~1 ms per class (it generates and compiles code for each);
`typing.NamedTuple` ~4 ms to import `typing` and ~0.3 ms per class. A Record subclass lists its
fields in `__slots__` and sets them in a typed `__init__`; equality and hash come from the fields,
as a frozen dataclass's do, and repr shows them in `__init__` order. Records are values: nothing
assigns to them after `__init__`.
"""

from __future__ import annotations


class Record:
    __slots__ = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        code = type(self).__init__.__code__
        names = code.co_varnames[1 : code.co_argcount]
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in names)})"
