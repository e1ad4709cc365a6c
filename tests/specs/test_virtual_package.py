"""Virtual packages from host facts and CONDA_OVERRIDE_* (pure rules, conda's semantics)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naja.errors import ParseError
from naja.specs.platform import Platform
from naja.specs.virtual_package import (
    OVERRIDE_VARS,
    HostInfo,
    Overrides,
    VirtualPackage,
    linux_version,
    parse_override,
    virtual_packages_for,
)

LINUX_HOST = HostInfo(
    Platform.LINUX_64, linux="6.8.0", glibc="2.36", archspec="x86_64_v3", cuda="12.4"
)
OSX_HOST = HostInfo(Platform.OSX_ARM64, osx="14.5", archspec="arm64")
WIN_HOST = HostInfo(Platform.WIN_64, win="10.0.22631", archspec="x86_64_v2")


def names(vps: list[VirtualPackage]) -> dict[str, str]:
    return {v.name: f"{v.version}={v.build}" for v in vps}


def test_native_linux() -> None:
    got = names(virtual_packages_for(Platform.LINUX_64, LINUX_HOST, {}))
    assert got == {
        "__unix": "0=0",
        "__linux": "6.8.0=0",
        "__glibc": "2.36=0",
        "__archspec": "1=x86_64_v3",
        "__cuda": "12.4=0",
    }


def test_native_osx_and_win() -> None:
    assert names(virtual_packages_for("osx-arm64", OSX_HOST, {})) == {
        "__unix": "0=0",
        "__osx": "14.5=0",
        "__archspec": "1=arm64",
    }
    assert names(virtual_packages_for("win-64", WIN_HOST, {})) == {
        "__win": "10.0.22631=0",
        "__archspec": "1=x86_64_v2",
    }


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # another platform: rattler's defaults, nothing taken from the host (not even CUDA)
        ("osx-arm64", {"__unix": "0=0", "__osx": "13.0=0", "__archspec": "1=m1"}),
        ("osx-64", {"__unix": "0=0", "__osx": "13.0=0", "__archspec": "1=x86_64"}),
        ("win-64", {"__win": "10.0=0", "__archspec": "1=x86_64"}),
        ("win-arm64", {"__win": "10.0=0", "__archspec": "1=aarch64"}),
        ("win-32", {"__win": "10.0=0", "__archspec": "1=x86"}),
        (
            "linux-aarch64",
            {"__unix": "0=0", "__linux": "4.18=0", "__glibc": "2.28=0", "__archspec": "1=aarch64"},
        ),
        (
            "linux-riscv64",
            {"__unix": "0=0", "__linux": "4.18=0", "__glibc": "2.39=0", "__archspec": "1=riscv64"},
        ),
        (
            "linux-armv7l",
            {"__unix": "0=0", "__linux": "4.18=0", "__glibc": "2.28=0", "__archspec": "1=armv7l"},
        ),
        ("freebsd-64", {"__unix": "0=0", "__archspec": "1=x86_64"}),
        ("emscripten-wasm32", {"__unix": "0=0"}),
        ("wasi-wasm32", {}),
        ("zos-z", {}),
        ("noarch", {}),
    ],
)
def test_other_targets_from_linux(target: str, expected: dict[str, str]) -> None:
    assert names(virtual_packages_for(target, LINUX_HOST, {})) == expected


def test_linux_from_osx_uses_defaults() -> None:
    got = names(virtual_packages_for("linux-64", OSX_HOST, {}))
    assert got == {
        "__unix": "0=0",
        "__linux": "4.18=0",
        "__glibc": "2.28=0",
        "__archspec": "1=x86_64",
    }


def test_unknown_host_means_defaults() -> None:
    assert virtual_packages_for("linux-64", None, {}) == virtual_packages_for(
        "linux-64", OSX_HOST, {}
    )


def test_host_without_facts() -> None:
    # a musl host: no glibc to offer; an unreadable kernel release: `__linux=0`
    bare = HostInfo(Platform.LINUX_64)
    assert names(virtual_packages_for("linux-64", bare, {})) == {
        "__unix": "0=0",
        "__linux": "0=0",
        "__archspec": "1=x86_64",
    }


def test_overrides_replace_values() -> None:
    env = {
        "CONDA_OVERRIDE_GLIBC": "2.17",
        "CONDA_OVERRIDE_CUDA": " 11.8 ",
        "CONDA_OVERRIDE_LINUX": "5.4.0-42-generic",
        "CONDA_OVERRIDE_ARCHSPEC": "haswell",
    }
    got = names(virtual_packages_for("linux-64", LINUX_HOST, env))
    assert got == {
        "__unix": "0=0",
        "__linux": "5.4.0=0",
        "__glibc": "2.17=0",
        "__archspec": "1=haswell",
        "__cuda": "11.8=0",
    }
    osx = names(virtual_packages_for("osx-arm64", LINUX_HOST, {"CONDA_OVERRIDE_OSX": "11.0"}))
    assert osx["__osx"] == "11.0=0"
    win = names(virtual_packages_for("win-64", OSX_HOST, {"CONDA_OVERRIDE_WIN": "10"}))
    assert win["__win"] == "10=0"
    cuda = names(virtual_packages_for("win-64", OSX_HOST, {"CONDA_OVERRIDE_CUDA": "12.2"}))
    assert cuda["__cuda"] == "12.2=0"


def test_overrides_only_apply_to_their_os() -> None:
    env = {"CONDA_OVERRIDE_OSX": "13.0", "CONDA_OVERRIDE_WIN": "10"}
    got = names(virtual_packages_for("linux-64", LINUX_HOST, env))
    assert "__osx" not in got and "__win" not in got


@pytest.mark.parametrize(
    ("var", "target", "gone", "stays"),
    [
        ("CONDA_OVERRIDE_GLIBC", "linux-64", "__glibc", "__linux"),
        ("CONDA_OVERRIDE_CUDA", "linux-64", "__cuda", "__glibc"),
        ("CONDA_OVERRIDE_ARCHSPEC", "linux-64", "__archspec", "__unix"),
        ("CONDA_OVERRIDE_OSX", "osx-64", "__osx", "__unix"),
        ("CONDA_OVERRIDE_WIN", "win-64", "__win", None),
    ],
)
def test_empty_override_removes(var: str, target: str, gone: str, stays: str | None) -> None:
    got = names(virtual_packages_for(target, LINUX_HOST, {var: ""}))
    assert gone not in got
    if stays:
        assert stays in got


def test_empty_linux_override_keeps_linux_at_zero() -> None:
    got = names(virtual_packages_for("linux-64", LINUX_HOST, {"CONDA_OVERRIDE_LINUX": " "}))
    assert got["__linux"] == "0=0"


@pytest.mark.parametrize(
    ("release", "version"),
    [
        ("1.2.3.4", "1.2.3.4"),
        ("4.2", "4.2"),
        ("4.2.0-42-generic", "4.2.0"),
        ("5.4.89+", "5.4.89"),
        ("5.5-rc1", "5.5"),
        ("9.1.a.2", "9.1"),
        ("9.a.1", "0"),
        ("6.18.44-fc-v669", "6.18.44"),
    ],
)
def test_linux_version_like_conda(release: str, version: str) -> None:
    assert linux_version(release) == version
    assert parse_override({"CONDA_OVERRIDE_LINUX": release}).linux == version


def test_parse_override() -> None:
    assert parse_override({}) == Overrides()
    ov = parse_override({"CONDA_OVERRIDE_CUDA": "", "CONDA_OVERRIDE_GLIBC": " 2.28 ", "X": "1"})
    assert ov.cuda == "" and ov.glibc == "2.28" and ov.osx is None


@pytest.mark.parametrize(
    ("var", "value", "position"),
    [
        ("CONDA_OVERRIDE_GLIBC", ">=2.17", 0),
        ("CONDA_OVERRIDE_CUDA", "  12 4", None),
        ("CONDA_OVERRIDE_OSX", "eleven?", None),
        ("CONDA_OVERRIDE_ARCHSPEC", "x86_64 v3", 6),
    ],
)
def test_bad_override_is_a_parse_error(var: str, value: str, position: int | None) -> None:
    with pytest.raises(ParseError) as info:
        parse_override({var: value})
    err = info.value
    assert err.kind == var and err.text == value
    assert err.hint
    if position is not None:
        assert err.position == position


def test_virtual_package_str_and_record() -> None:
    vp = VirtualPackage("__glibc", "2.36")
    assert str(vp) == "__glibc=2.36=0"
    rec = vp.to_record("linux-64")
    assert (rec.name, rec.version, rec.build, rec.subdir) == ("__glibc", "2.36", "0", "linux-64")
    assert rec.package_type == "virtual_system"


def test_rejects_unknown_platform() -> None:
    with pytest.raises(ParseError, match="unknown platform"):
        virtual_packages_for("linux-65", LINUX_HOST, {})


@given(
    var=st.sampled_from(sorted(OVERRIDE_VARS.values())),
    value=st.text(max_size=12),
    target=st.sampled_from([p.value for p in Platform]),
)
def test_any_override_gives_packages_or_a_parse_error(var: str, value: str, target: str) -> None:
    try:
        got = virtual_packages_for(target, LINUX_HOST, {var: value})
    except ParseError as err:
        assert err.kind == var
        return
    assert all(v.name.startswith("__") and v.version and v.build for v in got)
