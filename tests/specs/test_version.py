"""naja.specs.version: conda's version ordering, checked on the real corpus against conda's parse
and py-rattler's ordering, plus properties on generated versions."""

from __future__ import annotations

import functools
import itertools
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naja.errors import ParseError
from naja.specs.version import Version
from tests.conftest import SHARED

rattler = pytest.importorskip("rattler")

VERSIONS = SHARED / "corpora" / "versions" / "versions.txt"
PARSED = SHARED / "corpora" / "versions" / "parsed_versions.txt"


@functools.cache
def corpus() -> list[str]:
    return sorted({line for line in VERSIONS.read_text().splitlines() if line})


def test_corpus_parses_like_conda() -> None:
    expected: dict[str, str] = {}
    for line in PARSED.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        text, _, parsed = line.partition("=")
        expected[text] = parsed
    assert len(expected) > 28_000
    wrong = [t for t, p in expected.items() if str(Version(t).conda_parts()) != p]
    assert wrong == []
    # The parse is data, not just a matching repr.
    assert Version("0.0.1.dev").conda_parts() == [[0], [0], [0], [1], [0, "DEV"]]
    assert Version("0.1rc1.post2").conda_parts() == [[0], [0], [1, "rc", 1], [0, float("inf"), 2]]


def test_corpus_order_and_equality_match_rattler() -> None:
    texts = corpus()
    ours = sorted(texts, key=Version)
    theirs = {t: rattler.Version(t) for t in texts}
    mismatches = []
    equal_pairs = 0
    for a, b in itertools.pairwise(ours):
        ra, rb = theirs[a], theirs[b]
        same = Version(a) == Version(b)
        equal_pairs += same
        if not ra <= rb or same != (ra == rb):
            mismatches.append((a, b))
    assert mismatches == []
    assert equal_pairs > 1000  # the corpus has many `1.0` / `1.0.0` style twins
    # And rattler's sort is also ours (same order classes).
    rsorted = sorted(texts, key=lambda t: theirs[t])
    assert all(Version(a) <= Version(b) for a, b in itertools.pairwise(rsorted))


def test_hash_agrees_with_equality_on_corpus() -> None:
    by_key: dict[Version, set[int]] = {}
    for t in corpus():
        v = Version(t)
        by_key.setdefault(v, set()).add(hash(v))
    assert all(len(hashes) == 1 for hashes in by_key.values())
    assert len(by_key) < len(corpus())


# The ordering example from conda's documentation; `==` rows are equal to the row above.
CONDA_DOC_ORDER = """
0.4
== 0.4.0
0.4.1.rc
== 0.4.1.RC
0.4.1
0.5a1
0.5b3
0.5C1
0.5
0.9.6
0.960923
1.0
1.1dev1
1.1_
1.1a1
1.1.0dev1
== 1.1.dev1
1.1.a1
1.1.0rc1
1.1.0
== 1.1
1.1.0post1
== 1.1.post1
1.1post1
1996.07.12
1!0.4.1
1!3.1.1.6
2!0.4.1
"""


def test_conda_documented_order() -> None:
    rows = [r.split() for r in CONDA_DOC_ORDER.strip().splitlines()]
    prev: Version | None = None
    for row in rows:
        v = Version(row[-1])
        if prev is not None:
            if row[0] == "==":
                assert v == prev and hash(v) == hash(prev), row
            else:
                assert prev < v and v > prev and not v <= prev, row
        prev = v


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0", "1.0.0.0"),
        ("1.0-1", "1.0_1"),  # `-` is a separator when there is no `_`
        ("1.0-1", "1.0.1"),
        ("1.0RC1", "1.0rc1"),
        ("1.0+0", "1.0"),  # an all-zero local part is no local part
        ("0!1.0", "1"),
        ("01.002", "1.2"),
    ],
)
def test_equal_versions(a: str, b: str) -> None:
    assert Version(a) == Version(b)
    assert hash(Version(a)) == hash(Version(b))
    assert str(Version(a)) == a  # the text is kept as written


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        ("1.0a", "1.0"),  # a string sorts below the implicit 0
        ("1.0.a", "1.0"),
        ("1.0dev", "1.0_"),
        ("1.0_", "1.0a"),
        ("1.0", "1.0.post"),
        ("1.0.post", "1.0.1"),
        ("1.0.9", "1.0post"),  # `post` in the same segment beats any number after 1.0
        ("1.0+a", "1.0"),  # conda compares local parts with the same padding
        ("1.0", "1.0+1"),
        ("1.9", "1.10"),
        ("2", "1!0"),
        ("1.1.0dev1", "1.1.a1"),
    ],
)
def test_order_pairs_agree_with_rattler(lo: str, hi: str) -> None:
    assert Version(lo) < Version(hi)
    assert rattler.Version(lo) < rattler.Version(hi)


def test_version_api() -> None:
    v = Version("1!2.3.4+Local_5")
    assert Version.parse("1!2.3.4+Local_5") is v  # cached
    assert v.epoch == 1
    assert v.local == "Local_5"
    assert v.has_local
    assert v.segments == ((2,), (3,), (4,))
    assert v.local_segments == ((0, "local"), (5,))
    assert str(v) == "1!2.3.4+Local_5"
    assert repr(v) == "Version('1!2.3.4+Local_5')"
    assert Version("1.0").local == "" and Version("1.0").epoch == 0
    assert pickle.loads(pickle.dumps(v)) == v
    assert Version("1.0.dev1").is_dev and not Version("1.0").is_dev
    assert Version("1.0").sort_key == Version("1.0.0").sort_key
    assert Version(" 1.0 ") == Version("1.0") and str(Version(" 1.0 ")) == "1.0"
    assert Version("1.0.2-A").normalized == "1.0.2_a"
    assert (Version("1.0") == "1.0") is False
    with pytest.raises(TypeError):
        Version(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("v", "prefix", "expected"),
    [
        ("1.2.3", "1.2", True),
        ("1.2", "1.2", True),
        ("1.20", "1.2", False),
        ("1.2a", "1.2", True),
        ("1.2alpha", "1.2a", True),  # conda: a string component matches as a text prefix
        ("1.2", "1.2a", False),
        ("1", "1.0", True),  # zero padding
        ("1.0b0", "1.0.0", False),  # `0b0` is not `0` padded, so not in the 1.0.0 series
        ("1.3", "1.2", False),
        ("1!1.2", "1.2", False),
        ("1.2+abc", "1.2+a", True),
        ("1.3+abc", "1.2+a", False),
    ],
)
def test_startswith(v: str, prefix: str, expected: bool) -> None:
    assert Version(v).startswith(Version(prefix)) is expected


def test_compatible_with_and_bump() -> None:
    assert Version("1.2.5").compatible_with(Version("1.2.3"))
    assert not Version("1.3").compatible_with(Version("1.2.3"))
    assert not Version("1.2.2").compatible_with(Version("1.2.3"))
    assert Version("2.1").compatible_with(Version("2"))  # no series to stay in: just >=
    assert Version("1.2.3").bump(1) == Version("1.3")
    assert str(Version("1.2.3").bump()) == "1.2.4"
    assert str(Version("1!2.3").bump(0)) == "1!3"
    with pytest.raises(IndexError):
        Version("1.2").bump(5)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("   ", 0),
        ("1..2", 2),
        ("1.2.", 4),
        (".1", 0),
        ("1+", 2),
        ("+1", 0),
        ("1+a+b", 3),
        ("1!2!3", 3),
        ("a!1", 0),
        ("!1", 0),
        ("1!", 2),
        ("1.0-1_2", 3),  # `-` and `_` cannot both be separators
        ("1 2", 1),
        ("1.*", 2),
        ("1.0@2", 3),
        ("1.0+a_", 6),  # a trailing `_` is kept only in the version part, as in conda
    ],
)
def test_bad_versions_raise_with_position(text: str, position: int) -> None:
    with pytest.raises(ParseError) as info:
        Version(text)
    err = info.value
    assert err.kind == "version" and err.text == text
    assert err.position == position
    assert repr(text) in str(err)


# ---- generated versions ----------------------------------------------------------------------

_words = st.sampled_from(["a", "b", "rc", "dev", "post", "alpha", "beta", "c", "z", "pre"])
_numbers = st.sampled_from(["0", "00", "1", "2", "3", "10", "12345678901"])
_component = st.one_of(
    _numbers,
    _numbers,
    _words,
    st.tuples(_numbers, _words).map("".join),
    st.tuples(_words, _numbers).map("".join),
    st.tuples(_numbers, _words, _numbers).map("".join),
)


@st.composite
def versions(draw: st.DrawFn, trailing_underscore: bool = True) -> str:
    sep = draw(st.sampled_from([".", ".", "_", "-"]))
    text = sep.join(draw(st.lists(_component, min_size=1, max_size=5)))
    if draw(st.booleans()) and draw(st.booleans()):
        text = f"{draw(st.integers(0, 3))}!{text}"
    if draw(st.integers(0, 7)) == 0:
        text += "+" + ".".join(draw(st.lists(_component, min_size=1, max_size=2)))
    if trailing_underscore and sep != "-" and "+" not in text and draw(st.integers(0, 9)) == 0:
        text += "_"
    return text


@settings(max_examples=300, deadline=None)
@given(versions(), versions(), versions())
def test_ordering_is_a_total_order(a: str, b: str, c: str) -> None:
    x, y, z = Version(a), Version(b), Version(c)
    # Exactly one of <, ==, > holds; the operators agree with each other.
    assert (x < y) + (x == y) + (x > y) == 1
    assert (x <= y) == (x < y or x == y) and (x >= y) == (y <= x)
    if x == y:
        assert hash(x) == hash(y)
    if x <= y and y <= z:
        assert x <= z
    if x <= y and y <= x:
        assert x == y


@settings(max_examples=500, deadline=None)
@given(versions(trailing_underscore=False), versions(trailing_underscore=False))
def test_ordering_agrees_with_rattler(a: str, b: str) -> None:
    # A trailing `_` is where conda and rattler part ways (docs/differences.md), so it is left
    # out here; everything else must order exactly as py-rattler does.
    x, y = Version(a), Version(b)
    rx, ry = rattler.Version(a), rattler.Version(b)
    assert ((x > y) - (x < y)) == ((rx > ry) - (rx < ry))
    assert (x == y) == (rx == ry)


def test_trailing_underscore_follows_conda() -> None:
    # conda keeps `post_` / `rc_` as one string component; rattler splits off the `_`.
    assert Version("1.0rc_").conda_parts() == [[0], [1], [0, "rc_"]]
    assert Version("1.0rc_") > Version("1.0rc")
    assert rattler.Version("1.0rc_") < rattler.Version("1.0rc")
    assert Version("1.0.post_") < Version("1.0")  # `post_` is a plain string, not `post`


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.!+_-abcdeposrvAZ* @", max_size=14))
def test_garbage_parses_or_raises_parse_error(text: str) -> None:
    try:
        v = Version(text)
    except ParseError as e:
        assert e.text == text
        assert e.position is not None and 0 <= e.position <= len(text)
        return
    assert Version(str(v)) == v
    assert v.sort_key == Version(v.normalized).sort_key


# conda's own ordering facts: each list is in increasing order.
OPENSSL = "1.0.1dev 1.0.1_ 1.0.1a 1.0.1b 1.0.1c 1.0.1d 1.0.1r 1.0.1rc 1.0.1rc1 1.0.1rc2 1.0.1s 1.0.1 1.0.1post.a 1.0.1post.b 1.0.1post.z 1.0.1post.za 1.0.2"
PEP440 = """1.0a1 1.0a2.dev456 1.0a12.dev456 1.0a12 1.0b1.dev456 1.0b2 1.0b2.post345.dev456
1.0b2.post345 1.0c1.dev456 1.0c1 1.0c3 1.0rc2 1.0.dev456 1.0 1.0.post456.dev34 1.0.post456
1.1.dev1 1.2.r32+123456 1.2.rev33+123456 1.2+abc 1.2+abc123def 1.2+abc123 1.2+123abc
1.2+123abc456 1.2+1234.abc 1.2+123456"""
PARSES = {
    "0.4.1a.vc11": [[0], [0], [4], [1, "a"], [0, "vc", 11]],
    "0.5C1": [[0], [0], [5, "c", 1]],
    "0.5za": [[0], [0], [5, "za"]],
    "0.5-5": [[0], [0], [5], [5]],
    "1.1_": [[0], [1], [1, "_"]],
    "2.0b1pr0": [[0], [2], [0, "b", 1, "pr", 0]],
    "2.2be.ta29": [[0], [2], [2, "be"], [0, "ta", 29]],
    "3.2.p.r0": [[0], [3], [2], [0, "p"], [0, "r", 0]],
    "14.3.1.post26.g9d75ca2": [
        [0],
        [14],
        [3],
        [1],
        [0, float("inf"), 26],
        [0, "g", 9, "d", 75, "ca", 2],
    ],
    "1996.07.12": [[0], [1996], [7], [12]],
    "2!0.4.1": [[2], [0], [4], [1]],
}


@pytest.mark.parametrize(
    "ordered",
    [
        OPENSSL.split(),
        PEP440.split(),
        ["1!" + v for v in PEP440.split()],
        ["0.3.0.dev", "0.3.3"],
    ],
)
def test_conda_ordering_facts(ordered: list[str]) -> None:
    versions = [Version(v) for v in ordered]
    assert sorted(reversed(versions)) == versions
    assert all(a < b for a, b in itertools.pairwise(versions))


@pytest.mark.parametrize(("text", "parts"), PARSES.items())
def test_conda_parse_facts(text: str, parts: list[list[object]]) -> None:
    assert Version(text).conda_parts() == parts
    assert Version(text).normalized == text.lower().replace("-", "_")


def test_conda_startswith_facts() -> None:
    def sw(a: str, b: str) -> bool:
        return Version(a).startswith(Version(b))

    assert sw("0.4.1", "0") and sw("0.4.1", "0.4") and sw("0.4.1p1", "0.4")
    assert sw("0.4.1p1", "0.4.1p") and not sw("0.4.1p1", "0.4.1q1")
    assert not sw("0.4", "0.4.1")
    assert sw("0.4.1+1.3", "0.4.1") and sw("0.4.1+1.3", "0.4.1+1")
    assert not sw("0.4.1", "0.4.1+1.3") and not sw("0.4.1+1", "0.4.1+1.3")
    assert Version("0.4.a1") == Version("0.4.0a1") and Version("0.4.a1") != Version("0.4.1a1")
    for bad in ("3.5&1", "5.5++", "5.5..mw", "!", "a!1.0", "a!b!1.0"):
        with pytest.raises(ParseError):
            Version(bad)
