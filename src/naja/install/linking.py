"""Placing files from an extracted package into a prefix: hardlink, reflink, copy or softlink.

The link mode is decided once per (cache filesystem, prefix filesystem) pair by a probe, not per
file; when hardlinks are impossible (different filesystems) naja copies — with a reflink where
the filesystem supports it — and warns once.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import threading
import uuid
from collections.abc import Callable

from naja.install.errors import LinkError

HARDLINK = "hardlink"
COPY = "copy"
SOFTLINK = "softlink"
LINK_MODES = (HARDLINK, COPY, SOFTLINK)

# conda's LinkType numbers, written in conda-meta `link.type`.
LINK_TYPE_NUMBER = {HARDLINK: 1, SOFTLINK: 2, COPY: 3}

PROBE_PREFIX = ".naja-probe-"

_FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


def reflink(src: str, dst: str, mode: int) -> bool:
    """Clone `src` to a new file `dst` sharing its blocks; False if the filesystem cannot."""
    try:
        sfd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        dfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        try:
            fcntl.ioctl(dfd, _FICLONE, sfd)
        except OSError:
            os.close(dfd)
            os.unlink(dst)
            return False
        os.close(dfd)
        return True
    finally:
        os.close(sfd)


def copy_file(src: str, dst: str) -> None:
    """Byte copy keeping the permission bits (shutil uses sendfile/copy_file_range)."""
    shutil.copyfile(src, dst, follow_symlinks=False)
    shutil.copymode(src, dst, follow_symlinks=False)


class Linker:
    """Decides and performs the link operation for files of one transaction.

    `mode` is what the user asked for (hardlink is the default and falls back to copy).
    """

    def __init__(self, prefix: str, mode: str = HARDLINK, warn: Callable[[str], None] | None = None):
        if mode not in LINK_MODES:
            raise LinkError(
                f"unknown link mode {mode!r}", hint=f"use one of {', '.join(LINK_MODES)}"
            )
        self.prefix = prefix
        self.requested = mode
        self.warn = warn or (lambda msg: None)
        self._decided: dict[tuple[int, int], tuple[str, bool]] = {}
        self._lock = threading.Lock()

    def decide(self, src_dir: str, dst_dir: str) -> tuple[str, bool]:
        """(effective mode, reflink works) for files from `src_dir` into `dst_dir`."""
        key = (os.stat(src_dir).st_dev, os.stat(dst_dir).st_dev)
        with self._lock:
            got = self._decided.get(key)
            if got is None:
                got = self._decided[key] = self._probe(src_dir, dst_dir)
            return got

    def _probe(self, src_dir: str, dst_dir: str) -> tuple[str, bool]:
        # Probe with a file the package surely has, into conda-meta (where crash recovery
        # sweeps `.naja-probe-*`): nothing is written into the cache, which may be read-only.
        src = os.path.join(src_dir, "info", "index.json")
        meta = os.path.join(dst_dir, "conda-meta")
        dst = os.path.join(meta if os.path.isdir(meta) else dst_dir, f"{PROBE_PREFIX}{uuid.uuid4().hex[:12]}")
        can_hardlink = can_reflink = False
        try:
            os.link(src, dst)
            can_hardlink = True
            os.unlink(dst)
        except OSError:
            pass
        if reflink(src, dst, 0o644):
            can_reflink = True
            os.unlink(dst)
        mode = self.requested
        if mode == HARDLINK and not can_hardlink:
            mode = COPY
            how = "reflinks" if can_reflink else "copies"
            self.warn(
                f"cannot hardlink from the package cache ({os.path.dirname(src_dir)}) into "
                f"{dst_dir} (different filesystems?); using {how} instead"
            )
        return mode, can_reflink

    def place(self, src: str, dst: str, mode: str, can_reflink: bool) -> None:
        """Put one regular file at `dst` (which must not exist) using `mode`."""
        if mode == HARDLINK:
            try:
                os.link(src, dst, follow_symlinks=False)
                return
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES):
                    raise
            mode = COPY
        if mode == SOFTLINK:
            os.symlink(src, dst)
            return
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
            return
        if can_reflink:
            st = os.stat(src)
            if reflink(src, dst, st.st_mode & 0o7777):
                os.chmod(dst, st.st_mode & 0o7777)
                return
        copy_file(src, dst)


def _link_chunk(linker: Linker, pairs: list[tuple[str, str]], can_reflink: bool) -> None:
    link = os.link
    for src, dst in pairs:
        try:
            link(src, dst, follow_symlinks=False)
        except FileExistsError:
            raise LinkError(
                f"cannot link {dst}: the path already exists",
                hint="this is a bug in naja's clobber handling; please report it",
            ) from None
        except FileNotFoundError:
            if not os.path.lexists(src):
                raise LinkError(
                    f"{src} is listed in its package's paths.json but missing from the cache",
                    hint="remove the extracted folder from the package cache and retry",
                ) from None
            raise
        except OSError:
            linker.place(src, dst, HARDLINK, can_reflink)


def start_bulk_hardlink(
    linker: Linker, pairs: list[tuple[str, str]], *, can_reflink: bool = False, workers: int = 1
) -> Callable[[], None]:
    """Hardlink many (source, target) pairs whose folders exist, in background threads.

    Returns `join`, which waits and re-raises the first error. The loop around link(2) is
    tiny, so the threads spend nearly all their time in the kernel with the GIL released,
    and the caller's own Python work (writing conda-meta) runs meanwhile.
    """
    if not pairs:
        return lambda: None
    workers = max(1, min(workers, len(pairs) // 1000 or 1))
    chunks = [pairs[i::workers] for i in range(workers)]
    errors: list[BaseException] = []

    def run(chunk: list[tuple[str, str]]) -> None:
        try:
            _link_chunk(linker, chunk, can_reflink)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(c,), name="naja-link", daemon=True) for c in chunks]
    for t in threads:
        t.start()

    def join() -> None:
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    return join


def bulk_hardlink(
    linker: Linker, pairs: list[tuple[str, str]], *, can_reflink: bool = False, workers: int = 1
) -> None:
    """`start_bulk_hardlink` and wait for it."""
    start_bulk_hardlink(linker, pairs, can_reflink=can_reflink, workers=workers)()
