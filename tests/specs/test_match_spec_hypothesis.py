"""Property tests: any spec naja accepts prints to a canonical form that parses back to it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from naja.errors import ParseError
from naja.specs.match_spec import MatchSpec
from naja.specs.records import PackageRecord

names = st.from_regex(r"[a-z][a-z0-9_.\-]{0,12}", fullmatch=True).filter(
    lambda n: not n.endswith((".conda", ".tar.bz2"))
)
numbers = st.integers(0, 30).map(str)
versions = st.lists(numbers, min_size=1, max_size=4).map(".".join) | st.tuples(
    numbers, st.sampled_from(["a", "b", "rc", "post", "dev"]), numbers
).map(lambda t: f"{t[0]}.{t[1]}{t[2]}")
builds = st.from_regex(r"[a-z][a-z0-9]{0,6}_[0-9]{1,2}", fullmatch=True)
build_globs = builds | builds.map(lambda b: b[:2] + "*")


@st.composite
def version_exprs(draw) -> str:
    v = draw(versions)
    w = draw(versions)
    return draw(
        st.sampled_from(
            [
                v,
                f"{v}.*",
                f"{v}*",
                f"=={v}",
                f"!={v}",
                f">={v}",
                f"<{v}",
                f">={v},<{w}",
                f"{v}|{w}",
                f">{v},!={w}|{w}.*",
                f"~={v}.0" if "." not in v else f"~={v}",
                "*",
            ]
        )
    )


@st.composite
def spec_texts(draw) -> str:
    name = draw(names)
    prefix = ""
    if draw(st.booleans()):
        channel = draw(st.sampled_from(["conda-forge", "defaults", "pkgs/main", "bioconda"]))
        subdir = draw(st.sampled_from(["", "/linux-64", "/noarch", "/osx-arm64"]))
        prefix = f"{channel}{subdir}::"
    version = draw(st.none() | version_exprs())
    build = draw(st.none() | build_globs)
    style = draw(st.sampled_from(["space", "equals", "brackets"]))
    body = name
    bracket: list[str] = []
    if style == "brackets":
        if version is not None:
            bracket.append(f"version='{version}'")
        if build is not None:
            bracket.append(f'build="{build}"')
    elif version is not None:
        if style == "equals" and not any(c in version for c in "<>=!~|,*"):
            body += f"={version}" + (f"={build}" if build and "*" not in build else "")
            if build and "*" in build:
                bracket.append(f"build={build}")
        else:
            body += f" {version}" + (f" {build}" if build else "")
    elif build is not None:
        bracket.append(f"build={build}")
    if draw(st.booleans()):
        bracket.append(f"build_number='{draw(st.sampled_from(['3', '>=2', '<5', '!=0']))}'")
    if draw(st.booleans()):
        bracket.append(f"md5={draw(st.from_regex(r'[0-9a-f]{32}', fullmatch=True))}")
    if draw(st.booleans()):
        bracket.append(f"license='{draw(st.sampled_from(['MIT', 'BSD-3-Clause', 'GPL*']))}'")
    if draw(st.booleans()):
        bracket.append(f"track_features='{draw(st.sampled_from(['mkl', 'a b', 'x,y']))}'")
    if bracket:
        sep = draw(st.sampled_from([",", ", ", " "]))
        body += "[" + sep.join(bracket) + "]"
    return prefix + body


@settings(max_examples=400, deadline=None)
@given(spec_texts())
def test_canonical_round_trip(text):
    spec = MatchSpec.parse(text)
    canonical = str(spec)
    again = MatchSpec.parse(canonical)
    assert again == spec, (text, canonical)
    assert str(again) == canonical


@settings(max_examples=200, deadline=None)
@given(spec_texts(), versions, builds, st.integers(0, 6))
def test_round_trip_matches_the_same_records(text, version, build, build_number):
    spec = MatchSpec.parse(text)
    again = MatchSpec.parse(str(spec))
    record = PackageRecord(
        name=spec.name if spec.name != "*" else "pkg",
        version=version,
        build=build,
        build_number=build_number,
        license="MIT",
        track_features=("mkl",),
    )
    assert again.matches(record) == spec.matches(record)


_PIECES = [*"ab1.=<>!~*|, []'\":/#@-_()\t", "numpy", " if ", "[version=", "build=", "::", ".conda"]
_PIECES += ["linux-64", "https://", "md5=", "track_features=", "1.2", ">=", "conda-forge"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_garbage_parses_or_raises_parse_error(text):
    try:
        spec = MatchSpec.parse(text)
    except ParseError as err:
        assert err.text == text
        assert err.position is None or 0 <= err.position <= len(text)
    else:
        assert MatchSpec.parse(str(spec)) == spec


@settings(max_examples=500, deadline=None)
@given(st.one_of(spec_texts(), st.lists(st.sampled_from(_PIECES), max_size=10).map("".join)))
def test_fast_path_agrees_with_full_parser(text):
    from naja.specs import match_spec

    fast = match_spec._parse_fast(text)
    if fast is None:
        return
    full = match_spec._parse(text)
    assert fast == full
    assert str(fast) == str(full)
