"""Finds files that contain the build prefix, and decides text or binary replacement.

A file with a NUL byte in its first 8 KiB counts as binary (conda's rule of thumb); binary
files get null-padded same-length replacement at install time, so the build prefix must be
long (the placeholder) for installs into long paths to fit.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PrefixHit:
    path: str
    mode: str  # "text" | "binary"


def is_binary(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\0" in fh.read(8192)


def contains(path: Path, needle: bytes) -> bool:
    size = path.stat().st_size
    if size == 0:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return mm.find(needle) != -1


def detect(
    root: Path,
    paths: list[str],
    prefix: str,
    *,
    binary_ok: bool = True,
    text_ok: bool = True,
    force_text: frozenset[str] = frozenset(),
    ignore: frozenset[str] = frozenset(),
) -> list[PrefixHit]:
    """Every file of `paths` (relative to `root`) that contains `prefix`."""
    needle = prefix.encode()
    hits = []
    for rel in paths:
        full = root / rel
        if rel in ignore or full.is_symlink() or not full.is_file():
            continue
        if not contains(full, needle):
            continue
        mode = "text" if rel in force_text or not is_binary(full) else "binary"
        if (mode == "binary" and binary_ok) or (mode == "text" and text_ok):
            hits.append(PrefixHit(rel, mode))
    return hits
