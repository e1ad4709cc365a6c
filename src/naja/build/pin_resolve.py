"""Turns a rendered pin (`{"pin_subpackage": {...}}` / `pin_compatible`) into a match spec,
once the version it pins to is known (the output being built, or the host environment's)."""

from __future__ import annotations

from typing import Any


def _segments(version: str, bound: str) -> list[str]:
    n = bound.count("x")
    return version.split(".")[:n] if n else []


def _bump(parts: list[str]) -> str:
    head, last = parts[:-1], parts[-1]
    digits = "".join(ch for ch in last if ch.isdigit()) or "0"
    return ".".join([*head, str(int(digits) + 1)])


def pin_to_spec(pin: dict[str, Any], version: str, build: str | None = None) -> str:
    """`{"name","lower_bound","upper_bound","exact"}` pinned to `version` -> a match spec."""
    name = pin["name"]
    if pin.get("exact"):
        return f"{name} =={version} {build}" if build else f"{name} =={version}"
    parts = []
    lower = pin.get("lower_bound")
    if lower:
        seg = _segments(version, lower) if "x" in lower else [lower]
        parts.append(">=" + ".".join(seg) if "x" in lower else ">=" + lower)
    upper = pin.get("upper_bound")
    if upper:
        if "x" in upper:
            seg = _segments(version, upper)
            if seg:
                parts.append(f"<{_bump(seg)}.0a0")
        else:
            parts.append("<" + upper)
    return f"{name} {','.join(parts)}" if parts else name


def resolve_dependency(dep: Any, versions: dict[str, tuple[str, str]]) -> str:
    """A rendered dependency (a string, or a pin object) as a match spec string.

    `versions` maps package names to (version, build) for pins: subpackages of this recipe
    and, for pin_compatible, what the host environment has.
    """
    if isinstance(dep, str):
        return dep
    if isinstance(dep, dict) and len(dep) == 1:
        ((kind, pin),) = dep.items()
        if kind in ("pin_subpackage", "pin_compatible"):
            found = versions.get(pin["name"])
            if found is None:
                from naja.build.build_errors import BuildError

                where = (
                    "this recipe's outputs" if kind == "pin_subpackage" else "the host environment"
                )
                raise BuildError(f"{kind}({pin['name']!r}): {pin['name']} is not in {where}")
            return pin_to_spec(pin, *found)
    from naja.build.build_errors import BuildError

    raise BuildError(f"cannot read the dependency {dep!r}")
