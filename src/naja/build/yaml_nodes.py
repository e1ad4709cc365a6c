"""YAML as the recipe reader sees it: a tree of scalars, sequences and mappings with positions.

Every scalar stays text (as in rattler-build's marked YAML); whether it was written plain or
quoted is kept so `0` can become an integer while `"0"` stays a string. Positions let errors
point at the line and column of the offending value.
"""

from __future__ import annotations

import re
from pathlib import Path

from naja.build import libyaml
from naja.build.errors import RecipeError


class Source:
    """The file a node came from (for error messages)."""

    # A plain class, not a dataclass: see naja.build.value_class.
    __slots__ = ("path", "text")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def __repr__(self) -> str:
        return f"Source(path={self.path!r}, text={self.text!r})"


class Node:
    __slots__ = ("col", "line", "src")

    line: int
    col: int
    src: Source | None

    def error(self, message: str, *, hint: str | None = None) -> RecipeError:
        """A RecipeError pointing at this node."""
        src = self.src
        return RecipeError(
            message,
            path=src.path if src else None,
            line=self.line,
            column=self.col,
            source=src.text if src else None,
            hint=hint,
        )


class Scalar(Node):
    __slots__ = ("plain", "value")

    def __init__(self, value: str, plain: bool, line: int, col: int, src: Source | None) -> None:
        self.value = value
        self.plain = plain
        self.line = line
        self.col = col
        self.src = src

    def __repr__(self) -> str:
        return f"Scalar({self.value!r})"


class Seq(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node], line: int, col: int, src: Source | None) -> None:
        self.items = items
        self.line = line
        self.col = col
        self.src = src

    def __repr__(self) -> str:
        return f"Seq({self.items!r})"


class Map(Node):
    __slots__ = ("items", "keys")

    def __init__(
        self, items: dict[str, Node], keys: dict[str, Scalar], line: int, col: int, src: Source | None
    ) -> None:
        self.items = items
        self.keys = keys
        self.line = line
        self.col = col
        self.src = src

    def get(self, key: str) -> Node | None:
        return self.items.get(key)

    def __repr__(self) -> str:
        return f"Map({self.items!r})"


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+\Z")


def plain_value(node: Scalar) -> object:
    """The typed value of a scalar the way YAML 1.2 core types it, except floats stay text.

    Floats stay text because recipes write versions like `3.10` that must not become 3.1.
    """
    text = node.value
    if not node.plain:
        return text
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text)
    return text


def _convert(node: object, src: Source | None) -> Node:
    mark = node.start_mark  # type: ignore[attr-defined]
    # yaml.nodes' classes say what they are in `id` (no import of yaml.nodes needed here).
    kind = node.id  # type: ignore[attr-defined]
    if kind == "scalar":
        # Only the style matters: typing follows YAML 1.2 rules in plain_value, not libyaml's.
        return Scalar(node.value, not node.style, mark.line, mark.column, src)
    if kind == "sequence":
        return Seq([_convert(x, src) for x in node.value], mark.line, mark.column, src)
    if kind == "mapping":
        items: dict[str, Node] = {}
        keys: dict[str, Scalar] = {}
        for k, v in node.value:
            key = _convert(k, src)
            if not isinstance(key, Scalar):
                raise key.error("mapping keys must be plain strings")
            if key.value == "<<":
                raise key.error("YAML merge keys (<<) are not supported in recipes")
            items[key.value] = _convert(v, src)
            keys[key.value] = key
        return Map(items, keys, mark.line, mark.column, src)
    raise RecipeError(f"unsupported YAML node {type(node).__name__}")


def _compose(text: str) -> object:
    try:
        return libyaml.compose(text)
    except ImportError:  # PyYAML without its C extension: the (slower) Python composer
        import yaml

        return yaml.compose(text, Loader=yaml.SafeLoader)


def parse_yaml(text: str, path: Path | str = "<string>") -> Node | None:
    """Parse `text` into a node tree; None for an empty document. Raises RecipeError."""
    src = Source(str(path), text)
    try:
        root = _compose(text)
    except Exception as exc:
        # YAML errors only (by now `yaml` is complete: libyaml.compose raises PyYAML's own).
        import yaml

        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            raise RecipeError(
                f"invalid YAML: {exc.problem or exc.context}",
                path=path,
                line=mark.line if mark else None,
                column=mark.column if mark else None,
                source=text,
            ) from None
        if isinstance(exc, yaml.reader.ReaderError):
            # A character YAML does not allow (control characters): there is no mark, only
            # the offset into the text.
            at = min(max(exc.position, 0), len(text))
            line = text.count("\n", 0, at)
            column = at - (text.rfind("\n", 0, at) + 1)
            what = exc.character
            what = f"#x{what:04x}" if isinstance(what, int) else repr(what)
            raise RecipeError(
                f"invalid YAML: unacceptable character {what}: {exc.reason}",
                path=path,
                line=line,
                column=column,
                source=text,
            ) from None
        raise
    if root is None:
        return None
    return _convert(root, src)


def to_python(node: Node | None) -> object:
    """The plain Python value of a (template-free) node tree."""
    if node is None:
        return None
    if isinstance(node, Scalar):
        return plain_value(node)
    if isinstance(node, Seq):
        return [to_python(x) for x in node.items]
    assert isinstance(node, Map)
    return {k: to_python(v) for k, v in node.items.items()}
