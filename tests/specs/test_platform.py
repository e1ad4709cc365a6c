"""Platforms: the known subdirs, OS/arch helpers, host detection, and rattler agreement."""

from __future__ import annotations

import pytest

from naja.errors import ParseError
from naja.specs.platform import Platform, current_platform, host_platform


def test_brief_platforms_all_parse() -> None:
    names = [
        "noarch",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-s390x",
        "linux-riscv64",
        "osx-64",
        "osx-arm64",
        "win-32",
        "win-64",
        "win-arm64",
        "emscripten-wasm32",
        "wasi-wasm32",
        "zos-z",
    ]
    for name in names:
        assert str(Platform.parse(name)) == name
    assert Platform.parse(" linux-64 ") is Platform.LINUX_64


def test_helpers() -> None:
    assert Platform.LINUX_64.is_linux and Platform.LINUX_64.is_unix
    assert not Platform.LINUX_64.is_osx and not Platform.LINUX_64.is_win
    assert Platform.OSX_ARM64.is_osx and Platform.OSX_ARM64.is_unix
    assert Platform.WIN_64.is_win and not Platform.WIN_64.is_unix
    assert Platform.NOARCH.is_noarch and Platform.NOARCH.arch is None
    assert Platform.NOARCH.os is None
    assert Platform.LINUX_AARCH64.arch == "aarch64"
    assert Platform.OSX_ARM64.arch == "arm64"
    assert Platform.WIN_32.arch == "x86"
    assert Platform.ZOS_Z.os == "zos"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("Linux-64", "did you mean 'linux-64'"),
        ("linux-arm64", "did you mean 'linux-aarch64'"),
        ("osx-aarch64", "did you mean 'osx-arm64'"),
        ("solaris-64", None),
        ("", None),
    ],
)
def test_unknown_platform_lists_valid_ones(text: str, hint: str | None) -> None:
    with pytest.raises(ParseError) as info:
        Platform.parse(text)
    err = info.value
    assert err.kind == "platform" and err.text == text
    assert "linux-64" in err.reason and "osx-arm64" in err.reason and "noarch" in err.reason
    if hint:
        assert err.hint is not None and hint in err.hint
    else:
        assert err.hint is None


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("linux", "x86_64", "linux-64"),
        ("linux", "i686", "linux-32"),
        ("linux", "aarch64", "linux-aarch64"),
        ("linux", "ppc64le", "linux-ppc64le"),
        ("linux", "s390x", "linux-s390x"),
        ("linux", "armv7l", "linux-armv7l"),
        ("linux", "riscv64", "linux-riscv64"),
        ("darwin", "x86_64", "osx-64"),
        ("darwin", "arm64", "osx-arm64"),
        ("win32", "AMD64", "win-64"),
        ("win32", "ARM64", "win-arm64"),
        ("win32", "x86", "win-32"),
        ("freebsd14", "amd64", "freebsd-64"),
        ("emscripten", "wasm32", "emscripten-wasm32"),
        ("wasi", "wasm32", "wasi-wasm32"),
    ],
)
def test_host_platform(system: str, machine: str, expected: str) -> None:
    assert host_platform(system, machine) == Platform(expected)


def test_unknown_machine_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="CONDA_SUBDIR"):
        host_platform("linux", "vax")


def test_current_platform_honours_conda_subdir() -> None:
    assert current_platform({"CONDA_SUBDIR": "osx-arm64"}) is Platform.OSX_ARM64
    assert current_platform({"CONDA_SUBDIR": ""}) == current_platform({})
    with pytest.raises(ParseError):
        current_platform({"CONDA_SUBDIR": "nope-64"})


def test_matches_rattler() -> None:
    from rattler.platform import Subdir

    ours = {p.value for p in Platform}
    theirs = {str(s) for s in Subdir.all()}
    assert ours == theirs
    for sub in Subdir.all():
        p = Platform(str(sub))
        assert p.is_linux == sub.is_linux, p
        assert p.is_osx == sub.is_osx, p
        assert p.is_win == sub.is_windows, p
        assert p.is_unix == sub.is_unix, p
        assert p.arch == (None if sub.arch is None else str(sub.arch)), p
    assert current_platform({}) == Platform(str(Subdir.current()))


def test_platform_current_classmethod() -> None:
    assert Platform.current({"CONDA_SUBDIR": "win-64"}) is Platform.WIN_64
    assert Platform.current({}) is current_platform({})


def test_get_probes_without_raising() -> None:
    assert Platform.get("linux-64") is Platform.LINUX_64
    assert Platform.get("label") is None
    assert Platform.get(" linux-64") is None


def test_32_bit_python_on_64_bit_x86_is_32_bit() -> None:
    assert host_platform("linux", "x86_64", bits=32) is Platform.LINUX_32
    assert host_platform("win32", "AMD64", bits=32) is Platform.WIN_32
    assert host_platform("linux", "aarch64", bits=32) is Platform.LINUX_AARCH64
    assert host_platform("linux", "x86_64", bits=64) is Platform.LINUX_64
