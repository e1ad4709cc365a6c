"""What a build produced: the files that appeared in the host prefix, and the noarch: python
layout (site-packages/ and python-scripts/ instead of the interpreter-specific paths)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def snapshot(prefix: Path) -> set[str]:
    """Every file and symlink under `prefix` (relative paths), conda-meta excluded."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(prefix):
        rel_dir = os.path.relpath(dirpath, prefix)
        if rel_dir == "conda-meta" or rel_dir.startswith("conda-meta" + os.sep):
            dirnames[:] = []
            continue
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            out.add(rel.replace(os.sep, "/"))
    return out


def stage_files(
    prefix: Path, files: list[str], stage: Path, *, noarch_python_sp: str | None
) -> list[str]:
    """Copy `files` from the prefix into `stage`; returns their paths in the package."""
    placed = []
    for rel in sorted(files):
        target_rel = rel
        if noarch_python_sp is not None:
            if rel.startswith(noarch_python_sp + "/"):
                target_rel = "site-packages/" + rel[len(noarch_python_sp) + 1 :]
            elif rel.startswith("bin/"):
                target_rel = "python-scripts/" + rel[len("bin/") :]
            if "__pycache__/" in target_rel or target_rel.endswith(".pyc"):
                continue  # compiled at install time by the environment's python
        src = prefix / rel
        dest = stage / target_rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dest)
        else:
            shutil.copy2(src, dest)
        placed.append(target_rel)
    return placed
