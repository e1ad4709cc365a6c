"""`pin_subpackage` / `pin_compatible` results: pins that stay unresolved in a rendered recipe.

Rendering does not solve, so a pin is kept as an object and serialised the way rattler-build
writes it: `{"pin_subpackage": {"name": ..., "lower_bound": ..., "upper_bound": ...}}`.
"""

from __future__ import annotations

from naja.build.value_class import ValueClass

DEFAULT_LOWER = "x.x.x.x.x.x"
DEFAULT_UPPER = "x"


# Immutable and hashable (what a frozen dataclass would be; see naja.build.value_class).
class Pin(ValueClass):
    __slots__ = ("build", "exact", "kind", "lower_bound", "name", "upper_bound")
    _fields_ = ("kind", "name", "lower_bound", "upper_bound", "exact", "build")

    kind: str  # "pin_subpackage" or "pin_compatible"
    name: str
    lower_bound: str | None
    upper_bound: str | None
    exact: bool
    build: str | None

    def __init__(
        self,
        kind: str,
        name: str,
        lower_bound: str | None = DEFAULT_LOWER,
        upper_bound: str | None = DEFAULT_UPPER,
        exact: bool = False,
        build: str | None = None,
    ) -> None:
        init = object.__setattr__
        init(self, "kind", kind)
        init(self, "name", name)
        init(self, "lower_bound", lower_bound)
        init(self, "upper_bound", upper_bound)
        init(self, "exact", exact)
        init(self, "build", build)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # frozen: hashable by value
        return hash(self._values())

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"name": self.name}
        if self.exact:
            body["exact"] = True
        else:
            if self.lower_bound is not None:
                body["lower_bound"] = self.lower_bound
            if self.upper_bound is not None:
                body["upper_bound"] = self.upper_bound
        if self.build is not None:
            body["build"] = self.build
        return {self.kind: body}

    def __str__(self) -> str:
        # A pin printed inside a larger string: what the user would read.
        return f"{self.kind}({self.name})"


def make_pin(kind: str, name: object, *args: object, **kwargs: object) -> Pin:
    """Build a Pin from jinja call arguments (bounds may be given as conda-build max_pin/min_pin)."""
    lower: object = DEFAULT_LOWER
    upper: object = DEFAULT_UPPER
    if args:
        lower = args[0]
    if len(args) > 1:
        upper = args[1]
    if "min_pin" in kwargs:
        lower = kwargs.pop("min_pin")
    if "max_pin" in kwargs:
        upper = kwargs.pop("max_pin")
    lower = kwargs.pop("lower_bound", lower)
    upper = kwargs.pop("upper_bound", upper)
    exact = bool(kwargs.pop("exact", False))
    build = kwargs.pop("build", None)
    return Pin(
        kind,
        str(name),
        _bound(lower),
        _bound(upper),
        exact,
        None if build is None else str(build),
    )


def _bound(value: object) -> str | None:
    if value is None or _is_undefined(value):
        return None
    return str(value)


def _is_undefined(value: object) -> bool:
    from naja.build.expr import UNDEFINED

    return value is UNDEFINED
