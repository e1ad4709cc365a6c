"""Makes shared libraries and executables relocatable: ELF rpaths rewritten to `$ORIGIN`.

An rpath entry inside the host prefix becomes `$ORIGIN/<relative path>`; entries outside it
are dropped (they would point into the build machine). Uses patchelf (Debian's package).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from naja.build.build_errors import BuildError

_ELF_MAGIC = b"\x7fELF"


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) == _ELF_MAGIC


def _patchelf() -> str:
    exe = shutil.which("patchelf")
    if exe is None:
        raise BuildError(
            "patchelf is needed to make the package's binaries relocatable",
            hint="install it (Debian: apt-get install patchelf)",
        )
    return exe


def read_rpath(path: Path) -> list[str]:
    out = subprocess.run([_patchelf(), "--print-rpath", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        return []
    return [p for p in out.stdout.strip().split(":") if p]


def relocate(root: Path, paths: list[str], prefix: str) -> list[str]:
    """Rewrite the rpaths of the ELF files among `paths`; returns the files changed."""
    changed = []
    for rel in paths:
        full = root / rel
        if not is_elf(full):
            continue
        old = read_rpath(full)
        if not old:
            continue
        new: list[str] = []
        for entry in old:
            if entry.startswith("$ORIGIN"):
                target = entry
            elif entry == prefix or entry.startswith(prefix + "/"):
                inside = entry[len(prefix) :].lstrip("/")
                rel_dir = os.path.relpath(inside or ".", os.path.dirname(rel) or ".")
                target = "$ORIGIN" if rel_dir == "." else f"$ORIGIN/{rel_dir}"
            else:
                continue
            if target not in new:
                new.append(target)
        if new != old:
            run = subprocess.run(
                [_patchelf(), "--force-rpath", "--set-rpath", ":".join(new), str(full)],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                raise BuildError(f"patchelf failed on {rel}: {run.stderr.strip()}")
            changed.append(rel)
    return changed
