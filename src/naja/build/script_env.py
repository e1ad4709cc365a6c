"""The environment variables a build script sees (conda-build's and rattler-build's names)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


def build_env(
    *,
    name: str,
    version: str,
    build_number: int,
    build_string: str,
    hash_: str,
    prefix: Path,
    build_prefix: Path,
    src_dir: Path,
    recipe_dir: Path,
    target_platform: str,
    build_platform: str,
    python: tuple[str, str] | None,
    extra: dict[str, Any],
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ("HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR", "SOURCE_DATE_EPOCH")
    }
    system_path = os.environ.get("PATH", "/usr/bin:/bin")
    env.update(
        {
            "PREFIX": str(prefix),
            "BUILD_PREFIX": str(build_prefix),
            "SRC_DIR": str(src_dir),
            "RECIPE_DIR": str(recipe_dir),
            "PKG_NAME": name,
            "PKG_VERSION": version,
            "PKG_BUILDNUM": str(build_number),
            "PKG_BUILD_STRING": build_string,
            "PKG_HASH": hash_,
            "CPU_COUNT": str(os.cpu_count() or 1),
            "target_platform": target_platform,
            "build_platform": build_platform,
            "host_platform": target_platform,
            "SUBDIR": target_platform,
            "CONDA_BUILD": "1",
            "SHLIB_EXT": ".dylib"
            if target_platform.startswith("osx")
            else ".dll"
            if target_platform.startswith("win")
            else ".so",
            "PATH": os.pathsep.join([str(build_prefix / "bin"), str(prefix / "bin"), system_path]),
        }
    )
    if shutil.which("cc") and "CC" not in env:
        env["CC"] = os.environ.get("CC", "cc")
    if python is not None:
        xy, sp = python
        env.update(
            {
                "PYTHON": str(prefix / "bin" / "python"),
                "PY_VER": xy,
                "SP_DIR": str(prefix / sp),
                "STDLIB_DIR": str(prefix / "lib" / f"python{xy}"),
            }
        )
    for key, value in extra.items():
        env[str(key)] = str(value)
    return env
