"""The selector variables a recipe sees for a target, build and host platform.

`unix`, `linux`, `osx`, `win`, ... and the CPU name (`x86_64`, `aarch64`, `arm64`, ...) are true
for the host platform (the target); names of other platforms are simply undefined, hence false.
"""

from __future__ import annotations

from naja.specs.platform import Platform

# rattler-build names the OS families this way in selectors.
_FAMILY_FLAGS = ("linux", "osx", "win", "emscripten", "wasi", "freebsd", "ios", "android", "zos")
# Every OS and CPU name is defined (false unless it is the host's), so `aarch64 or osx` is a
# boolean rather than undefined.
_ARCH_FLAGS = (
    "x86",
    "x86_64",
    "aarch64",
    "arm64",
    "armv6l",
    "armv7l",
    "ppc64le",
    "ppc64",
    "ppc",
    "s390x",
    "riscv32",
    "riscv64",
    "loongarch64",
    "wasm32",
    "wasm64",
    "z",
)


def platform_variables(target: str, build: str, host: str | None = None) -> dict[str, object]:
    """Variables for selectors and templates: platform names and one flag per OS family/CPU."""
    host = host or target
    variables: dict[str, object] = {
        "target_platform": target,
        "build_platform": build,
        "host_platform": host,
    }
    try:
        plat = Platform.parse(host)
    except Exception:
        return variables
    if plat.is_noarch:
        return variables
    os_name = plat.os
    variables["unix"] = plat.is_unix
    for family in _FAMILY_FLAGS:
        variables[family] = family == os_name
    arch = plat.arch
    for name in _ARCH_FLAGS:
        variables[name] = name == arch
    if arch:
        variables[arch] = True
    # conda-build's `linux64` / `win32` / ... names, still used in recipes.
    for family in ("linux", "osx", "win"):
        for bits in ("32", "64"):
            variables[family + bits] = False
    suffix = plat.value.partition("-")[2]
    if os_name in ("linux", "osx", "win") and suffix in ("32", "64"):
        variables[os_name + suffix] = True
    return variables
