"""Conda platforms (subdirs): the known names, their OS and CPU, and the host's own platform.

A platform is the `subdir` of a channel (`linux-64`, `osx-arm64`, `noarch`, ...). The list is
conda's plus the newer ones rattler knows, so every subdir found on a real channel parses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from enum import StrEnum

from naja.errors import ParseError


class Platform(StrEnum):
    """A conda subdir. `str(p)` is the subdir name as it appears in channel URLs."""

    NOARCH = "noarch"
    LINUX_32 = "linux-32"
    LINUX_64 = "linux-64"
    LINUX_AARCH64 = "linux-aarch64"
    LINUX_ARMV6L = "linux-armv6l"
    LINUX_ARMV7L = "linux-armv7l"
    LINUX_LOONGARCH64 = "linux-loongarch64"
    LINUX_PPC64LE = "linux-ppc64le"
    LINUX_PPC64 = "linux-ppc64"
    LINUX_PPC = "linux-ppc"
    LINUX_S390X = "linux-s390x"
    LINUX_RISCV32 = "linux-riscv32"
    LINUX_RISCV64 = "linux-riscv64"
    FREEBSD_32 = "freebsd-32"
    FREEBSD_64 = "freebsd-64"
    FREEBSD_ARM64 = "freebsd-arm64"
    FREEBSD_PPC64LE = "freebsd-ppc64le"
    FREEBSD_PPC64 = "freebsd-ppc64"
    OSX_64 = "osx-64"
    OSX_ARM64 = "osx-arm64"
    IOS_ARM64 = "ios-arm64"
    IOSSIMULATOR_ARM64 = "iossimulator-arm64"
    IOSSIMULATOR_64 = "iossimulator-64"
    ANDROID_AARCH64 = "android-aarch64"
    ANDROID_ARMV7A = "android-armv7a"
    ANDROID_64 = "android-64"
    ANDROID_32 = "android-32"
    WIN_32 = "win-32"
    WIN_64 = "win-64"
    WIN_ARM64 = "win-arm64"
    EMSCRIPTEN_WASM32 = "emscripten-wasm32"
    EMSCRIPTEN_WASM64 = "emscripten-wasm64"
    WASI_WASM32 = "wasi-wasm32"
    ZOS_Z = "zos-z"

    @classmethod
    def parse(cls, text: str) -> Platform:
        """The platform named `text` (surrounding blanks ignored, case-sensitive as in conda)."""
        try:
            return cls(text.strip())
        except ValueError:
            pass
        lowered = text.strip().lower()
        hint = None
        if lowered in _BY_VALUE:
            hint = f"platform names are lower case: did you mean {lowered!r}?"
        elif lowered in _ALIASES:
            hint = f"did you mean {_ALIASES[lowered].value!r}?"
        valid = ", ".join(p.value for p in cls)
        raise ParseError(
            "platform", text, f"unknown platform; valid platforms are: {valid}", 0, hint=hint
        )

    @classmethod
    def get(cls, text: str) -> Platform | None:
        """The platform named exactly `text`, or `None` (no error: for probing path segments)."""
        return _BY_VALUE.get(text)

    @classmethod
    def current(cls, env: Mapping[str, str] | None = None) -> Platform:
        """`current_platform(env)`: `CONDA_SUBDIR` if set, else the host's platform."""
        return current_platform(env)

    @property
    def os(self) -> str | None:
        """The OS half of the name (`linux`, `osx`, `win`, ...); `None` for noarch."""
        if self is Platform.NOARCH:
            return None
        return self.value.partition("-")[0]

    @property
    def arch(self) -> str | None:
        """The CPU architecture as rattler names it (`x86_64`, `aarch64`, `arm64`, ...)."""
        return _ARCH.get(self)

    @property
    def is_linux(self) -> bool:
        return self.os == "linux"

    @property
    def is_osx(self) -> bool:
        return self.os == "osx"

    @property
    def is_win(self) -> bool:
        return self.os == "win"

    @property
    def is_unix(self) -> bool:
        """Whether `__unix` applies (linux, osx, the BSDs, iOS, Android, emscripten)."""
        return self.os in _UNIX_OSES

    @property
    def is_noarch(self) -> bool:
        return self is Platform.NOARCH


_BY_VALUE = {p.value: p for p in Platform}
_UNIX_OSES = frozenset({"linux", "osx", "freebsd", "ios", "iossimulator", "android", "emscripten"})
# Names people type that mean a known platform (used only to suggest the right spelling).
_ALIASES = {
    "linux-x86_64": Platform.LINUX_64,
    "linux-amd64": Platform.LINUX_64,
    "linux-arm64": Platform.LINUX_AARCH64,
    "osx-aarch64": Platform.OSX_ARM64,
    "macos-arm64": Platform.OSX_ARM64,
    "macos-64": Platform.OSX_64,
    "osx-x86_64": Platform.OSX_64,
    "win-x86_64": Platform.WIN_64,
    "win-amd64": Platform.WIN_64,
    "windows-64": Platform.WIN_64,
}

_ARCH_BY_SUFFIX = {
    "32": "x86",
    "64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "armv6l": "armv6l",
    "armv7l": "armv7l",
    "armv7a": "armv7a",
    "loongarch64": "loongarch64",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "ppc": "ppc",
    "s390x": "s390x",
    "riscv32": "riscv32",
    "riscv64": "riscv64",
    "wasm32": "wasm32",
    "wasm64": "wasm64",
    "z": "z",
}
_ARCH = {
    p: _ARCH_BY_SUFFIX[p.value.partition("-")[2]] for p in Platform if p is not Platform.NOARCH
}

# platform.machine() spellings -> conda's suffix for linux; osx/win say arm64 where linux says
# aarch64.
_MACHINE_SUFFIX = {
    "x86_64": "64",
    "amd64": "64",
    "i386": "32",
    "i486": "32",
    "i586": "32",
    "i686": "32",
    "x86": "32",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "armv6l": "armv6l",
    "armv7l": "armv7l",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "riscv32": "riscv32",
    "ppc": "ppc",
    "loongarch64": "loongarch64",
}


_POINTER_BITS = 64 if sys.maxsize > 2**32 else 32


def host_platform(system: str, machine: str, bits: int = _POINTER_BITS) -> Platform:
    """The conda platform for a `sys.platform` value and a `platform.machine()` value.

    `bits` is this interpreter's pointer size: a 32-bit Python on a 64-bit x86 kernel (which
    still says `x86_64`) runs 32-bit packages, as conda decides from its own bitness.
    """
    if system.startswith("emscripten"):
        return Platform.EMSCRIPTEN_WASM32
    if system.startswith("wasi"):
        return Platform.WASI_WASM32
    os_name = {"darwin": "osx", "win32": "win", "cygwin": "win", "zos": "zos"}.get(system)
    if os_name is None:
        os_name = "freebsd" if system.startswith("freebsd") else "linux"
    if os_name == "zos":
        return Platform.ZOS_Z
    suffix = _MACHINE_SUFFIX.get(machine.lower())
    if suffix is None:
        raise ParseError(
            "platform",
            f"{system}/{machine}",
            "this machine is not a platform conda knows; set CONDA_SUBDIR to choose one",
        )
    if suffix == "64" and bits == 32:
        suffix = "32"
    if suffix == "aarch64" and os_name in ("osx", "win", "freebsd"):
        suffix = "arm64"
    return Platform.parse(f"{os_name}-{suffix}")


def current_platform(env: Mapping[str, str] | None = None) -> Platform:
    """The platform naja installs for by default: `CONDA_SUBDIR` if set, else the host's."""
    environ = os.environ if env is None else env
    override = environ.get("CONDA_SUBDIR", "").strip()
    if override:
        return Platform.parse(override)
    if hasattr(os, "uname"):
        # What platform.machine() answers on POSIX, without importing the platform module.
        machine = os.uname().machine
    else:
        import platform

        machine = platform.machine()
    return host_platform(sys.platform, machine)
