"""What `PackageCache.clean` (behind `naja clean`) removed or would remove, and how it measures
the space."""

from __future__ import annotations

import contextlib
import os
import shutil


class CleanReport:
    """What `PackageCache.clean` removed (or would remove), with the bytes it frees."""

    def __init__(self) -> None:
        self.removed: list[tuple[str, str, int]] = []  # (path, kind, bytes)

    @property
    def freed(self) -> int:
        return sum(n for _, _, n in self.removed)

    def add(self, path: str, kind: str, dry_run: bool) -> None:
        size = _disk_size(path)
        if not dry_run:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self.removed.append((path, kind, size))


def _disk_size(path: str) -> int:
    """Bytes a file or folder holds (hardlinked files counted once per inode)."""
    if not os.path.isdir(path) or os.path.islink(path):
        try:
            return os.lstat(path).st_size
        except OSError:
            return 0
    seen: set[int] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(dirpath, f))
            except OSError:
                continue
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total

