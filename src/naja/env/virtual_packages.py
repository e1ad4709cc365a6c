"""Detecting the host facts behind virtual packages: glibc, kernel, macOS, Windows, CPU, CUDA.

Each probe is cheap except CUDA (loading the driver library), and all are cached for the life of
the process. None of them raises: a fact that cannot be found is `None`, and the pure rules in
`naja.specs.virtual_package` decide what that means for a target platform.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform as _platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping

from naja.errors import ParseError
from naja.specs.platform import Platform, current_platform, host_platform
from naja.specs.virtual_package import (
    HostInfo,
    VirtualPackage,
    generic_archspec,
    linux_version,
    virtual_packages_for,
)

# x86-64 psABI microarchitecture levels as /proc/cpuinfo names the required flags. Each level
# needs its own flags and every lower level's. (`pni` is SSE3, `abm` is LZCNT.)
X86_64_LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("x86_64", frozenset({"cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2"})),
    (
        "x86_64_v2",
        frozenset({"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"}),
    ),
    (
        "x86_64_v3",
        frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    ),
    ("x86_64_v4", frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})),
)


def x86_64_level(flags: Iterable[str]) -> str:
    """The highest x86-64 level whose flags (and all lower levels' flags) are all present."""
    have = set(flags)
    level = "x86_64"
    for name, needed in X86_64_LEVELS[1:]:
        if not needed <= have:
            break
        level = name
    return level


def cpuinfo_flags(text: str) -> set[str]:
    """The CPU flags in /proc/cpuinfo text (the first processor's `flags` line)."""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "flags":
            return set(value.split())
    return set()


def glibc_version() -> str | None:
    """The glibc version (`2.36`), or `None` when the C library is not glibc."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None
    if not text:
        return None
    family, _, version = text.partition(" ")
    if family != "glibc":
        return None
    return version.strip() or None


def kernel_version() -> str | None:
    """The Linux kernel version as `__linux` wants it (`6.18.44` from `6.18.44-fc-v669`)."""
    if not sys.platform.startswith("linux"):
        return None
    version = linux_version(_platform.release())
    return None if version == "0" else version


def _sw_vers() -> str | None:
    try:
        out = subprocess.run(
            ["sw_vers", "-productVersion"],
            env={**os.environ, "SYSTEM_VERSION_COMPAT": "0"},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def macos_version(
    system: str = sys.platform,
    mac_ver: Callable[[], str] = lambda: _platform.mac_ver()[0],
    sw_vers: Callable[[], str | None] = _sw_vers,
) -> str | None:
    """The macOS version (`14.5`). A Python built against an old SDK sees macOS 11 and later as
    `10.16` (Apple's compatibility shim); `sw_vers` with the shim off tells the real one."""
    if system != "darwin":
        return None
    version = mac_ver()
    if version == "10.16":
        version = sw_vers() or version
    return version or None


def windows_version() -> str | None:
    if sys.platform != "win32":
        return None
    return _platform.version() or None


def apple_silicon_name(brand: str) -> str:
    """The archspec name of an Apple chip from its brand string (`Apple M2 Pro` -> `m2`)."""
    m = re.match(r"Apple (M\d+)\b", brand.strip())
    return m.group(1).lower() if m else "m1"


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def archspec_name(host: Platform) -> str | None:
    """The host's microarchitecture: an x86-64 level from the CPU flags on Linux, the chip
    generation on Apple Silicon, else the platform's baseline (`aarch64`, `ppc64le`, ...).

    rattler (the oracle) reports the same x86-64 level names; on other Linux CPUs it may name
    the core (`neoverse_n1`) where naja gives the baseline.
    """
    if host.arch == "x86_64" and sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                flags = cpuinfo_flags(f.read())
        except OSError:
            flags = set()
        if flags:
            return x86_64_level(flags)
    if host is Platform.OSX_ARM64 and sys.platform == "darwin":
        return apple_silicon_name(_sysctl("machdep.cpu.brand_string"))
    return generic_archspec(host)


def _cuda_library_names() -> tuple[str, ...]:
    if sys.platform == "win32":
        return ("nvcuda.dll",)
    if sys.platform == "darwin":
        return ("libcuda.dylib", "/usr/local/cuda/lib/libcuda.dylib")
    return ("libcuda.so.1", "libcuda.so")


def cuda_version(libraries: Iterable[str] | None = None) -> str | None:
    """The newest CUDA version the installed driver supports (`12.4`), or `None`.

    Asks the driver library itself (`cuDriverGetVersion`), which needs no GPU context; a
    missing library or a failing call means no `__cuda`.
    """
    for name in libraries or _cuda_library_names():
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            get_version = lib.cuDriverGetVersion
        except AttributeError:
            continue
        out = ctypes.c_int(0)
        try:
            status = get_version(ctypes.byref(out))
        except OSError:
            continue
        if status != 0 or out.value <= 0:
            continue
        return _cuda_version_text(out.value)
    return None


def _cuda_version_text(value: int) -> str:
    # The driver API encodes 12.4 as 12040.
    return f"{value // 1000}.{(value % 1000) // 10}"


def cuda_version_from_nvml(libraries: Iterable[str] | None = None) -> str | None:
    """The CUDA version NVML (`libnvidia-ml`, the library behind `nvidia-smi`) reports; rattler
    asks it first. Used when the driver's `libcuda` cannot be loaded."""
    names = libraries or (
        ("nvml.dll",) if sys.platform == "win32" else ("libnvidia-ml.so.1", "libnvidia-ml.so")
    )
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            init = lib.nvmlInit_v2
            get_version = lib.nvmlSystemGetCudaDriverVersion_v2
        except (OSError, AttributeError):
            continue
        out = ctypes.c_int(0)
        try:
            if init() != 0:
                continue
            status = get_version(ctypes.byref(out))
            shutdown = getattr(lib, "nvmlShutdown", None)
            if shutdown is not None:
                shutdown()
        except OSError:
            continue
        if status == 0 and out.value > 0:
            return _cuda_version_text(out.value)
    return None


_NVSMI_CUDA_RE = re.compile(r"<cuda_version>\s*(\d+\.\d+)[^<]*</cuda_version>")


def cuda_version_from_nvidia_smi(nvidia_smi: str | None = None) -> str | None:
    """The CUDA version `nvidia-smi -q -x` reports: the last resort, for a machine whose driver
    libraries cannot be loaded into this process."""
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-q", "-x"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    m = _NVSMI_CUDA_RE.search(out.stdout)
    return m.group(1) if m else None


@functools.cache
def detect_cuda() -> str | None:
    """The host's CUDA driver version by the first probe that answers, once per process."""
    return cuda_version() or cuda_version_from_nvml() or cuda_version_from_nvidia_smi()


@functools.cache
def detect_host(*, cuda: bool = True) -> HostInfo:
    """Every host fact, probed once per process; `cuda=False` leaves the GPU driver alone."""
    try:
        host = host_platform(sys.platform, _platform.machine())
    except ParseError:
        # A CPU conda has no subdir for: no host facts can match a target platform.
        host = Platform.NOARCH
    return HostInfo(
        platform=host,
        linux=kernel_version(),
        glibc=glibc_version() if host.is_linux else None,
        osx=macos_version(),
        win=windows_version(),
        archspec=archspec_name(host),
        cuda=detect_cuda() if cuda else None,
    )


def detect_virtual_packages(
    platform: Platform | str | None = None, env: Mapping[str, str] | None = None
) -> list[VirtualPackage]:
    """The virtual packages for `platform` (default: `CONDA_SUBDIR` or the host) on this host.

    `env` supplies `CONDA_OVERRIDE_*` / `CONDA_SUBDIR` (default: the process environment).
    """
    environ = os.environ if env is None else env
    target = current_platform(environ) if platform is None else platform
    # With CUDA overridden the driver is never loaded: that probe is the slow and fragile one.
    host = detect_host(cuda="CONDA_OVERRIDE_CUDA" not in environ)
    return virtual_packages_for(target, host, environ)
