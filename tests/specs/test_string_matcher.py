"""naja.specs.string_matcher: exact / glob / regex matching of build strings, checked against
py-rattler's build-string matching on the build strings of the repodata corpus."""

from __future__ import annotations

import functools
import json
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naja.errors import ParseError
from naja.specs.string_matcher import StringMatcher
from tests.conftest import REPODATA

rattler = pytest.importorskip("rattler")


@functools.cache
def corpus_builds() -> tuple[list[str], list[str]]:
    """(distinct build strings of all records, build patterns used in `depends`)."""
    builds: set[str] = set()
    patterns: set[str] = set()
    for path in sorted(REPODATA.glob("*/*/repodata.json")):
        data = json.loads(path.read_bytes())
        for key in ("packages", "packages.conda"):
            for record in data.get(key, {}).values():
                builds.add(record["build"])
                for dep in record.get("depends", ()):
                    parts = dep.split()
                    if len(parts) == 3:
                        patterns.add(parts[2])
    return sorted(builds), sorted(patterns)


def _patterns(builds: list[str], used: list[str]) -> list[str]:
    rng = random.Random(7)
    chosen = list(used)
    for b in rng.sample(builds, 150):
        cut = rng.randrange(1, len(b) + 1)
        chosen += [b, b[:cut] + "*", "*" + b[cut - 1 :], f"*{b[cut // 2 : cut]}*"]
        if "_" in b:
            head, _, tail = b.rpartition("_")
            chosen += [f"{head}_*", f"*_{tail}", f"^{head}_\\d+$", f"^{head[:2]}.*$"]
    return sorted(set(chosen))


def test_build_string_matching_agrees_with_rattler() -> None:
    builds, used = corpus_builds()
    assert len(builds) > 1000
    patterns = _patterns(builds, used)
    rng = random.Random(11)
    sample = rng.sample(builds, 400)
    records = [
        (
            b,
            rattler.PackageRecord(
                name="x",
                version="1",
                build=rattler.BuildString(b),
                build_number=0,
                subdir=rattler.Subdir("noarch"),
            ),
        )
        for b in sample
    ]
    hits = 0
    disagreements = []
    for pattern in patterns:
        ours = StringMatcher.parse(pattern)
        theirs = rattler.MatchSpec(f"x * {pattern}")
        # Each pattern is also checked against the build it was cut from (a sure match).
        for b, record in records:
            got = ours.matches(b)
            hits += got
            if got != theirs.matches(record):
                disagreements.append((pattern, b))
    assert disagreements == []
    assert hits > 500  # the sample includes real matches, not just misses


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("py27_0", "py27_0", True),
        ("py27_0", "py27_01", False),
        ("py27*", "py27_0", True),
        ("py27*", "py36_0", False),
        ("*_0", "py27_0", True),
        ("*_0", "py27_10", False),
        ("*", "anything", True),
        ("np1*py27*", "np111py27_0", True),
        ("np1*py27*", "py27np1_0", False),
        ("^py.*_0$", "py27_0", True),
        ("^py.*_0$", "py27_1", False),
        ("py2.7*", "py2x7_0", False),  # `.` is literal in a glob
        ("^py2.7", "py2x7", False),  # no `$`: not a regex, so literal
        ("^py2.7", "^py2.7", True),
        ("a+b*", "a+b_0", True),
    ],
)
def test_matches(pattern: str, value: str, expected: bool) -> None:
    assert StringMatcher.parse(pattern).matches(value) is expected


def test_api() -> None:
    m = StringMatcher.parse("py27*")
    assert StringMatcher("py27*") is m  # cached
    assert str(m) == "py27*" and repr(m) == "StringMatcher('py27*')"
    assert m.kind == "glob"
    assert StringMatcher.parse("py27_0").is_exact
    assert StringMatcher.parse("*").is_any
    assert StringMatcher.parse("^a$").kind == "regex"
    assert m == StringMatcher.parse("py27*") and hash(m) == hash(StringMatcher.parse("py27*"))
    assert pickle.loads(pickle.dumps(m)) == m
    assert StringMatcher.parse(" py27 ").matches("py27")


@pytest.mark.parametrize(("text", "position"), [("", 0), ("  ", 0), ("a b", 1), ("^a(b$", 2)])
def test_bad_patterns(text: str, position: int) -> None:
    with pytest.raises(ParseError) as info:
        StringMatcher.parse(text)
    assert info.value.kind == "string matcher" and info.value.position == position


_pieces = st.text(alphabet="ab_19.+", min_size=0, max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=4), st.lists(_pieces, min_size=1, max_size=6))
def test_generated_globs_agree_with_rattler(parts: list[str], values: list[str]) -> None:
    pattern = "*".join(parts)
    if not pattern.strip() or pattern.startswith("^"):
        return
    if "**" in pattern:
        # rattler's glob rejects `**` outside a path; conda (and naja) read it as `*`.
        assert StringMatcher.parse(pattern).matches(pattern.replace("*", ""))
        return
    ours = StringMatcher.parse(pattern)
    theirs = rattler.MatchSpec(f"x * {pattern}")
    for value in {*values, pattern.replace("*", "")}:
        if not value:
            continue
        record = rattler.PackageRecord(
            name="x",
            version="1",
            build=rattler.BuildString(value),
            build_number=0,
            subdir=rattler.Subdir("noarch"),
        )
        assert ours.matches(value) == theirs.matches(record), (pattern, value)
