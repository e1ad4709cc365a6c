"""Placing files from an extracted package into a prefix: hardlink, reflink, copy or softlink.

The link mode is decided once per (cache filesystem, prefix filesystem) pair by a probe, not per
file; when hardlinks are impossible (different filesystems) naja copies — with a reflink where
the filesystem supports it — and warns once.
"""

from __future__ import annotations

import errno
import fcntl
import os
import queue
import shutil
import signal
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from naja.install.errors import LinkError
from naja.install.link_helper import LinkHelper, helper_available

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


# Directory handles for link(2) relative to a folder: O_PATH opens no file, only a handle.
_DIR_HANDLE = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_CLOEXEC


def _link_chunk(
    linker: Linker,
    pairs: list[tuple[str, str]],
    can_reflink: bool,
    stop: threading.Event | None = None,
    *,
    maybe_done: bool = False,
) -> None:
    # linkat(2) relative to handles of the source and target folders: consecutive files
    # mostly share both folders (paths.json is sorted), and the kernel then resolves one
    # name per side instead of two deep absolute paths — path walking was most of the
    # system time of linking tens of thousands of files.
    link = os.link
    open_dir = os.open
    close = os.close
    src_dir = dst_dir = ""
    sfd = dfd = -1
    try:
        for n, (src, dst) in enumerate(pairs):
            if stop is not None and not n & 255 and stop.is_set():
                return
            sd, _, sname = src.rpartition("/")
            dd, _, dname = dst.rpartition("/")
            try:
                if sd != src_dir:
                    if sfd >= 0:
                        close(sfd)
                        sfd = -1
                    sfd = open_dir(sd, _DIR_HANDLE)
                    src_dir = sd
                if dd != dst_dir:
                    if dfd >= 0:
                        close(dfd)
                        dfd = -1
                    dfd = open_dir(dd, _DIR_HANDLE)
                    dst_dir = dd
                link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
            except FileExistsError:
                if maybe_done and _same_file(src, dst):
                    continue  # made by a link helper that died before answering
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
    finally:
        if sfd >= 0:
            close(sfd)
        if dfd >= 0:
            close(dfd)


def _same_file(a: str, b: str) -> bool:
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


class BulkLinks:
    """Hardlinks of (source, target) pairs, made by background threads as batches arrive.

    The caller `feed()`s batches (their folders must exist) while it keeps working, then
    `close()`s and `join()`s. A failing transaction must `cancel()` and `wait()` before undoing
    anything, so no thread creates a file after the rollback removed it.

    With `helper_fds` (and where `link_helper.helper_available()`), the plain hardlinks go to
    `helpers` child processes instead (see `naja.install.link_helper`: threads calling link(2)
    in a loop mostly trade the GIL with the caller), which hold `helper_fds` (the prefix lock)
    while they live; the threads then run only the `submit()`ted jobs. What a child leaves
    undone (an error) the caller's thread makes in `drain()`/`join()`, raising the usual errors.
    """

    BATCH = 512
    HELPER_BATCH = 2048

    def __init__(
        self,
        linker: Linker,
        *,
        can_reflink: bool = False,
        workers: int = 1,
        helper_fds: Sequence[int] | None = None,
        helpers: int = 1,
    ) -> None:
        self.errors: list[BaseException] = []
        self._helper_fds = helper_fds
        self._helpers: list[LinkHelper] = []
        self._helper_count = max(1, helpers)
        self._sent = 0
        self._use_helper = helper_fds is not None and helper_available()
        self._linker = linker
        self._can_reflink = can_reflink
        self._stop = threading.Event()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending = 0  # batches and jobs fed and not yet finished
        self._pending_jobs = 0
        self._idle = threading.Condition()
        workers = max(1, workers)
        # Own completion flags: an interrupted Thread.join() can mark a running thread as
        # stopped (CPython's bpo-45274 handling), so is_alive()/join() cannot be trusted here.
        self._done = [threading.Event() for _ in range(workers)]
        self._threads = [
            threading.Thread(target=self._run, args=(done,), name="naja-link", daemon=True)
            for done in self._done
        ]

    def start(self) -> BulkLinks:
        # A Ctrl-C inside Thread.start() could leave a thread that is running but not yet
        # "alive" for wait(); hold SIGINT back until every thread is marked started.
        held: list[int] = []
        try:
            previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
        except ValueError:  # not the main thread: no KeyboardInterrupt can land here
            previous = None
        try:
            for t in self._threads:
                t.start()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if held:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt
        return self

    def feed_package(self, src_root: str, dst_root: str, srcs: list[str], dsts: list[str]) -> None:
        """Link `src_root/srcs[i]` to `dst_root/dsts[i]` (a package's files into the prefix)."""
        if not self._use_helper:
            pairs = zip(srcs, dsts, strict=True)
            self.feed([(f"{src_root}/{s}", f"{dst_root}/{d}") for s, d in pairs])
            return
        if not srcs or self._stop.is_set():
            return
        if not self._helpers:
            # Started on the first batch: a transaction that links nothing starts none.
            try:
                for _ in range(self._helper_count):
                    self._helpers.append(LinkHelper(self._helper_fds or ()))
            except OSError:  # cannot start a process (limits, memory): threads then
                if not self._helpers:
                    self._use_helper = False
                    self.feed_package(src_root, dst_root, srcs, dsts)
                    return
        step = self.HELPER_BATCH
        for i in range(0, len(srcs), step):
            # The helpers take turns, batch by batch.
            helper = self._helpers[self._sent % len(self._helpers)]
            helper.send(src_root, dst_root, srcs[i : i + step], dsts[i : i + step])
            self._sent += 1

    def feed(self, pairs: list[tuple[str, str]]) -> None:
        """Link each (source, target) pair."""
        if self._use_helper:
            pairs = [(os.path.abspath(s), os.path.abspath(d)) for s, d in pairs]
            self.feed_package("/", "/", [s[1:] for s, _ in pairs], [d[1:] for _, d in pairs])
            return
        # Small batches let every thread share one big package.
        for i in range(0, len(pairs), self.BATCH):
            with self._idle:
                self._pending += 1
            self._queue.put(pairs[i : i + self.BATCH])

    def submit(self, job: Callable[[], None]) -> None:
        """Run `job` on a worker thread (prefix replacement: I/O and hashing release the GIL)."""
        with self._idle:
            self._pending += 1
            self._pending_jobs += 1
        self._queue.put(job)

    def drain(self, *, jobs_only: bool = False) -> None:
        """Wait until everything fed so far is done (or only the submitted jobs), or the
        threads stopped on an error."""
        with self._idle:
            while (self._pending_jobs if jobs_only else self._pending) and not self._stop.is_set():
                self._idle.wait(0.05)
        if self.errors:
            raise self.errors[0]
        if not jobs_only:
            self._collect_helper()

    def _collect_helper(self) -> None:
        """Wait for the helper's answers so far, and make what it left undone here."""
        if not self._helpers or self._stop.is_set():
            return
        for pairs, maybe_done in [x for h in self._helpers for x in h.collect()]:
            _link_chunk(self._linker, pairs, self._can_reflink, self._stop, maybe_done=maybe_done)

    def close(self) -> None:
        """No more batches: threads end once the queue is drained."""
        for _ in self._threads:
            self._queue.put(None)
        for h in self._helpers:
            h.close_input()

    def _run(self, done: threading.Event) -> None:
        try:
            while not self._stop.is_set():
                batch = self._queue.get()
                if batch is None:
                    break
                is_job = callable(batch)
                try:
                    if is_job:
                        batch()
                    else:
                        _link_chunk(self._linker, batch, self._can_reflink, self._stop)
                finally:
                    with self._idle:
                        self._pending -= 1
                        if is_job:
                            self._pending_jobs -= 1
                        self._idle.notify_all()
        except BaseException as e:
            self.errors.append(e)
            self._stop.set()
        finally:
            done.set()

    def cancel(self) -> None:
        self._stop.set()
        for h in self._helpers:
            h.kill()
        self.close()  # wake threads waiting for a batch

    def wait(self) -> KeyboardInterrupt | None:
        """Block until every thread ended, even across KeyboardInterrupts (which stop the
        threads early and are returned, for the caller to raise)."""
        interrupted = None
        for t, done in zip(self._threads, self._done, strict=True):
            if t.ident is None:
                continue  # never started
            while not done.is_set():
                try:
                    done.wait()
                except KeyboardInterrupt as e:
                    self.cancel()
                    interrupted = e
        while self._helpers:
            try:
                self._helpers[-1].wait()
                self._helpers.pop()
            except KeyboardInterrupt as e:
                self.cancel()
                interrupted = e
        return interrupted

    def join(self) -> None:
        """Close, wait, then re-raise an interrupt or the first error of a thread."""
        self.close()
        if self._helpers and not self._stop.is_set():
            try:
                self._collect_helper()
            except BaseException as e:
                self.errors.append(e)
                self.cancel()
        elif self._helpers:
            # Stopped (a failed job): the helpers' queued links would only be rolled back.
            self.cancel()
        interrupted = self.wait()
        if interrupted is not None:
            raise interrupted
        if self.errors:
            raise self.errors[0]


def bulk_hardlink(
    linker: Linker, pairs: list[tuple[str, str]], *, can_reflink: bool = False, workers: int = 1
) -> None:
    """Hardlink (source, target) pairs whose folders exist, in parallel, and wait."""
    links = BulkLinks(linker, can_reflink=can_reflink, workers=workers).start()
    links.feed(pairs)
    links.join()
