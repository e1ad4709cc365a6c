"""The selector variables a recipe sees for a target, build and host platform.

`unix`, `linux`, `osx`, `win`, ... and the CPU name (`x86_64`, `aarch64`, `arm64`, ...) are true
for the host platform (the target); names of other platforms are simply undefined, hence false.
"""

from __future__ import annotations

from naja.specs.platform import Platform

# rattler-build names the OS families this way in selectors.
_FAMILY_FLAGS = ("linux", "osx", "win", "emscripten", "wasi", "freebsd", "ios", "android", "zos")


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
        if family == os_name:
            variables[family] = True
    arch = plat.arch
    if arch:
        variables[arch] = True
    return variables
