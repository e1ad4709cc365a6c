"""Conda version specs (`>=1.2,<2|3.*`) and build number specs, parsed once into matchers.

Grammar (conda's): constraints joined by `,` (and) which binds tighter than `|` (or), with
parentheses for grouping. A constraint is one of

- `*` — any version;
- `1.2` — exactly 1.2 (`==`, zero-padded so 1.2.0 matches too);
- `1.2.*` or `1.2*` — versions starting with 1.2 (1.2, 1.2.0, 1.2a, 1.2.5; not 1.20);
- `=1.2` — "fuzzy" equality, the same as `1.2.*`;
- `==`, `!=`, `<`, `<=`, `>`, `>=` followed by a version; a trailing `.*` is dropped except for
  `=` (fuzzy anyway) and `!=` (`!=1.2.*` excludes the whole 1.2 series); a `*` glued to the
  version of an order operator is a component below every other (`>=1.2*` admits `1.2a1`);
- `~=1.2.3` — compatible release: `>=1.2.3` and `1.2.*`;
- `^1\\.2.*$` — a regular expression on the version text;
- `1.*.3` — a `*` inside a version (conda turns it into a regular expression).

A repeated trailing wildcard (`1.2.*.*`, found in real pytorch repodata) reads as `1.2.*`;
`strict=True` rejects it instead. docs/differences.md lists where this differs from rattler.

MatchSpec callers: conda reads `name 1.2` as the exact version (`VersionSpec.parse("1.2")`)
and `name=1.2` as fuzzy (`VersionSpec.parse("=1.2")`, or `"1.2.*"`); both are expressible here.
`str()` is conda's canonical form: constraints as written (minus spaces, `1.2*` spelled `1.2.*`),
groups parenthesized only where `|` sits inside `,`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from naja.errors import ParseError
from naja.specs.version import Version, plain_parts, star_key

__all__ = ["BuildNumberSpec", "VersionSpec"]

_KIND = "version spec"
_OPERATOR = re.compile(r"~=|==|!=|<=|>=|=|<|>|")
_Matcher = Callable[[Version], bool]
_REPEATED_TAIL = re.compile(r"(?:\.\*)+$")


def _always(_: Version) -> bool:
    return True


class _Node:
    """One parsed piece of a spec: its canonical text, matcher, and whether it is an `|`."""

    __slots__ = ("fn", "is_exact", "is_or", "text")

    def __init__(self, text: str, fn: _Matcher, is_or: bool = False, is_exact: bool = False):
        self.text = text
        self.fn = fn
        self.is_or = is_or
        self.is_exact = is_exact


def _all_of(fns: list[_Matcher]) -> _Matcher:
    if len(fns) == 2:
        a, b = fns
        return lambda v: a(v) and b(v)

    def match(v: Version) -> bool:
        # A plain loop: all() over a generator costs more per call on this hot path.
        for f in fns:  # noqa: SIM110
            if not f(v):
                return False
        return True

    return match


def _any_of(fns: list[_Matcher]) -> _Matcher:
    if len(fns) == 2:
        a, b = fns
        return lambda v: a(v) or b(v)

    def match(v: Version) -> bool:
        for f in fns:  # noqa: SIM110
            if f(v):
                return True
        return False

    return match


def _parse_version(spec: str, text: str, pos: int) -> Version:
    """A version inside a spec; errors point into the whole spec."""
    if not text:
        raise ParseError(_KIND, spec, "missing version", pos)
    try:
        return Version.parse(text)
    except ParseError as e:
        where = pos + (e.position or 0)
        raise ParseError(_KIND, spec, f"{e.reason} in version {text!r}", where) from None


_NUMERIC = re.compile(r"[0-9]+(?:\.[0-9]+)*").fullmatch


def _startswith_matcher(prefix: Version) -> _Matcher:
    # Fast path for the common `1.2.*` shape (plain numbers, no epoch or local): the candidate's
    # zero-padded leading segments must equal the prefix, and its next first component the
    # prefix's last number.
    if _NUMERIC(prefix.normalized) is not None:
        numbers = [int(x) for x in prefix.normalized.split(".")]
        head = tuple(numbers[:-1])
        last = numbers[-1]
        n = len(head)

        def match(v: Version) -> bool:
            if v._key.__class__ is not tuple:
                v._fill()  # a plain version parsed but not yet compared
            if v._epoch:
                return False
            vs = v._segments
            k = len(vs)
            for i in range(n):
                if i < k:
                    s = vs[i]
                    if s[0] != head[i] or (len(s) > 1 and _padded_int(s) != head[i]):
                        return False
                elif head[i]:
                    return False
            return (vs[n][0] if n < k else 0) == last

        return match
    return lambda v: v.startswith(prefix)


def _padded_int(seg: tuple) -> int | None:
    """The number a segment equals under zero padding (`(1, 0)` -> 1), or None."""
    if type(seg[0]) is not int:
        return None
    for c in seg[1:]:
        if c != 0 or type(c) is not int:
            return None
    return seg[0]


# `>=1.2`, `<2.0a0`, `1.11`: an operator (or none) and a plain version (see version._PLAIN).
_SIMPLE_LEAF = re.compile(r"(>=|<=|==|!=|<|>|)([0-9a-z]+(?:\.[0-9a-z]+)*)").fullmatch
# Matchers comparing a candidate's key with the spec version's key. A candidate whose key is
# still pending (see version._Pending) computes it inside the comparison.
_KEY_TESTS: dict[str, Callable[[tuple], _Matcher]] = {
    "": lambda key: lambda v: v._key == key,
    "==": lambda key: lambda v: v._key == key,
    "!=": lambda key: lambda v: v._key != key,
    ">=": lambda key: lambda v: v._key >= key,
    ">": lambda key: lambda v: v._key > key,
    "<=": lambda key: lambda v: v._key <= key,
    "<": lambda key: lambda v: v._key < key,
}


def _leaf(spec: str, raw: str, pos: int, strict: bool) -> _Node:
    """Parse one constraint `raw` found at `pos` in `spec` (already stripped)."""
    m = _SIMPLE_LEAF(raw)
    if m is not None:
        op, body = m.groups()
        v = Version.parse(body)
        return _Node(raw, _KEY_TESTS[op](v.sort_key), False, op in ("", "=="))
    if not strict and raw.endswith(".*.*"):
        # Real repodata has `pytorch 1.*.*`; read a repeated trailing `.*` as one (as rattler
        # does) instead of conda's text pattern, which would reject `1.2` for having one dot.
        raw = _REPEATED_TAIL.sub(".*", raw)
    if raw == "*":
        return _Node("*", _always)
    if raw.startswith("^") or raw.endswith("$"):
        if not (raw.startswith("^") and raw.endswith("$")):
            where = pos if not raw.startswith("^") else pos + len(raw)
            raise ParseError(
                _KIND, spec, "a regex spec must start with '^' and end with '$'", where
            )
        try:
            rx = re.compile(raw)
        except re.error as e:
            raise ParseError(_KIND, spec, f"bad regex: {e.msg}", pos + (e.pos or 0)) from None
        return _Node(raw, lambda v: rx.match(str(v)) is not None)
    op = _OPERATOR.match(raw).group()  # type: ignore[union-attr]
    if not op and raw[0] in "=<>!~":
        raise ParseError(_KIND, spec, "invalid operator", pos)
    if op:
        vpos = pos + len(op)
        body = raw[len(op) :]
        if body.startswith("="):
            raise ParseError(_KIND, spec, f"invalid operator '{op}='", pos)
        stripped = body.lstrip()
        vpos += len(body) - len(stripped)
        body = stripped
        if body == "*" and op in ("=", "==", ">="):
            return _Node("*", _always)  # `=*`, `>=*`: any version (as rattler reads them)
        star = body.endswith("*")
        glued_star = star and not body.endswith(".*")
        if star:
            body = body[:-2] if body.endswith(".*") else body[:-1]
            if op == "~=":
                raise ParseError(_KIND, spec, "'~=' cannot be combined with '.*'", vpos + len(body))
        text = raw if not stripped or stripped == raw[len(op) :] else op + stripped
        v = _parse_version(spec, body, vpos)
        if glued_star and op in ("<", "<=", ">", ">="):
            # conda orders `1.2*` as 1.2 followed by a `*` component, below 1.2a and 1.2dev.
            return _Node(text, _KEY_TESTS[op](star_key(v)))
        if op == "!=" and star:
            sw = _startswith_matcher(v)
            return _Node(text, lambda x: not sw(x))
        if op == "=":
            return _Node(text, _startswith_matcher(v))
        if op != "~=":
            return _Node(text, _KEY_TESTS[op](v.sort_key), False, op == "==")
        # `~=`: conda cuts the normalized text at its last `.`; without one there is no series.
        prefix = v.compatible_prefix()
        if prefix is None:
            raise ParseError(
                _KIND, spec, "'~=' needs a version with at least two parts, e.g. ~=1.2", vpos
            )
        sw = _startswith_matcher(prefix)
        at_least = _KEY_TESTS[">="](v.sort_key)
        return _Node(text, lambda x: at_least(x) and sw(x))
    head = raw.rstrip("*")
    if "*" in head:
        # A `*` inside the version: conda matches the text as a pattern.
        twice = re.search(r"\*\.?\*", raw)
        if twice is not None or head.endswith("."):
            where = pos + (twice.start() if twice else len(head) - 1)
            raise ParseError(_KIND, spec, "repeated wildcard", where)
        bad = re.search(r"[^*.+!_0-9A-Za-z-]", raw)
        if bad is not None:
            raise ParseError(_KIND, spec, f"invalid character {bad.group()!r}", pos + bad.start())
        body = re.escape(raw).replace(r"\*", ".*")
        rx = re.compile(rf"^(?:{body})$", re.IGNORECASE)
        return _Node(raw, lambda x: rx.match(str(x)) is not None)
    if raw.endswith("*"):
        if len(raw) - len(head) > 1:
            raise ParseError(_KIND, spec, "repeated wildcard", pos + len(head) + 1)
        body = raw[:-2] if raw.endswith(".*") else raw[:-1]
        if body.endswith("."):
            raise ParseError(_KIND, spec, "empty version component", pos + len(body))
        v = _parse_version(spec, body, pos)
        return _Node(body + ".*", _startswith_matcher(v))
    v = _parse_version(spec, raw, pos)
    return _Node(raw, _KEY_TESTS["=="](v.sort_key), False, True)


_WS = re.compile(r"\s*")
_CONSTRAINT = re.compile(r"[^|,()]*")
_SPECIAL = re.compile(r"[|()^$]")
# Parsed constraints by text: real repodata repeats `>=1.2` and `<2.0a0` across many specs.
_LEAVES: dict[str, _Node] = {}


def clear_caches() -> None:
    """Forget every parsed spec and constraint (for benchmarks of cold parsing)."""
    _LEAVES.clear()
    VersionSpec._cache.clear()
    VersionSpec._strict_cache.clear()
    BuildNumberSpec._cache.clear()


def _parse_flat(t: str, strict: bool) -> _Node:
    """The common shape, `>=1.2,<2.0a0`: constraints joined by `,` only."""
    leaves = _LEAVES if not strict else {}
    nodes = []
    pos = 0
    for piece in t.split(","):
        node = leaves.get(piece)
        if node is None:
            raw = piece.strip()
            if not raw:
                if not t.strip():
                    raise ParseError(_KIND, t, "empty version spec", 0)
                raise ParseError(_KIND, t, "missing version constraint", pos + len(piece))
            node = _leaf(t, raw, pos + piece.index(raw[0]), strict)
            if len(leaves) < 1 << 16:
                leaves[piece] = node
        nodes.append(node)
        pos += len(piece) + 1
    if len(nodes) == 1:
        return nodes[0]
    text = ",".join([n.text for n in nodes])
    return _Group(text, _all_of([n.fn for n in nodes]), nodes, False)


class _Parser:
    """Recursive descent over `|`, `,`, parentheses; constraints are the text in between."""

    __slots__ = ("i", "strict", "text")

    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.strict = strict
        self.i = 0

    def parse(self) -> _Node:
        t = self.text
        if _SPECIAL.search(t) is None:
            return _parse_flat(t, self.strict)
        node = self.parse_or()
        if self.peek():
            ch = t[self.i]
            reason = "unbalanced ')'" if ch == ")" else f"unexpected {ch!r}"
            raise ParseError(_KIND, t, reason, self.i)
        return node

    def parse_or(self) -> _Node:
        parts = [self.parse_and()]
        while self.peek() == "|":
            self.i += 1
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        flat: list[_Node] = []
        for p in parts:
            flat.extend(p.fn_children if isinstance(p, _Group) and p.is_or else [p])
        text = "|".join(p.text for p in flat)
        return _Group(text, _any_of([p.fn for p in flat]), flat, is_or=True)

    def parse_and(self) -> _Node:
        parts = [self.parse_atom()]
        while self.peek() == ",":
            self.i += 1
            parts.append(self.parse_atom())
        if len(parts) == 1:
            return parts[0]
        flat: list[_Node] = []
        for p in parts:
            flat.extend(p.fn_children if isinstance(p, _Group) and not p.is_or else [p])
        text = ",".join(f"({p.text})" if p.is_or else p.text for p in flat)
        return _Group(text, _all_of([p.fn for p in flat]), flat, is_or=False)

    def peek(self) -> str:
        t = self.text
        i = _WS.match(t, self.i).end()  # type: ignore[union-attr]
        self.i = i
        return t[i] if i < len(t) else ""

    def parse_atom(self) -> _Node:
        t = self.text
        ch = self.peek()
        start = self.i
        if ch == "(":
            self.i += 1
            node = self.parse_or()
            if self.peek() != ")":
                raise ParseError(_KIND, t, "unclosed '('", start)
            self.i += 1
            return node
        if ch == "^":
            # A regex may itself contain `|`, `,` and parentheses: it runs to the next `$`.
            end = t.find("$", start)
            if end < 0:
                raise ParseError(_KIND, t, "a regex spec must end with '$'", len(t))
            self.i = end + 1
        else:
            self.i = _CONSTRAINT.match(t, start).end()  # type: ignore[union-attr]
        raw = t[start : self.i].rstrip()
        if not raw:
            raise ParseError(_KIND, t, "missing version constraint", start)
        return _leaf(t, raw, start, self.strict)


# A flat list of `op version` constraints with plain versions and no blanks (`>=1.2,<2.0a0`):
# valid by construction, so parsing can stop at this match and build the matcher on first use.
_SIMPLE_SPEC = re.compile(
    r"(?:>=|<=|==|!=|<|>)?[0-9a-z]+(?:\.[0-9a-z]+)*(?:,(?:>=|<=|==|!=|<|>)?[0-9a-z]+(?:\.[0-9a-z]+)*)*"
).fullmatch


def _simple_leaf(piece: str) -> _Node:
    """A constraint of a `_SIMPLE_SPEC` text: valid by construction, so no checks."""
    node = _LEAVES.get(piece)
    if node is None:
        cut = (2 if piece[1] == "=" else 1) if piece[0] in "<>=!" else 0
        op = piece[:cut]
        body = piece[cut:]
        # Only the key is needed: skip building a Version unless one exists already.
        v = Version._cache.get(body)
        key = v.sort_key if v is not None else plain_parts(body)[1]
        node = _Node(piece, _KEY_TESTS[op](key), False, op == "" or op == "==")
        if len(_LEAVES) < 1 << 16:
            _LEAVES[piece] = node
    return node


def _compile_simple(text: str) -> _Node:
    if "," not in text:
        return _simple_leaf(text)
    nodes = [_simple_leaf(piece) for piece in text.split(",")]
    return _Group(text, _all_of([n.fn for n in nodes]), nodes, False)


def _create(text: str, strict: bool) -> VersionSpec:
    if text.__class__ is not str:
        raise TypeError(f"VersionSpec() takes a str, not {type(text).__name__}")
    spec = object.__new__(VersionSpec)
    if _SIMPLE_SPEC(text) is not None:
        spec._node = None
        spec._text = text
        spec._fn = spec._first_match
    else:
        node = (
            _parse_flat(text, strict)
            if _SPECIAL.search(text) is None
            else _Parser(text, strict).parse()
        )
        spec._node = node
        spec._text = node.text
        spec._fn = node.fn
    cache = VersionSpec._strict_cache if strict else VersionSpec._cache
    if len(cache) > 1 << 16:
        cache.clear()
    cache[text] = spec
    return spec


class _Group(_Node):
    __slots__ = ("fn_children",)

    def __init__(self, text: str, fn: _Matcher, children: list[_Node], is_or: bool):
        super().__init__(text, fn, is_or=is_or)
        self.fn_children = children


class VersionSpec:
    """A parsed conda version spec. `VersionSpec(text)` / `VersionSpec.parse(text)` are cached.

    `matches(version)` takes a `Version` (or a version string); equality and hashing go by the
    canonical `str()`. `strict=True` also rejects what only lenient readers accept (a repeated
    trailing wildcard such as `1.2.*.*`, which the default mode reads as `1.2.*`).
    """

    __slots__ = ("_fn", "_node", "_text")

    _cache: ClassVar[dict[str, VersionSpec]] = {}
    _strict_cache: ClassVar[dict[str, VersionSpec]] = {}

    def __new__(cls, text: str, strict: bool = False) -> VersionSpec:
        spec = (cls._strict_cache if strict else cls._cache).get(text)
        return spec if spec is not None else _create(text, strict)

    @classmethod
    def parse(cls, text: str, strict: bool = False) -> VersionSpec:
        """Parse `text` (cached); raises `ParseError` naming the text and position."""
        spec = (cls._strict_cache if strict else cls._cache).get(text)
        return spec if spec is not None else _create(text, strict)

    def matches(self, version: Version | str) -> bool:
        if version.__class__ is not Version:
            version = Version.parse(version)  # type: ignore[arg-type]
        return self._fn(version)  # type: ignore[arg-type]

    def _compiled(self) -> _Node:
        node = self._node
        if node is None:
            node = self._node = _compile_simple(self._text)
            self._fn = node.fn
        return node

    def _first_match(self, version: Version) -> bool:
        return self._compiled().fn(version)

    @property
    def matcher(self) -> _Matcher:
        """The bare `Version -> bool` function (skips the str check of `matches`)."""
        return self._compiled().fn

    @property
    def is_any(self) -> bool:
        return self._node is not None and self._fn is _always

    @property
    def is_exact(self) -> bool:
        """True for a single exact version (`1.2` or `==1.2`)."""
        return self._compiled().is_exact

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"VersionSpec({self._text!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (VersionSpec, (self._text,))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, VersionSpec):
            return self._text == other._text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)


_BN_KIND = "build number spec"
_BN_OPS: dict[str, Callable[[int, int], bool]] = {
    "==": int.__eq__,
    "=": int.__eq__,  # conda's fuzzy `=` on a single number is equality
    "!=": int.__ne__,
    "<=": int.__le__,
    ">=": int.__ge__,
    "<": int.__lt__,
    ">": int.__gt__,
}


class BuildNumberSpec:
    """A build number constraint: `3`, `*`, `>=2`, `!=0`, `<5`, or a regex like `^1[0-9]$`."""

    __slots__ = ("_fn", "_text")

    _cache: ClassVar[dict[str, BuildNumberSpec]] = {}

    def __new__(cls, text: str | int) -> BuildNumberSpec:
        key = str(text)
        spec = cls._cache.get(key)
        if spec is None:
            spec = object.__new__(cls)
            spec._text, spec._fn = _build_number(key)
            cls._cache[key] = spec
        return spec

    @classmethod
    def parse(cls, text: str | int) -> BuildNumberSpec:
        return cls(text)

    def matches(self, build_number: int) -> bool:
        return self._fn(build_number)

    @property
    def is_any(self) -> bool:
        return self._text == "*"

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"BuildNumberSpec({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BuildNumberSpec):
            return self._text == other._text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)


def _build_number(raw: str) -> tuple[str, Callable[[int], bool]]:
    text = raw.strip()
    lead = len(raw) - len(raw.lstrip())
    if not text:
        raise ParseError(_BN_KIND, raw, "empty build number spec", 0)
    if text == "*":
        return text, lambda n: True
    if text.startswith("^") or text.endswith("$"):
        if not (text.startswith("^") and text.endswith("$")):
            raise ParseError(_BN_KIND, raw, "a regex must start with '^' and end with '$'", lead)
        try:
            rx = re.compile(text)
        except re.error as e:
            raise ParseError(_BN_KIND, raw, f"bad regex: {e.msg}", lead + (e.pos or 0)) from None
        return text, lambda n: rx.match(str(n)) is not None
    op = next((o for o in ("==", "!=", "<=", ">=", "=", "<", ">") if text.startswith(o)), "")
    if not op and text[0] in "=<>!~":
        raise ParseError(_BN_KIND, raw, "invalid operator", lead)
    body = text[len(op) :].strip()
    pos = lead + len(text) - len(body)
    if not body:
        raise ParseError(_BN_KIND, raw, "missing build number", pos)
    if not body.isdigit() or not body.isascii():
        raise ParseError(_BN_KIND, raw, "a build number is a non-negative integer", pos)
    number = int(body)
    if not op or op in ("==", "="):
        return (op + body if op == "==" else body) if op else body, lambda n: n == number
    fn = _BN_OPS[op]
    return op + body, lambda n: fn(n, number)
