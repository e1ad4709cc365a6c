"""Conda package versions: parsing and conda's exact ordering (`VersionOrder` semantics).

A version is `[epoch!]segments[+local]`. Segments are split on `.` and `_` (or on `-` when the
text has no `_`), and each segment into runs of digits and letters; a segment that starts with a
letter gets an implicit leading `0` so numbers and strings stay in phase. Comparison is
case-insensitive, pads missing segments and components with `0` (so `1.0 == 1.0.0`), ranks
strings below numbers, `dev` below every other string and `post` above every number.

Each version gets a flat comparison key (see the comment at `_END`) so that ordering, equality
and hashing are plain tuple operations. For the common plain shape (`1.2.3`, `2.0rc1`) parsing is
one regular-expression match and the key is computed on first comparison; `Version.parse` /
`Version(text)` are cached per text.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from naja.errors import ParseError

__all__ = ["Version"]

_KIND = "version"
_POST = float("inf")  # conda maps `post` to infinity: above every number
_DEV = "DEV"  # upper case sorts below every other (lower-cased) string, as in conda

_INVALID_CHAR = re.compile(r"[^.+!_0-9a-z]")
# `*` runs only occur in the keys of version specs like `>=1.2*` (see `star_key`).
_RUNS = re.compile(r"[0-9]+|\*+|[^0-9*]+")
# Most real versions are lower-case dotted runs (`1.2.3`, `2.0rc1`): for those, parsing is this
# match alone and the components and key are filled in on first use (see `Version._fill`).
_PLAIN = re.compile(r"[0-9a-z]+(?:\.[0-9a-z]+)*").fullmatch

# Comparison keys. A segment's components are padded with 0 when compared, and so are the
# segments of a version (padded with all-zero segments). Padding with a minimum element would
# be plain tuple-prefix order, but 0 is *not* the minimum: strings sort below it. So each
# component is encoded as three slots (tag, value, sign); a 0 carries the sign of the next
# non-zero component (-1 if that is a string, so `1.0a` < `1`), trailing zeros are dropped and
# the terminator `_END` stands for "zeros from here on". The segment level repeats the trick.
_END = (1, 0, 0)
_SEG_END = (1, 0, 0, 0)
_NO_LOCAL = _SEG_END
_ZERO_SEG_BELOW = (1, 0, 0, -1)  # an all-zero segment followed by a segment sorting below zero
_ZERO_SEG_ABOVE = (1, 0, 0, 1)


def _segment_key(comps: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The flat key of one segment, or None when the segment is all zeros."""
    end = len(comps)
    while end and comps[end - 1] == 0 and type(comps[end - 1]) is int:
        end -= 1
    if not end:
        return None
    triples: list[tuple[Any, Any, int]] = []
    # Walk backwards so each zero knows whether the next non-zero component is a string.
    next_is_str = False
    for c in reversed(comps[:end]):
        if type(c) is str:
            triples.append((0, c, 0))
            next_is_str = True
        elif type(c) is float:  # post
            triples.append((2, 0, 0))
            next_is_str = False
        elif c:
            triples.append((1, c, 0))
            next_is_str = False
        else:
            triples.append((1, 0, -1 if next_is_str else 1))
    out: list[Any] = []
    for t in reversed(triples):
        out += t
    out += _END
    return tuple(out)


def _join_keys(keys: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The key of a run of segments from their keys (`_ZERO` for all-zero segments).

    The segment keys are concatenated into one flat tuple: every component takes three slots
    and each segment ends in a terminator, so equal segments keep two keys aligned and the
    first unequal segment decides at a slot inside it.
    """
    out: list[Any] = []
    zeros = 0
    for k in keys:
        if k is _ZERO:
            zeros += 1  # decided by the next non-zero segment; trailing ones are dropped
            continue
        if zeros:
            out += (_ZERO_SEG_BELOW if k < _END else _ZERO_SEG_ABOVE) * zeros
            zeros = 0
        out += k
    out += _SEG_END
    return tuple(out)


_ZERO: tuple[Any, ...] = ()  # the key `_segment_info` gives an all-zero segment
# Segment text -> (components, key). Versions share few distinct segments (`0`, `1`, `2rc1`).
_SEGMENT_INFO: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}


def _segment_info(seg: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    info = _SEGMENT_INFO.get(seg)
    if info is not None:
        return info
    comps: list[Any] = []
    for run in _RUNS.findall(seg):
        if run[0].isdigit():
            comps.append(int(run))
        elif run == "post":
            comps.append(_POST)
        elif run == "dev":
            comps.append(_DEV)
        else:
            comps.append(run)
    if not seg[0].isdigit():
        comps.insert(0, 0)
    out = tuple(comps)
    info = (out, _segment_key(out) or _ZERO)
    if len(_SEGMENT_INFO) < 1 << 16:
        _SEGMENT_INFO[seg] = info
    return info


def _split_part(
    text: str, part: str, offset: int, trailing_underscore: bool
) -> tuple[tuple[tuple[Any, ...], ...], tuple[Any, ...]]:
    """Split `part` (at `offset` in `text`) into segment component tuples, and their key."""
    keep_underscore = trailing_underscore and part.endswith("_")
    if keep_underscore:
        # conda keeps a trailing `_` (`1.0_`, openssl-like `1.0.2-`) as part of the last
        # segment instead of treating it as a separator.
        part = part[:-1]
    pieces = part.replace("_", ".").split(".")
    if keep_underscore:
        pieces[-1] += "_"
    segments = []
    keys = []
    pos = offset
    for piece in pieces:
        if not piece:
            raise ParseError(_KIND, text, "empty version component", pos)
        comps, key = _segment_info(piece)
        segments.append(comps)
        keys.append(key)
        pos += len(piece) + 1
    return tuple(segments), _join_keys(keys)


class _Pending:
    """The key of a plain version not compared yet: computes the real key when compared."""

    __slots__ = ("version",)

    version: Version

    def key(self) -> tuple[Any, ...]:
        v = self.version
        v._fill()
        return v._key

    def __lt__(self, other: Any) -> bool:
        return self.key() < _real(other)

    def __le__(self, other: Any) -> bool:
        return self.key() <= _real(other)

    def __gt__(self, other: Any) -> bool:
        return self.key() > _real(other)

    def __ge__(self, other: Any) -> bool:
        return self.key() >= _real(other)

    def __eq__(self, other: object) -> bool:
        return self.key() == _real(other)

    def __ne__(self, other: object) -> bool:
        return self.key() != _real(other)

    __hash__ = None  # type: ignore[assignment]


def _real(key: Any) -> Any:
    return key.key() if key.__class__ is _Pending else key


class Version:
    """A conda version. `Version(text)` and `Version.parse(text)` return a cached instance.

    Ordering, equality and hashing follow conda (`1.0 == 1.0.0`, `1.0a < 1.0 < 1.0.post1`,
    `1.0dev < 1.0_ < 1.0a`). `str()` is the text as given (surrounding whitespace stripped).
    """

    __slots__ = ("_epoch", "_hash", "_key", "_local", "_norm", "_segments", "_text")

    _cache: ClassVar[dict[str, Version]] = {}
    _CACHE_LIMIT: ClassVar[int] = 1 << 18

    # A plain version (see `_PLAIN`) only has `_text` and `_norm` set by the parser, and a
    # `_Pending` as `_key`; `_fill` sets the other slots on first use. Comparing keys with a
    # `_Pending` fills it in, so comparisons need no test or exception on the common path.
    _text: str
    _norm: str
    _epoch: int
    _segments: tuple[tuple[Any, ...], ...]
    _local: tuple[tuple[Any, ...], ...]
    _key: tuple[Any, ...]
    _hash: int

    def __new__(cls, text: str) -> Version:
        v = cls._cache.get(text)
        if v is None:
            if _PLAIN(text) is not None:
                v = object.__new__(cls)
                v._text = v._norm = text
                pending = object.__new__(_Pending)
                pending.version = v
                v._key = pending  # type: ignore[assignment]  # replaced by `_fill` on first use
            else:
                v = cls._build(text)
            if len(cls._cache) >= cls._CACHE_LIMIT:
                cls._cache.clear()
            cls._cache[text] = v
        return v

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse `text` (cached); raises `ParseError` on invalid versions."""
        v = cls._cache.get(text)
        if v is None:
            v = cls(text)
        return v

    def _fill(self) -> None:
        """Split a plain version and compute its key (deferred from parsing)."""
        segments, key = plain_parts(self._norm)
        self._epoch = 0
        self._segments = segments
        self._local = ()
        self._key = key
        self._hash = hash(key)

    @classmethod
    def _build(cls, raw: str) -> Version:
        if not isinstance(raw, str):
            raise TypeError(f"Version() takes a str, not {type(raw).__name__}")
        text = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        if not text:
            raise ParseError(_KIND, raw, "empty version", 0)
        norm = text.lower()
        bad = _INVALID_CHAR.search(norm)
        if bad is not None and "-" in norm and "_" not in norm:
            # conda accepts `-` as a separator as long as the text has no `_`.
            norm = norm.replace("-", "_")
            bad = _INVALID_CHAR.search(norm)
        if bad is not None:
            ch = bad.group()
            reason = (
                "cannot mix '-' and '_' as separators"
                if ch == "-"
                else f"invalid character {text[bad.start()]!r}"
            )
            raise ParseError(_KIND, raw, reason, lead + bad.start())

        rest = norm
        offset = lead
        epoch = 0
        bang = rest.find("!")
        if bang >= 0:
            second = rest.find("!", bang + 1)
            if second >= 0:
                raise ParseError(_KIND, raw, "more than one epoch separator '!'", lead + second)
            if not rest[:bang].isdigit():
                raise ParseError(_KIND, raw, "epoch must be an integer", lead)
            epoch = int(rest[:bang])
            rest = rest[bang + 1 :]
            offset += bang + 1

        local_segments: tuple[tuple[Any, ...], ...] = ()
        local_key = _NO_LOCAL
        plus = rest.find("+")
        if plus >= 0:
            second = rest.find("+", plus + 1)
            if second >= 0:
                raise ParseError(
                    _KIND, raw, "more than one local version separator '+'", offset + second
                )
            local = rest[plus + 1 :]
            if not local:
                raise ParseError(_KIND, raw, "empty local version after '+'", offset + plus + 1)
            local_segments, local_key = _split_part(raw, local, offset + plus + 1, False)
            rest = rest[:plus]
        if not rest:
            raise ParseError(_KIND, raw, "missing version before the local version", offset)
        segments, key = _split_part(raw, rest, offset, True)

        self = object.__new__(cls)
        self._text = text
        self._norm = norm
        self._epoch = epoch
        self._segments = segments
        self._local = local_segments
        self._key = (epoch, *key, *local_key)
        self._hash = hash(self._key)
        return self

    # ---- accessors -------------------------------------------------------------------------

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Version({self._text!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Version, (self._text,))

    @property
    def epoch(self) -> int:
        if self._key.__class__ is _Pending:
            self._fill()
        return self._epoch

    @property
    def normalized(self) -> str:
        """conda's normalized text: lower case, `-` turned into `_` when used as separator."""
        return self._norm

    @property
    def local(self) -> str:
        """The local version label after `+` ("" when there is none)."""
        plus = self._norm.find("+")
        return "" if plus < 0 else self._text[plus + 1 :]

    @property
    def has_local(self) -> bool:
        return "+" in self._norm

    @property
    def segments(self) -> tuple[tuple[Any, ...], ...]:
        """Segments (without epoch) as component tuples: ints, strings, `inf` for post."""
        if self._key.__class__ is _Pending:
            self._fill()
        return self._segments

    @property
    def local_segments(self) -> tuple[tuple[Any, ...], ...]:
        if self._key.__class__ is _Pending:
            self._fill()
        return self._local

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """A key with the same ordering and equality as the version (for fast `sorted`)."""
        if self._key.__class__ is _Pending:
            self._fill()
        return self._key

    @property
    def is_dev(self) -> bool:
        return any(c == _DEV for seg in self.segments for c in seg)

    def conda_parts(self) -> list[list[Any]]:
        """conda's `VersionOrder.version`: epoch first, then each segment's components."""
        return [[self.epoch], *([*seg] for seg in self.segments)]

    # ---- ordering --------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if other.__class__ is Version:
            return self._key == other._key  # type: ignore[union-attr]
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if other.__class__ is Version:
            return self._key != other._key  # type: ignore[union-attr]
        return NotImplemented

    def __hash__(self) -> int:
        if self._key.__class__ is _Pending:
            self._fill()
        return self._hash

    def __lt__(self, other: Version) -> bool:
        try:
            return self._key < other._key
        except (TypeError, AttributeError):
            if other.__class__ is not Version:
                return NotImplemented
            return self.sort_key < other.sort_key

    def __le__(self, other: Version) -> bool:
        try:
            return self._key <= other._key
        except (TypeError, AttributeError):
            if other.__class__ is not Version:
                return NotImplemented
            return self.sort_key <= other.sort_key

    def __gt__(self, other: Version) -> bool:
        try:
            return self._key > other._key
        except (TypeError, AttributeError):
            if other.__class__ is not Version:
                return NotImplemented
            return self.sort_key > other.sort_key

    def __ge__(self, other: Version) -> bool:
        try:
            return self._key >= other._key
        except (TypeError, AttributeError):
            if other.__class__ is not Version:
                return NotImplemented
            return self.sort_key >= other.sort_key

    # ---- helpers for match specs -----------------------------------------------------------

    def startswith(self, prefix: Version) -> bool:
        """conda's prefix test behind `1.2.*` and fuzzy `=1.2`.

        All segments of `prefix` but the last must equal ours (zero-padded); in the last one
        all components but the last must be equal, and its last component must equal ours if
        it is a number, or be a string prefix of ours if it is a string (`1.2a` starts with
        `1.2`, `1.2alpha` with `1.2a`). With a local part the versions must be equal and the
        test applies to the local segments instead.
        """
        if prefix.local_segments:
            if _public(self) != _public(prefix):
                return False
            return _startswith(self.local_segments, prefix.local_segments)
        if self.epoch != prefix.epoch:
            return False
        return _startswith(self.segments, prefix.segments)

    def compatible_with(self, other: Version) -> bool:
        """conda's `~=`: `self >= other` and `self` starts with `other` minus its last part."""
        if self < other:
            return False
        prefix = other.compatible_prefix()
        return prefix is None or self.startswith(prefix)

    def compatible_prefix(self) -> Version | None:
        """The prefix `~=` requires: the normalized text up to its last `.` (None if none)."""
        cut = self._norm.rfind(".")
        if cut <= 0:
            return None
        return Version.parse(self._norm[:cut])

    def bump(self, index: int = -1) -> Version:
        """The version with the first number of segment `index` incremented and later segments
        dropped (`1.2.3`.bump(1) -> `1.3`), as used for pin upper bounds."""
        segs = [list(s) for s in self.segments]
        i = index if index >= 0 else len(segs) + index
        if not 0 <= i < len(segs):
            raise IndexError(f"version {self._text} has no segment {index}")
        seg = segs[i]
        for j, c in enumerate(seg):
            if type(c) is int:
                seg[j] = c + 1
                break
        text = ".".join(_render_segment(s) for s in segs[: i + 1])
        if self.epoch:
            text = f"{self.epoch}!{text}"
        return Version.parse(text)


def plain_parts(norm: str) -> tuple[tuple[tuple[Any, ...], ...], tuple[Any, ...]]:
    """Segments and comparison key of a plain version text (one `_PLAIN` matches)."""
    segments = []
    out: list[Any] = [0]
    zeros = 0
    # `_join_keys` inlined: this runs once for most versions a program sees.
    for piece in norm.split("."):
        comps, k = _SEGMENT_INFO.get(piece) or _segment_info(piece)
        segments.append(comps)
        if k is _ZERO:
            zeros += 1
            continue
        if zeros:
            out += (_ZERO_SEG_BELOW if k < _END else _ZERO_SEG_ABOVE) * zeros
            zeros = 0
        out += k
    out += _SEG_END
    out += _NO_LOCAL
    return tuple(segments), tuple(out)


def star_key(v: Version) -> tuple[Any, ...]:
    """The comparison key of `v` with a `*` component appended to its last segment.

    conda reads the `1.2*` in `>=1.2*` as a version whose last component is the string `*`,
    which sorts below every other string: so `>=1.2*` admits `1.2a1` and `1.2dev`, and `<1.2*`
    excludes them. Only spec parsing needs this; versions themselves cannot contain `*`.
    """
    segments, local = v.segments, v.local_segments
    if local:
        # The `*` then ends the local label (`1.2+abc*`), as in conda.
        local = (*local[:-1], (*local[-1], "*"))
    else:
        segments = (*segments[:-1], (*segments[-1], "*"))
    key = _join_keys([_segment_key(seg) or _ZERO for seg in segments])
    local_key = _join_keys([_segment_key(seg) or _ZERO for seg in local])
    return (v.epoch, *key, *local_key)


def _public(v: Version) -> Version:
    """The version without its local part."""
    return Version.parse(v.normalized.partition("+")[0])


def _render_segment(seg: list[Any]) -> str:
    out = []
    for j, c in enumerate(seg):
        if c == _POST and type(c) is float:
            out.append("post")
        elif c == _DEV:
            out.append("dev")
        elif j == 0 and c == 0 and len(seg) > 1 and type(seg[1]) is str:
            continue  # the implicit 0 before a leading string
        else:
            out.append(str(c))
    return "".join(out)


def _seg_eq(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Components equal with zero padding."""
    if a == b:
        return True
    return _segment_key(a) == _segment_key(b)


def _startswith(t1: tuple[tuple[Any, ...], ...], t2: tuple[tuple[Any, ...], ...]) -> bool:
    n = len(t2) - 1
    for i in range(n):
        a = t1[i] if i < len(t1) else ()
        if not _seg_eq(a, t2[i]):
            return False
    v1 = t1[n] if n < len(t1) else ()
    v2 = t2[n]
    m = len(v2) - 1
    if not _seg_eq(v1[:m], v2[:m]):
        return False
    c1 = v1[m] if m < len(v1) else 0
    c2 = v2[m]
    if type(c2) is str:
        return type(c1) is str and c1.startswith(c2)
    return c1 == c2 and type(c1) is not str
