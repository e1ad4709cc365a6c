"""Virtual packages (`__glibc`, `__osx`, `__cuda`, ...): which ones a target platform gets.

Pure: the host facts come in as a `HostInfo` (detected by `naja.env.virtual_packages`) and the
`CONDA_OVERRIDE_*` variables as a mapping.

* Which packages: `__unix` for unix-like targets, `__linux` (never absent on a linux target) and
  `__glibc` for linux, `__osx` for osx, `__win` for win, `__archspec=1=<microarchitecture>`
  where the CPU can be named, `__cuda` when a driver (or an override) says so.
* For the host's own platform the values are the detected ones (rattler's `detect()`).
* For any other platform (`--platform osx-arm64` on Linux, `CONDA_SUBDIR`) nothing of the host
  is used; the values are rattler's defaults for a platform it cannot see (its
  `detect_for_platform`): `__glibc=2.28` (`2.39` on riscv64), `__linux=4.18`, `__osx=13.0`,
  `__win=10.0`, the target's baseline `__archspec`, no `__cuda`. Conda would say `0` for each
  version, which makes a cross solve fail on every package needing a minimum glibc or macOS.
* `CONDA_OVERRIDE_<NAME>` replaces a value, as in conda; set to an empty string it removes the
  package (`__linux` stays, as `0`). Values are stripped and must parse as conda versions; the
  linux one is cut to its numeric prefix like a kernel release (`5.4.0-42-generic` -> `5.4.0`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from naja.errors import ParseError
from naja.specs.platform import Platform
from naja.specs.records import PackageRecord
from naja.specs.version import Version

OVERRIDE_VARS = {
    "archspec": "CONDA_OVERRIDE_ARCHSPEC",
    "cuda": "CONDA_OVERRIDE_CUDA",
    "glibc": "CONDA_OVERRIDE_GLIBC",
    "linux": "CONDA_OVERRIDE_LINUX",
    "osx": "CONDA_OVERRIDE_OSX",
    "win": "CONDA_OVERRIDE_WIN",
}

_LINUX_VERSION_RE = re.compile(r"\d+\.\d+(\.\d+)?(\.\d+)?")
_BUILD_RE = re.compile(r"[A-Za-z0-9_.+]+")
# The microarchitecture rattler assumes for a platform it cannot look at (its
# `Archspec::from_platform`), except 32-bit arm, which it calls `aarch64`: naja says what conda
# says there (`armv6l`, `armv7l`), a 32-bit CPU not being a 64-bit one.
_BASELINE_ARCHSPEC = {
    "32": "x86",
    "64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "armv6l": "armv6l",
    "armv7l": "armv7l",
    "ppc64": "ppc64",
    "ppc64le": "ppc64le",
    "ppc": "ppc",
    "s390x": "s390x",
    "riscv32": "riscv32",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}
# Defaults for a platform that is not the host's (rattler's `detect_for_platform`).
DEFAULT_LINUX = "4.18"
DEFAULT_GLIBC = "2.28"
DEFAULT_OSX = "13.0"
DEFAULT_WIN = "10.0"


class VirtualPackage(msgspec.Struct, frozen=True, gc=False):
    """A package the solver sees as installed, describing the system (`__glibc=2.36=0`)."""

    name: str
    version: str = "0"
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"

    def to_record(self, subdir: str = "noarch") -> PackageRecord:
        """This package as a `PackageRecord` the solver can put in its pool."""
        return PackageRecord(
            name=self.name,
            version=self.version,
            build=self.build,
            build_number=0,
            subdir=subdir,
            package_type="virtual_system",
        )


class Overrides(msgspec.Struct, frozen=True, gc=False):
    """`CONDA_OVERRIDE_*` values: `None` = not set, `""` = set empty (remove the package)."""

    archspec: str | None = None
    cuda: str | None = None
    glibc: str | None = None
    linux: str | None = None
    osx: str | None = None
    win: str | None = None


class HostInfo(msgspec.Struct, frozen=True, gc=False):
    """What was found on the machine naja runs on; `None` where nothing was found."""

    platform: Platform
    linux: str | None = None
    glibc: str | None = None
    osx: str | None = None
    win: str | None = None
    archspec: str | None = None
    cuda: str | None = None


def linux_version(release: str) -> str:
    """The `__linux` version for a kernel release string: its numeric prefix, else `0`."""
    m = _LINUX_VERSION_RE.match(release.strip())
    return m.group() if m else "0"


def _check_version(var: str, raw: str, value: str) -> None:
    try:
        Version.parse(value)
    except ParseError as exc:
        lead = len(raw) - len(raw.lstrip())
        pos = None if exc.position is None else exc.position + lead
        raise ParseError(
            var,
            raw,
            f"not a conda version ({exc.reason})",
            pos,
            hint=f"set {var} to a version such as 2.17, or to an empty string to drop it",
        ) from None


def parse_override(env: Mapping[str, str]) -> Overrides:
    """The `CONDA_OVERRIDE_*` variables of `env`, checked; raises `ParseError` on a bad value."""
    values: dict[str, str | None] = {}
    for key, var in OVERRIDE_VARS.items():
        raw = env.get(var)
        if raw is None:
            values[key] = None
            continue
        value = raw.strip()
        if value:
            if key == "linux":
                value = linux_version(value)
            elif key == "archspec":
                m = _BUILD_RE.match(value)
                if m is None or m.end() != len(value):
                    lead = len(raw) - len(raw.lstrip())
                    raise ParseError(
                        var,
                        raw,
                        "a microarchitecture name has only letters, digits, '_', '.'",
                        lead + (m.end() if m else 0),
                        hint="e.g. x86_64_v3, haswell, aarch64",
                    )
            else:
                _check_version(var, raw, value)
        values[key] = value
    return Overrides(**values)


def default_glibc(platform: Platform) -> str:
    """The `__glibc` version assumed for a linux platform that is not the host's."""
    # glibc gained riscv64 only in 2.27 and conda-forge builds that platform against 2.39.
    return "2.39" if platform is Platform.LINUX_RISCV64 else DEFAULT_GLIBC


def generic_archspec(platform: Platform) -> str | None:
    """The `__archspec` build assumed for `platform` when it is not the host's (`None`: none)."""
    if platform is Platform.OSX_ARM64:
        # the first Apple Silicon generation, as rattler assumes
        return "m1"
    if platform.os in (None, "emscripten", "wasi", "zos"):
        return None
    return _BASELINE_ARCHSPEC.get(platform.value.partition("-")[2])


def virtual_packages_for(
    platform: Platform | str,
    detected: HostInfo | None,
    env: Mapping[str, str] | Overrides | None = None,
) -> list[VirtualPackage]:
    """The virtual packages to solve with for `platform`, from host facts and overrides.

    `detected` counts only when its platform is `platform`; `None` (or another platform) gives
    the defaults for a platform naja cannot look at.
    """
    target = platform if isinstance(platform, Platform) else Platform.parse(platform)
    ov = env if isinstance(env, Overrides) else parse_override(env or {})
    host = detected if detected is not None and detected.platform is target else None
    out: list[VirtualPackage] = []

    def pick(override: str | None, found: str | None, default: str | None) -> str | None:
        # The override wins ("" removes the package); then what the host shows; else the default.
        if override is not None:
            return override or None
        return found if host is not None else default

    if target.is_unix:
        out.append(VirtualPackage("__unix"))
    if target.is_linux:
        if ov.linux is not None:
            kernel = ov.linux or "0"
        else:
            kernel = (host.linux or "0") if host is not None else DEFAULT_LINUX
        out.append(VirtualPackage("__linux", kernel))
        glibc = pick(ov.glibc, host.glibc if host else None, default_glibc(target))
        if glibc:
            out.append(VirtualPackage("__glibc", glibc))
    elif target.is_osx:
        osx = pick(ov.osx, host.osx if host else None, DEFAULT_OSX)
        if osx:
            out.append(VirtualPackage("__osx", osx))
    elif target.is_win:
        win = pick(ov.win, host.win if host else None, DEFAULT_WIN)
        if win:
            out.append(VirtualPackage("__win", win))

    baseline = generic_archspec(target)
    arch = pick(ov.archspec, (host.archspec or baseline) if host else None, baseline)
    if arch:
        out.append(VirtualPackage("__archspec", "1", arch))

    # A GPU serves the machine it sits in: another platform gets `__cuda` only by override.
    cuda = pick(ov.cuda, host.cuda if host else None, None)
    if cuda:
        out.append(VirtualPackage("__cuda", cuda))
    return out
