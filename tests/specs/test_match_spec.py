"""MatchSpec: conda's grammar, canonical strings, errors with carets, and matching records."""

from __future__ import annotations

import pytest

from naja.errors import ParseError
from naja.specs.match_spec import MatchSpec
from naja.specs.records import PackageRecord


def m(text: str) -> str:
    return str(MatchSpec.parse(text))


# conda's canonical forms (conda's own test vectors, tests/models/test_match_spec.py).
CANONICAL = [
    ("numpy", "numpy"),
    ("numpy=1.7", "numpy=1.7"),
    ("numpy 1.7*", "numpy=1.7"),
    ("numpy 1.7.*", "numpy=1.7"),
    ("numpy[version='1.7*']", "numpy=1.7"),
    ("numpy[version='1.7.*']", "numpy=1.7"),
    ("numpy[version=1.7.*]", "numpy=1.7"),
    ("numpy==1.7", "numpy==1.7"),
    ("numpy[version='1.7']", "numpy==1.7"),
    ("numpy[version=1.7]", "numpy==1.7"),
    ("numpy 1.7", "numpy==1.7"),
    ("numpy[version='1.7|1.8']", "numpy[version='1.7|1.8']"),
    ('numpy[version="1.7,1.8"]', "numpy[version='1.7,1.8']"),
    ("numpy >1.7", "numpy[version='>1.7']"),
    ("numpy>=1.7", "numpy[version='>=1.7']"),
    ("numpy=1.7=py3*_2", "numpy==1.7[build=py3*_2]"),
    ("numpy=1.7.*=py3*_2", "numpy=1.7[build=py3*_2]"),
    ("https://repo.anaconda.com/pkgs/free::numpy", "pkgs/free::numpy"),
    ("numpy[channel=https://repo.anaconda.com/pkgs/free]", "pkgs/free::numpy"),
    ("defaults::numpy", "defaults::numpy"),
    ("numpy[channel=defaults]", "defaults::numpy"),
    ("conda-forge::numpy", "conda-forge::numpy"),
    ("numpy[channel=conda-forge]", "conda-forge::numpy"),
    ("numpy[channel=defaults,subdir=osx-64]", "defaults/osx-64::numpy"),
    (
        "numpy[channel=https://repo.anaconda.com/pkgs/free/osx-64, subdir=linux-64]",
        "pkgs/free/linux-64::numpy",
    ),
    ("https://repo.anaconda.com/pkgs/free/win-32::numpy", "pkgs/free/win-32::numpy"),
    ("numpy[channel=https://repo.anaconda.com/pkgs/free/osx-64]", "pkgs/free/osx-64::numpy"),
    ("defaults/win-32::numpy", "defaults/win-32::numpy"),
    ("conda-forge/linux-64::numpy", "conda-forge/linux-64::numpy"),
    ("numpy[channel=conda-forge,subdir=noarch]", "conda-forge/noarch::numpy"),
    ("numpy[subdir=win-32]", "numpy[subdir=win-32]"),
    ("*/win-32::numpy", "numpy[subdir=win-32]"),
    ('*/win-32::numpy[subdir="osx-64"]', "numpy[subdir=osx-64]"),
    ("numpy=1.10=py38_0", "numpy==1.10=py38_0"),
    ("numpy==1.10=py38_0", "numpy==1.10=py38_0"),
    ("numpy[version=1.10 build=py38_0]", "numpy==1.10=py38_0"),
    ("numpy!=1.10", "numpy!=1.10"),
    ("numpy !=1.10", "numpy!=1.10"),
    ("numpy!=1.10 py38_0", "numpy[version='!=1.10',build=py38_0]"),
    ("numpy !=1.10 py38_0", "numpy[version='!=1.10',build=py38_0]"),
    ("numpy!=1.10=py38_0", "numpy[version='!=1.10',build=py38_0]"),
    ("numpy !=1.10=py38_0", "numpy[version='!=1.10',build=py38_0]"),
    ("numpy >1.7,!=1.10 py38_0", "numpy[version='>1.7,!=1.10',build=py38_0]"),
    ("numpy!=1.10.*", "numpy!=1.10.*"),
    ("numpy!=1.10,!=1.11", "numpy[version='!=1.10,!=1.11']"),
    ("numpy=1.10.*,!=1.10.2", "numpy[version='=1.10.*,!=1.10.2']"),
    ("numpy ~=1.10.1", "numpy~=1.10.1"),
    ("numpy~=1.10.1", "numpy~=1.10.1"),
    ("numpy ~=1.10.1 py38_0", "numpy[version='~=1.10.1',build=py38_0]"),
    ("openssl=1.1.1_", "openssl=1.1.1_"),
    ("openssl>=1.1.1_,!=1.1.1c", "openssl[version='>=1.1.1_,!=1.1.1c']"),
    ("mkl@", "*[track_features=mkl]"),
    ("pkgs/main::*", "pkgs/main::*"),
    ("defaults::*", "defaults::*"),
    (
        "https://conda.anaconda.org/conda-canary/linux-64/conda-4.3.21.post699+1dab973-py36h4a561cd_0.tar.bz2",
        "conda-canary/linux-64::conda==4.3.21.post699+1dab973=py36h4a561cd_0",
    ),
    (
        "conda-canary/linux-64::conda==4.3.21.post699+1dab973=py36h4a561cd_0",
        "conda-canary/linux-64::conda==4.3.21.post699+1dab973=py36h4a561cd_0",
    ),
    (
        "https://conda.anaconda.org/conda-canary/conda-4.3.21.post699+1dab973-py36h4a561cd_0.tar.bz2",
        "*[url=https://conda.anaconda.org/conda-canary/conda-4.3.21.post699+1dab973-py36h4a561cd_0.tar.bz2]",
    ),
    (
        "/some/file/on/disk/package-1.2.3-2.tar.bz2",
        "*[url=file:///some/file/on/disk/package-1.2.3-2.tar.bz2]",
    ),
    ("foo=1.3.0=3", "foo==1.3.0=3"),
    ("foo>=1.3", "foo[version='>=1.3']"),
    ("zope.int>=1.3,<3.0", "zope.int[version='>=1.3,<3.0']"),
    ("conda-verify  >=3.1.0", "conda-verify[version='>=3.1.0']"),
    ("python[build_number='>=3']", "python[build_number='>=3']"),
    ("python[build_number=3]", "python[build_number=3]"),
    ("conda-forge::foo[build=3](target=blarg,optional)", "conda-forge::foo[build=3]"),
    ("numpy[track_features='mkl debug']", "numpy[track_features='debug mkl']"),
    ("numpy[license=MIT, md5=abc]", "numpy[md5=abc,license=MIT]"),
    ("foo 1.0 # a comment", "foo==1.0"),
    ("foo >=1 if python >3", "foo[version='>=1']"),
    ("FOO-Bar >=1.0", "foo-bar[version='>=1.0']"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_string(text, canonical):
    assert m(text) == canonical
    # The canonical form parses back to the same spec.
    assert (
        MatchSpec.parse(canonical) == MatchSpec.parse(text)
        or "url=" in canonical
        or ("::conda==" in canonical)
    )


FIELDS = [
    ("numpy", "numpy", None, None),
    ("numpy 1.2", "numpy", "1.2", None),
    ("numpy=1.2", "numpy", "1.2.*", None),
    ("numpy==1.2", "numpy", "1.2", None),
    ("numpy =1.8", "numpy", "1.8.*", None),
    ("numpy ==1.7", "numpy", "1.7", None),
    ("numpy 1.2.*", "numpy", "1.2.*", None),
    ("numpy >=1,<2", "numpy", ">=1,<2", None),
    ("numpy 1.2|1.4", "numpy", "1.2|1.4", None),
    ("numpy=1.2=py_0", "numpy", "1.2", "py_0"),
    ("numpy 1.2 py_0", "numpy", "1.2", "py_0"),
    ("numpy >=1.0 , < 2.0 py34_0", "numpy", ">=1.0,<2.0", "py34_0"),
    ("numpy >=1.0 , < 2.0 =py34_0", "numpy", ">=1.0,<2.0", "py34_0"),
    ("numpy >1.8,<2|==1.7,!=1.9,~=1.7.1 py34_0", "numpy", ">1.8,<2|==1.7,!=1.9,~=1.7.1", "py34_0"),
    ("*>1.8,<2|==1.7", "*", ">1.8,<2|==1.7", None),
    ("* 1 *", "*", "1", "*"),
    ("* * openblas_0", "*", "*", "openblas_0"),
    ("* * *", "*", "*", "*"),
    ("* *", "*", "*", None),
    ("blas * mkl", "blas", "*", "mkl"),
    ("numpy=", "numpy", None, None),
    ("numpy >=1.2=py_0", "numpy", ">=1.2", "py_0"),
    ("defaults::numpy=1.8=py27_0 [channel=anaconda,version=1.9, build=3]", "numpy", "1.9", "3"),
    (
        "defaults::numpy=1.8=py27_0 [channel='anaconda',version=\">=1.8,<2|1.9\", build='3']",
        "numpy",
        ">=1.8,<2|1.9",
        "3",
    ),
]


@pytest.mark.parametrize(("text", "name", "version", "build"), FIELDS)
def test_fields(text, name, version, build):
    spec = MatchSpec.parse(text)
    assert spec.name == name
    assert (None if spec.version is None else str(spec.version)) == version
    assert (None if spec.build is None else str(spec.build)) == build


def test_channel_subdir_namespace_and_brackets():
    s = MatchSpec.parse("conda-forge/linux-64::numpy[version='>=1.2,<2',build=py*]")
    assert (s.channel, s.subdir, s.name) == ("conda-forge", "linux-64", "numpy")
    assert str(s) == "conda-forge/linux-64::numpy[version='>=1.2,<2',build=py*]"
    s = MatchSpec.parse("defaults::numpy 1.8 py27_0[channel=anaconda]")
    assert s.channel == "anaconda"
    s = MatchSpec.parse("https://conda.anaconda.org/t/tk-123/conda-forge/linux-64::numpy")
    assert (s.channel, s.subdir) == ("conda-forge", "linux-64")
    s = MatchSpec.parse("https://example.com/my/chan::numpy")
    assert s.channel == "https://example.com/my/chan"
    s = MatchSpec.parse("ns:numpy")
    assert (s.namespace, s.name, str(s)) == ("ns", "numpy", "ns:numpy")
    s = MatchSpec.parse("numpy[md5=0123, sha256=ab, fn=numpy-1-0.conda, license=BSD]")
    assert (s.md5, s.sha256, s.fn, s.license) == ("0123", "ab", "numpy-1-0.conda", "BSD")
    s = MatchSpec.parse("numpy[track_features='mkl,debug', features=x]")
    assert s.track_features == frozenset({"mkl", "debug"})
    assert s.features == frozenset({"x"})


def test_package_urls():
    url = "https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyh6c4a22f_0.conda"
    s = MatchSpec.parse(url)
    assert (s.channel, s.subdir, s.name) == ("conda-forge", "noarch", "six")
    assert str(s.version) == "==1.16.0" or s.version.is_exact
    assert str(s.build) == "pyh6c4a22f_0"
    assert (s.fn, s.url) == ("six-1.16.0-pyh6c4a22f_0.conda", url)
    s = MatchSpec.parse("file:///tmp/chan/linux-64/foo-1.0-0.tar.bz2")
    assert (s.channel, s.subdir, s.name, s.fn) == (
        "file:///tmp/chan",
        "linux-64",
        "foo",
        "foo-1.0-0.tar.bz2",
    )
    s = MatchSpec.parse("/tmp/x/foo-1.0-0.conda")
    assert (s.name, s.url, s.fn) == ("*", "file:///tmp/x/foo-1.0-0.conda", "foo-1.0-0.conda")


def test_from_url_keeps_the_hash():
    url = "https://repo.anaconda.com/pkgs/main/win-64/vc-14.1-h0510ff6_4.conda"
    md5 = "dc9507a39ab328597820486c729cd279"
    s = MatchSpec.from_url(f"{url}#{md5}")
    assert (s.channel, s.subdir, s.name, str(s.build), s.md5) == (
        "pkgs/main",
        "win-64",
        "vc",
        "h0510ff6_4",
        md5,
    )
    assert str(s) == f"pkgs/main/win-64::vc==14.1=h0510ff6_4[md5={md5}]"
    assert MatchSpec.from_url(f"{url}#sha256:{'AB' * 32}").sha256 == "ab" * 32
    assert MatchSpec.from_url(url) == MatchSpec.parse(url)
    # parse() follows conda: the fragment is a comment.
    assert MatchSpec.parse(f"{url}#{md5}").md5 is None
    with pytest.raises(ParseError) as info:
        MatchSpec.from_url(f"{url}#nothex")
    assert info.value.position == len(url) + 1
    with pytest.raises(ParseError):
        MatchSpec.from_url("https://example.com/x.whl")


BAD = [
    ("numpy[version=", 5),
    ("numpy >=", 6),
    ("::numpy", 0),
    ("numpy[foo=1]", 6),
    ("numpy[version='1.2]", 14),
    ('numpy[version="1.2]', 14),
    ("numpy[version=1.2']", 17),
    ("!xyz 1.3", 0),
    ("blas [optional", 5),
    ("blas [test=]", 6),
    ("numpy[build=]", 12),
    ('blas[invalid="1"]', 5),
    ("numpy]", 5),
    ("numpy[version=1][build=2]", 5),
    ("numpy[version=1.2] 1.3", 18),
    ("numpy 1.2,", 6),
    ("numpy==", 5),
    ("numpy>", 6),
    ("num,py", 3),
    ("", 0),
    ("   ", 0),
    ("numpy[version 1]", 14),
    ("numpy[build_number=abc]", 19),
    ("numpy\t1.2", 5),
    ("x x=@", 2),
    ("a b::numpy", 1),
    ("https:///::numpy", 0),
    ("numpy.conda 1.2", 0),
    ("https://example.com/chan/linux-64/x'y-1-0.conda", 34),
]


@pytest.mark.parametrize(("text", "position"), BAD)
def test_bad_specs_raise_with_caret(text, position):
    with pytest.raises(ParseError) as info:
        MatchSpec.parse(text)
    err = info.value
    assert err.kind == "match spec"
    assert err.text == text
    assert err.position == position
    if text.strip():
        assert f"\n  {text}\n  {' ' * position}^" in str(err)


def test_canonical_forms_that_would_read_back_differently():
    # A positional form ending like a package file gets an empty bracket section.
    s = MatchSpec.parse("foo 1.conda*")
    assert str(s) == "foo=1.conda[]"
    assert MatchSpec.parse(str(s)) == s
    # Versions with an inner "*" have no positional spelling.
    assert str(MatchSpec.parse("foo 1.*.3")) == "foo[version='1.*.3']"
    # "=1.2" written in brackets is the fuzzy 1.2.*, equal to the positional form.
    assert MatchSpec.parse("foo[version='=1.2']") == MatchSpec.parse("foo=1.2")
    # A value holding ' is quoted with ".
    s = MatchSpec.parse("file:///tmp/it's/foo-1-0.conda")
    assert str(s) == '*[url="file:///tmp/it\'s/foo-1-0.conda"]'
    assert MatchSpec.parse(str(s)) == s


def test_pickle_round_trip():
    import pickle

    for text in ("conda-forge/linux-64::numpy >=1.2,<2 py*", "num*[license=MIT]", "mkl@"):
        spec = MatchSpec.parse(text)
        again = pickle.loads(pickle.dumps(spec))
        assert again == spec
        assert again.matches(rec(name="numpy", version="1.5", build="py3_0", license="MIT")) == (
            spec.matches(rec(name="numpy", version="1.5", build="py3_0", license="MIT"))
        )


def test_parse_is_cached_and_equality():
    a = MatchSpec.parse("numpy >=1.2")
    assert MatchSpec.parse("numpy >=1.2") is a
    assert a == MatchSpec.parse("numpy[version='>=1.2']")
    assert hash(a) == hash(MatchSpec.parse("numpy>=1.2"))
    assert a != MatchSpec.parse("numpy >=1.3")
    assert MatchSpec.parse("numpy *") == MatchSpec.parse("numpy")
    assert repr(a) == "MatchSpec(\"numpy[version='>=1.2']\")"


def rec(name="numpy", version="1.7.1", build="py27_0", **kw) -> PackageRecord:
    kw.setdefault("build_number", int(build.rsplit("_", 1)[-1]) if "_" in build else 0)
    return PackageRecord(name=name, version=version, build=build, **kw)


# conda's test_match_1 table against numpy-1.7.1-py27_0.
MATCH_1 = [
    ("numpy 1.7*", True),
    ("numpy 1.7.1", True),
    ("numpy 1.7", False),
    ("numpy 1.5*", False),
    ("numpy >=1.5", True),
    ("numpy >=1.5,<2", True),
    ("numpy >=1.8,<1.9", False),
    ("numpy >1.5,<2,!=1.7.1", False),
    ("numpy >1.8,<2|==1.7", False),
    ("numpy >1.8,<2|>=1.7.1", True),
    ("numpy >=1.8|1.7*", True),
    ("numpy ==1.7", False),
    ("numpy >=1.5,>1.6", True),
    ("numpy ==1.7.1", True),
    ("numpy ==1.7.1.0", True),
    ("numpy==1.7.1.0.0", True),
    ("numpy 1.6*|1.7*", True),
    ("numpy 1.6*|1.8*", False),
    ("numpy 1.6.2|1.7*", True),
    ("numpy 1.6.2|1.7.1", True),
    ("numpy 1.6.2|1.7.0", False),
    ("numpy 1.7.1 py27_0", True),
    ("numpy 1.7.1 py26_0", False),
    ("numpy >1.7.1a", True),
    ("python", False),
    ("numpy=1.7", True),
    ("numpy=1.7.1=py27_0", True),
    ("numpy=1.7=py27_0", False),
    ("numpy[build_number=0]", True),
    ("numpy[build_number='>0']", False),
    ("numpy[build=py27*]", True),
    ("numpy * py3*", False),
    ("*", True),
    ("num*", True),
    ("* 1.7.*", True),
    ("numpy ~=1.7", True),
    ("numpy ~=1.8", False),
]


@pytest.mark.parametrize(("text", "expected"), MATCH_1)
def test_matches_conda_table(text, expected):
    assert MatchSpec.parse(text).matches(rec()) is expected


def test_matches_other_fields():
    r = rec(
        channel="https://conda.anaconda.org/conda-forge",
        subdir="linux-64",
        md5="abc",
        sha256="def",
        fn="numpy-1.7.1-py27_0.conda",
        url="https://conda.anaconda.org/conda-forge/linux-64/numpy-1.7.1-py27_0.conda",
        license="LGPLv3+",
        license_family="LGPL",
        track_features=("mkl",),
    )
    yes = [
        "conda-forge::numpy",
        "conda-forge/linux-64::numpy",
        "https://conda.anaconda.org/conda-forge::numpy",
        "numpy[subdir=linux-64]",
        "numpy[md5=abc]",
        "numpy[sha256=def]",
        "numpy[fn=numpy-1.7.1-py27_0.conda]",
        "numpy[license_family='lgpl']",
        "numpy[license='*gpl*']",
        "*[license='*v3+']",
        "numpy[track_features=mkl]",
        "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.7.1-py27_0.conda",
    ]
    no = [
        "defaults::numpy",
        "conda-forge/osx-64::numpy",
        "numpy[md5=abd]",
        "numpy[sha256=x]",
        "numpy[fn=numpy-1.7.1-py27_0.tar.bz2]",
        "numpy[license=MIT]",
        "numpy[track_features='mkl debug']",
        "numpy[track_features=nomkl]",
        "numpy[features=mkl]",
    ]
    for text in yes:
        assert MatchSpec.parse(text).matches(r), text
    for text in no:
        assert not MatchSpec.parse(text).matches(r), text
    assert MatchSpec.parse("defaults::numpy").matches(rec(channel="pkgs/main"))
    assert MatchSpec.parse("numpy[channel=conda-forge]").matches(rec(channel="conda-forge"))


def test_constructor_and_str_of_built_specs():
    s = MatchSpec("foo", build="py2*", channel="conda-forge")
    assert str(s) == "conda-forge::foo[build=py2*]"
    assert str(MatchSpec(track_features="mkl")) == "*[track_features=mkl]"
    assert str(MatchSpec(features="mkl")) == "*[features=mkl]"
    assert str(MatchSpec("foo", version=">=1.0", subdir="linux-64")) == (
        "foo[subdir=linux-64,version='>=1.0']"
    )
