"""Virtual packages (`__glibc`, `__osx`, `__cuda`, ...): which ones a target platform gets.

Pure: the host facts come in as a `HostInfo` (detected by `naja.env.virtual_packages`) and the
`CONDA_OVERRIDE_*` variables as a mapping. The rules are conda's:

* `__unix` for linux, osx and freebsd targets; `__linux` (kernel version, never absent on a
  linux target) and `__glibc` for linux; `__osx` for osx; `__win` for win;
* `__archspec=1=<microarchitecture>` everywhere it can be named, `__cuda` when a driver (or an
  override) says so;
* when the target OS is not the host's (`--platform osx-arm64` on Linux) nothing detected on the
  host is used for OS versions: they are `0` as in conda, unless overridden; `__archspec` is the
  target's generic CPU name (`x86_64`, `arm64`, ...) unless the target is the host platform;
* `CONDA_OVERRIDE_<NAME>` replaces a value; set to an empty string it removes the package
  (`__linux` stays, as `0`). Versions are stripped and must parse as conda versions; the linux
  one is cut to its numeric prefix like the kernel release (`5.4.0-42-generic` -> `5.4.0`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from naja.errors import ParseError
from naja.specs.platform import Platform

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
# CPU names conda passes through as the generic archspec of a target it is not running on.
_GENERIC_ARCH = {
    "64": "x86_64",
    "32": "x86",
    "armv6l": "armv6l",
    "armv7l": "armv7l",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "ppc64": "ppc64",
    "ppc64le": "ppc64le",
    "riscv64": "riscv64",
    "s390x": "s390x",
}
_UNIX_OSES = frozenset({"linux", "osx", "freebsd"})


class VirtualPackage(msgspec.Struct, frozen=True, gc=False):
    """A package the solver sees as installed, describing the system (`__glibc=2.36=0`)."""

    name: str
    version: str = "0"
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"

    def to_record(self, subdir: str = "noarch") -> object:
        """This package as a `PackageRecord` the solver can put in its pool."""
        from naja.specs.records import PackageRecord

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
    from naja.specs.version import Version

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


def generic_archspec(platform: Platform) -> str | None:
    """The archspec name conda uses for `platform` when not running on it (`None`: no package)."""
    if platform is Platform.NOARCH:
        return None
    return _GENERIC_ARCH.get(platform.value.partition("-")[2])


def virtual_packages_for(
    platform: Platform | str,
    detected: HostInfo | None,
    env: Mapping[str, str] | Overrides | None = None,
) -> list[VirtualPackage]:
    """The virtual packages to solve with for `platform`, from host facts and overrides.

    `detected=None` means nothing is known about the host (every OS version `0`).
    """
    target = platform if isinstance(platform, Platform) else Platform.parse(platform)
    ov = env if isinstance(env, Overrides) else parse_override(env or {})
    same_os = detected is not None and detected.platform.os == target.os
    host = detected if same_os else None
    out: list[VirtualPackage] = []

    def pick(override: str | None, found: str | None, cross_default: str | None) -> str | None:
        # override wins ("" removes); on the host OS the detected value; else conda's default.
        if override is not None:
            return override or None
        if host is not None:
            return found
        return cross_default

    os_name = target.os
    if os_name in _UNIX_OSES:
        out.append(VirtualPackage("__unix"))
    if os_name == "linux":
        if ov.linux is not None:
            kernel = ov.linux or "0"
        else:
            kernel = (host.linux if host else None) or "0"
        out.append(VirtualPackage("__linux", kernel))
        glibc = pick(ov.glibc, host.glibc if host else None, "0")
        if glibc:
            out.append(VirtualPackage("__glibc", glibc))
    elif os_name == "osx":
        osx = pick(ov.osx, host.osx if host else None, "0")
        if osx:
            out.append(VirtualPackage("__osx", osx))
    elif os_name == "win":
        win = pick(ov.win, host.win if host else None, "0")
        if win:
            out.append(VirtualPackage("__win", win))

    if ov.archspec is not None:
        arch = ov.archspec or None
    elif detected is not None and detected.platform is target and detected.archspec:
        arch = detected.archspec
    else:
        arch = generic_archspec(target)
    if arch:
        out.append(VirtualPackage("__archspec", "1", arch))

    if ov.cuda is not None:
        cuda = ov.cuda or None
    else:
        # conda offers the host's driver whatever the target (a GPU serves every subdir).
        cuda = detected.cuda if detected is not None else None
    if cuda:
        out.append(VirtualPackage("__cuda", cuda))
    return out
