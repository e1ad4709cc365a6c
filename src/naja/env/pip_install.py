"""Installs an environment file's `pip:` section with the environment's own python.

uv is used when it is on PATH (much faster); otherwise `python -m pip`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from naja.errors import NajaError


class PipError(NajaError):
    """The pip step of an environment file failed."""


def env_python(prefix: Path) -> Path:
    return prefix / ("python.exe" if os.name == "nt" else "bin/python")


def pip_install(prefix: Path, requirements: list[str]) -> None:
    """Install `requirements` into `prefix` (which must contain python)."""
    if not requirements:
        return
    python = env_python(prefix)
    if not python.exists():
        raise PipError(
            f"the environment file has a pip: section but {prefix} has no python",
            hint="add python (and pip) to the dependencies",
        )
    uv = shutil.which("uv")
    if uv:
        cmd = [uv, "pip", "install", "--python", str(python), *requirements]
    else:
        cmd = [str(python), "-m", "pip", "install", "--no-input", *requirements]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise PipError(
            f"installing the pip: section into {prefix} failed:\n{tail}",
            hint="check the requirement names and that pip can reach its index",
        )
