"""The functions and filters recipes call inside `${{ }}`, as rattler-build defines them.

Functions that depend on the variant (`compiler`, `stdlib`, `cdt`) are bound per render by
`recipe_functions`; filters are the same for every render.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from naja.build.expr import UNDEFINED, to_str
from naja.build.pins import make_pin
from naja.specs.platform import Platform

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from naja.specs.version import Version

# rattler-build's defaults when the variant names no compiler for a language.
_DEFAULT_COMPILERS = {
    "linux": {"c": "gcc", "cxx": "gxx", "fortran": "gfortran", "rust": "rust", "go": "go"},
    "osx": {"c": "clang", "cxx": "clangxx", "fortran": "gfortran", "rust": "rust", "go": "go"},
    "win": {"c": "vs2017", "cxx": "vs2017", "fortran": "gfortran", "rust": "rust", "go": "go"},
}
_DEFAULT_STDLIB = {"linux": "sysroot", "osx": "macosx_deployment_target", "win": "vs"}
_SPEC_CHARS = frozenset("<>=!*,|~ ")


def _os_of(platform: str) -> str:
    try:
        return Platform.parse(platform).os or ""
    except Exception:
        return ""


def _with_version(name: str, version: object) -> str:
    if version is None or version is UNDEFINED:
        return name
    text = str(version)
    if not text or text == "None":
        return name
    if any(ch in _SPEC_CHARS for ch in text):
        return f"{name} {text}"
    return f"{name} {text}.*"


def _undefined(value: object) -> bool:
    return value is None or value is UNDEFINED


def recipe_functions(variant: Mapping[str, Any], target_platform: str) -> dict[str, Any]:
    """Functions bound to one variant and target platform."""
    os_name = _os_of(target_platform)

    def compiler(language: str) -> str:
        # Variant keys use `_` where the language name has `-` (`go-cgo` -> go_cgo_compiler).
        key = language.replace("-", "_")
        name = variant.get(f"{key}_compiler")
        if _undefined(name):
            name = _DEFAULT_COMPILERS.get(os_name, _DEFAULT_COMPILERS["linux"]).get(language, language)
        version = variant.get(f"{key}_compiler_version")
        return _with_version(f"{name}_{target_platform}", version)

    def stdlib(language: str) -> str:
        key = language.replace("-", "_")
        name = variant.get(f"{key}_stdlib")
        if _undefined(name):
            name = _DEFAULT_STDLIB.get(os_name, "sysroot")
        return _with_version(f"{name}_{target_platform}", variant.get(f"{key}_stdlib_version"))

    def cdt(package: str) -> str:
        arch = Platform.parse(target_platform).arch if os_name else None
        cdt_arch = variant.get("cdt_arch") or ("x86_64" if arch in (None, "x86_64") else arch)
        cdt_name = variant.get("cdt_name") or ("cos6" if cdt_arch == "x86_64" else "cos7")
        return f"{package}-{cdt_name}-{cdt_arch}"

    return {
        "compiler": compiler,
        "stdlib": stdlib,
        "cdt": cdt,
    }


def file_loader(recipe_dir: Path) -> Any:
    """`load_from_file(path)`: a file next to the recipe, parsed by its extension.

    `.json`, `.yaml`/`.yml` and `.toml` give data; anything else its text. The path must stay
    inside the recipe folder.
    """

    def load_from_file(path: object) -> Any:
        target = (recipe_dir / str(path)).resolve()
        if not target.is_relative_to(recipe_dir.resolve()):
            raise ValueError(f"{path} is outside the recipe folder")
        text = target.read_text(encoding="utf-8")
        suffix = target.suffix.lower()
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
        if suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        return text

    return load_from_file


def pin_subpackage(name: object, *args: object, **kwargs: object) -> object:
    return make_pin("pin_subpackage", name, *args, **kwargs)


def pin_compatible(name: object, *args: object, **kwargs: object) -> object:
    return make_pin("pin_compatible", name, *args, **kwargs)


def _version_of(value: object) -> Version:
    # Imported here: the version parsers are only needed by recipes that call match().
    from naja.specs.version import Version

    text = str(value).strip().split()[0] if str(value).strip() else ""
    text = text.removesuffix(".*").removesuffix("*")
    return Version.parse(text)


def match(value: object, spec: object) -> bool:
    """Whether a variant value (`3.11`, `3.11.* *_cpython`) satisfies a version spec."""
    if _undefined(value):
        return False
    from naja.specs.version_spec import VersionSpec

    try:
        return VersionSpec.parse(str(spec)).matches(_version_of(value))
    except Exception:
        return False


def _platform_test(kind: str):
    def test(platform: object) -> bool:
        try:
            plat = Platform.parse(str(platform))
        except Exception:
            return False
        return bool(getattr(plat, f"is_{kind}"))

    test.__name__ = f"is_{kind}"
    return test


class EnvAccess:
    """`env.get('NAME', default=...)` and `env.exists('NAME')` over the process environment."""

    def get(self, name: str, default: object = None) -> object:
        value = os.environ.get(name)
        if value is None:
            if default is None:
                return UNDEFINED
            return default
        return value

    def exists(self, name: str) -> bool:
        return name in os.environ


GLOBAL_FUNCTIONS: dict[str, Any] = {
    "pin_subpackage": pin_subpackage,
    "pin_compatible": pin_compatible,
    "match": match,
    "is_linux": _platform_test("linux"),
    "is_osx": _platform_test("osx"),
    "is_win": _platform_test("win"),
    "is_unix": _platform_test("unix"),
    "is_noarch": _platform_test("noarch"),
    "env": EnvAccess(),
    "range": range,
    "dict": dict,
}


def version_to_buildstring(value: object) -> str:
    """`3.11` / `3.11.* *_cpython` -> `311`: the first two version parts without the dot."""
    if _undefined(value):
        return ""
    text = str(value).strip()
    if not text:
        return ""
    text = text.split()[0]
    parts = text.split(".")
    return "".join(p for p in parts[:2] if p != "*")


def _split(value: object, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    return str(value).split(sep, maxsplit)


def _to_int(value: object, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        try:
            return int(float(str(value)))
        except ValueError:
            return default


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _default(value: object, default: object = "", boolean: bool = False) -> object:
    if value is UNDEFINED or (boolean and not value):
        return default
    return value


def _first(value: Any) -> Any:
    for item in value:
        return item
    return UNDEFINED


def _last(value: Any) -> Any:
    items = list(value)
    return items[-1] if items else UNDEFINED


def _join(value: Any, sep: str = "") -> str:
    return str(sep).join(to_str(v) for v in value)


def _replace(value: object, old: str, new: str, count: int | None = None) -> str:
    text = to_str(value)
    return text.replace(str(old), str(new)) if count is None else text.replace(old, new, count)


def _length(value: Any) -> int:
    return 0 if value is UNDEFINED or value is None else len(value)


def _to_float(value: object, default: float = 0.0) -> float:
    try:
        return float(str(value))
    except ValueError:
        return default


FILTERS: dict[str, Any] = {
    "version_to_buildstring": version_to_buildstring,
    "split": _split,
    "int": _to_int,
    "float": _to_float,
    "bool": _bool,
    "lower": lambda v: to_str(v).lower(),
    "upper": lambda v: to_str(v).upper(),
    "title": lambda v: to_str(v).title(),
    "capitalize": lambda v: to_str(v).capitalize(),
    "trim": lambda v, chars=None: to_str(v).strip(chars),
    "string": to_str,
    "replace": _replace,
    "join": _join,
    "default": _default,
    "d": _default,
    "length": _length,
    "count": _length,
    "list": list,
    "first": _first,
    "last": _last,
    "sort": lambda v, reverse=False: sorted(v, reverse=reverse),
    "unique": lambda v: list(dict.fromkeys(v)),
    "reverse": lambda v: v[::-1] if isinstance(v, (str, list, tuple)) else list(reversed(list(v))),
    "abs": abs,
    "round": lambda v, precision=0: round(v, precision),
    "min": min,
    "max": max,
}


# minijinja-contrib's string tests.
TESTS: dict[str, Any] = {
    "defined": lambda v: v is not UNDEFINED,
    "undefined": lambda v: v is UNDEFINED,
    "none": lambda v: v is None,
    "true": lambda v: v is True,
    "false": lambda v: v is False,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "eq": lambda v, other: v == other,
    "equalto": lambda v, other: v == other,
    "sameas": lambda v, other: v is other,
    "in": lambda v, seq: v in seq,
    "odd": lambda v: v % 2 == 1,
    "even": lambda v: v % 2 == 0,
    "divisibleby": lambda v, n: v % n == 0,
    "startingwith": lambda value, prefix: str(value).startswith(str(prefix)),
    "endingwith": lambda value, suffix: str(value).endswith(str(suffix)),
    "containing": lambda value, other: str(other) in value
    if isinstance(value, (list, tuple, dict))
    else str(other) in str(value),
}
