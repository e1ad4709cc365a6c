"""A child process that makes batches of hardlinks for `linking.BulkLinks`.

Why a process: each link(2) is a few microseconds in the kernel, and a Python thread calling it
in a loop releases and re-takes the GIL around every call, so a link thread and the thread that
plans the next package mostly wait for each other (measured: one thread is as fast as two, and
no faster than doing it all serially). A child process has its own interpreter: it links while
the parent plans, on another core. It is a tiny `python -S -E -c` program that imports nothing
of naja and starts in about ten milliseconds, overlapped with the parent's work.

Protocol: the parent writes frames `<batch id, byte length>` + NUL-separated names: a source
root, a target root, then source and target paths relative to those (joined by the child, so
the parent builds no path per file); the child answers each batch with `<batch id, pairs done,
errno>`. At the first error
the child stops linking (answering every later batch with "nothing done"), and the parent makes
what is left itself, with its usual fallbacks and error messages: the child only ever does the
plain, successful case.

Safety: the child holds the caller's lock descriptors (the prefix lock), so after a `kill -9`
of the parent no other naja process can recover the prefix until the child has stopped; it
stops at end of input, which the parent's death causes. Ctrl-C is left to the parent, which
kills the child (`kill`) and reaps it (`wait`) before undoing anything.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence

_HEAD = struct.Struct("<II")
_REPLY = struct.Struct("<IIi")

# The child: kept free of imports beyond os/struct/signal so that it starts fast.
_CHILD = r"""
import os, signal, struct
signal.signal(signal.SIGINT, signal.SIG_IGN)
head, reply = struct.Struct("<II"), struct.Struct("<IIi")
handle = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_CLOEXEC
link, open_dir, close, write = os.link, os.open, os.close, os.write
inp = os.fdopen(0, "rb", buffering=1 << 20)
failed = False
while True:
    h = inp.read(8)
    if len(h) < 8:
        break
    batch, size = head.unpack(h)
    data = inp.read(size)
    if failed or len(data) < size:
        write(1, reply.pack(batch, 0, -1))
        continue
    names = data.split(b"\0")
    src_root, dst_root = names[0] + b"/", names[1] + b"/"
    names = iter(names[2:])
    done = err = 0
    src_dir = dst_dir = None
    sfd = dfd = -1
    try:
        for src, dst in zip(names, names):
            sd, _, sname = src.rpartition(b"/")
            dd, _, dname = dst.rpartition(b"/")
            if sd != src_dir:
                if sfd >= 0:
                    close(sfd)
                    sfd = -1
                sfd = open_dir(src_root + sd, handle)
                src_dir = sd
            if dd != dst_dir:
                if dfd >= 0:
                    close(dfd)
                    dfd = -1
                dfd = open_dir(dst_root + dd, handle)
                dst_dir = dd
            link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
            done += 1
    except OSError as e:
        err = e.errno or 1
        failed = True
    finally:
        if sfd >= 0:
            close(sfd)
        if dfd >= 0:
            close(dfd)
    write(1, reply.pack(batch, done, err))
"""

class _Batch:
    """Links `src_root/srcs[i]` -> `dst_root/dsts[i]`."""

    __slots__ = ("dst_root", "dsts", "src_root", "srcs")

    def __init__(self, src_root: str, dst_root: str, srcs: list[str], dsts: list[str]) -> None:
        self.src_root, self.dst_root, self.srcs, self.dsts = src_root, dst_root, srcs, dsts

    def pairs(self, start: int) -> list[tuple[str, str]]:
        """Absolute (source, target) pairs from index `start` on."""
        sr, dr = self.src_root + "/", self.dst_root + "/"
        return [(sr + s, dr + d) for s, d in zip(self.srcs[start:], self.dsts[start:], strict=True)]


_F_SETPIPE_SZ = 1031  # linux/fcntl.h: a bigger pipe lets the parent run further ahead


# Tests that simulate system-call failures inside this process turn the helper off.
ENABLED = True


def helper_available() -> bool:
    """Linux with a runnable interpreter: not a frozen application, nor Python embedded in
    another program (whose sys.executable is that program: it would neither answer nor exit)."""
    return (
        ENABLED
        and sys.platform.startswith("linux")
        and not getattr(sys, "frozen", False)
        and bool(sys.executable)
        and os.path.basename(sys.executable).startswith("python")
        and os.path.isfile(sys.executable)
    )


class LinkHelper:
    """One child process linking the batches `send()` gives it, in order."""

    def __init__(self, keep_fds: Sequence[int] = ()) -> None:
        # -I (isolated): no environment variables and, above all, no current directory on
        # sys.path, so a `struct.py` in the folder naja is run from cannot run in the child.
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Whatever goes wrong in the child, this process redoes and reports; a start-up
            # failure (no usable interpreter) must not print a traceback to the user.
            stderr=subprocess.DEVNULL,
            pass_fds=tuple(keep_fds),
            bufsize=0,
        )
        try:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            with contextlib.suppress(OSError):
                import fcntl

                fcntl.fcntl(self.proc.stdin.fileno(), _F_SETPIPE_SZ, 1 << 20)
            self._out = self.proc.stdout.fileno()
            self._sent: dict[int, _Batch] = {}  # batch id -> batch, until answered
            self._ids = itertools.count()
            self._queue: queue.SimpleQueue[tuple[int, _Batch] | None] = queue.SimpleQueue()
            # Writes go through a thread: the pipe fills when the child is behind, and the
            # caller must not wait for that.
            self._writer = threading.Thread(
                target=self._write, name="naja-link-feed", daemon=True
            )
            self._writer.start()
        except BaseException:
            # Interrupted (Ctrl-C) before the caller holds this helper: nobody else could
            # stop the child, which holds the prefix lock, nor close its pipes.
            self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            raise

    def send(self, src_root: str, dst_root: str, srcs: list[str], dsts: list[str]) -> None:
        """Link `src_root/srcs[i]` to `dst_root/dsts[i]` (the roots may be "/")."""
        batch = next(self._ids)
        item = _Batch(src_root.rstrip("/"), dst_root.rstrip("/"), srcs, dsts)
        self._sent[batch] = item
        self._queue.put((batch, item))

    def _write(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        fd = stdin.fileno()
        try:
            while (item := self._queue.get()) is not None:
                batch, b = item
                pairs = zip(b.srcs, b.dsts, strict=True)
                names = [b.src_root, b.dst_root, *itertools.chain.from_iterable(pairs)]
                data = "\0".join(names).encode("utf-8", "surrogateescape")
                view = memoryview(_HEAD.pack(batch, len(data)) + data)
                while view:
                    view = view[os.write(fd, view) :]
        except OSError:
            pass  # the child is gone (killed): the missing answers say what is left to do
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def close_input(self) -> None:
        """No more batches: the child ends once it answered them all."""
        self._queue.put(None)

    def collect(self) -> list[tuple[list[tuple[str, str]], bool]]:
        """Wait for the answers to every batch sent so far; returns what the child left
        undone, in order, as (pairs, maybe partly done) — the caller makes those itself."""
        left: list[tuple[list[tuple[str, str]], bool]] = []
        while self._sent:
            reply = self._read_reply()
            if reply is None:
                # The child died: anything unanswered may be partly done.
                left += [(self._sent.pop(b).pairs(0), True) for b in sorted(self._sent)]
                break
            batch, done, err = reply
            b = self._sent.pop(batch)
            if err:
                left.append((b.pairs(done), False))
        return left

    def _read_reply(self) -> tuple[int, int, int] | None:
        buf = b""
        while len(buf) < _REPLY.size:
            chunk = os.read(self._out, _REPLY.size - len(buf))
            if not chunk:
                return None
            buf += chunk
        batch, done, err = _REPLY.unpack(buf)
        return batch, done, err

    def kill(self) -> None:
        """Stop the child now (a failed transaction): it makes no link after `wait()`."""
        self._queue.put(None)
        with contextlib.suppress(OSError):
            self.proc.kill()

    def wait(self) -> None:
        self.proc.wait()
        self._writer.join()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
