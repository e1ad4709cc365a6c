"""Value semantics (equality by fields, a readable repr) for the renderer's small record classes.

What `@dataclass` would generate, without importing dataclasses (and inspect with it): ~5 ms,
more than a whole render, which `naja build --render-only` would pay once per process.
"""

from __future__ import annotations


class ValueClass:
    """Subclasses list their fields in `_fields_` (constructor order: the repr's order)."""

    __slots__ = ()
    _fields_: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self._fields_])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    # Mutable records compare by value and so are unhashable (as a dataclass with eq=True);
    # a frozen subclass defines __hash__ itself.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields_)
        return f"{type(self).__name__}({inner})"
