"""String matchers for match-spec fields such as the build string: exact, glob or regex.

Following conda: text that starts with `^` and ends with `$` is a regular expression; text with
a `*` is a glob where `*` matches any run of characters (everything else is literal) and the
whole string must match; anything else must be equal. Globs become anchored regexes once, at
parse time, and parsed matchers are cached per text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from naja.errors import ParseError

__all__ = ["StringMatcher"]

_KIND = "string matcher"


class StringMatcher:
    """`StringMatcher.parse("py27*").matches("py27_0")`; `str()` gives the text back."""

    __slots__ = ("_fn", "_text", "kind")

    _cache: ClassVar[dict[str, StringMatcher]] = {}

    _text: str
    _fn: Callable[[str], bool]
    kind: str  # "exact", "glob", "regex" or "any"

    def __new__(cls, text: str) -> StringMatcher:
        m = cls._cache.get(text)
        if m is None:
            m = object.__new__(cls)
            m._text, m.kind, m._fn = _compile(text)
            if len(cls._cache) > 1 << 16:
                cls._cache.clear()
            cls._cache[text] = m
        return m

    @classmethod
    def parse(cls, text: str) -> StringMatcher:
        m = cls._cache.get(text)
        return m if m is not None else cls(text)

    def matches(self, value: str) -> bool:
        return self._fn(value)

    @property
    def is_any(self) -> bool:
        return self.kind == "any"

    @property
    def is_exact(self) -> bool:
        return self.kind == "exact"

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"StringMatcher({self._text!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (StringMatcher, (self._text,))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StringMatcher):
            return self._text == other._text
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)


def _compile(raw: str) -> tuple[str, str, Callable[[str], bool]]:
    if not isinstance(raw, str):
        raise TypeError(f"StringMatcher() takes a str, not {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise ParseError(_KIND, raw, "empty pattern", 0)
    lead = len(raw) - len(raw.lstrip())
    ws = re.search(r"\s", text)
    if ws is not None:
        raise ParseError(_KIND, raw, "whitespace inside a pattern", lead + ws.start())
    if text == "*":
        return text, "any", lambda s: True
    if text.startswith("^") and text.endswith("$"):
        try:
            rx = re.compile(text)
        except re.error as e:
            raise ParseError(_KIND, raw, f"bad regex: {e.msg}", lead + (e.pos or 0)) from None
        match = rx.match
        return text, "regex", lambda s: match(s) is not None
    if "*" in text:
        body = ".*".join(re.escape(part) for part in text.split("*"))
        fullmatch = re.compile(body, re.DOTALL).fullmatch
        return text, "glob", lambda s: fullmatch(s) is not None
    return text, "exact", lambda s: s == text
