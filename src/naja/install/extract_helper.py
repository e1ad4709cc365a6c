"""Package extraction in child processes, for `PackageCache.populate`'s workers.

Why processes: extracting is tar parsing in Python between many small system calls (open,
write, close per member), and every one of them releases and re-takes the GIL; extraction
threads, the download threads and the linking thread then spend their time handing the GIL to
each other (measured on two cores: two extraction threads were slower than one, at half again
the CPU time). A child process per worker extracts with its own interpreter; the worker thread
only waits for its answer.

The child runs `extract_archive` for each request and answers `ok` or `error`. It does only the
successful case: on an error the worker extracts that package again itself, which raises the
usual exception (a bad package, a full disk) with the usual message. The child extracts into a
`*.naja-tmp-*` folder of its own and the parent, which holds the package cache's lock, renames
it into place. The child dies with its parent (PR_SET_PDEATHSIG); should it outlive a killed
naja all the same, it can only ever write its own temporary folder, which the next extraction
of that package removes. Ctrl-C is left to the parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

from naja.install.archive import extract_archive
from naja.install.link_helper import helper_available

__all__ = ["ExtractHelper", "helper_available", "serve"]


class ExtractHelper:
    """One child process extracting archives on request (`extract`), one at a time."""

    def __init__(self) -> None:
        code = (
            "import sys; sys.path[:0] = " + repr([p for p in sys.path if p]) + "\n"
            "from naja.install.extract_helper import serve; serve(" + str(os.getpid()) + ")"
        )
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            # -I: no environment variables, no current directory on sys.path (the child
            # imports exactly from the paths this process uses).
            [sys.executable, "-I", "-S", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Errors are redone and reported by this process; a child that cannot start
            # (no usable interpreter) must not print a traceback to the user.
            stderr=subprocess.DEVNULL,
        )

    def extract(
        self,
        archive: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        *,
        digest_verified: bool = False,
    ) -> None:
        """`extract_archive(archive, dest)`, done by the child when it can."""
        proc = self.proc
        if proc is not None:
            assert proc.stdin is not None and proc.stdout is not None
            # The child extracts into a folder of its own; this process, which holds the
            # package cache's lock, moves it into place. A child that outlived a killed naja
            # can therefore never put anything at `dest`.
            staged = f"{os.fspath(dest)}.naja-tmp-{os.urandom(6).hex()}"
            request = {"archive": os.fspath(archive), "dest": staged, "verified": digest_verified}
            try:
                proc.stdin.write(json.dumps(request).encode("ascii") + b"\n")
                proc.stdin.flush()
                answer = proc.stdout.readline()
            except OSError:
                answer = b""
            if answer == b"ok\n":
                os.rename(staged, dest)
                return
            if not answer:
                # The child died. Its rename to `staged` is its last step: a folder there is
                # complete. Otherwise extract here, as from now on.
                self.close()
                if os.path.isdir(staged):
                    os.rename(staged, dest)
                    return
        extract_archive(archive, dest, digest_verified=digest_verified)

    def close(self) -> None:
        """End the child (it exits at end of input) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.wait()
        proc.stdout.close()


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes
            import signal

            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)  # the parent is already gone


def serve(parent: int) -> None:
    """The child's loop: one JSON request per line on stdin, `ok` or `error` per line back."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    for line in inp:
        try:
            req = json.loads(line)
            extract_archive(req["archive"], req["dest"], digest_verified=bool(req["verified"]))
            out.write(b"ok\n")
        except Exception:
            out.write(b"error\n")
        out.flush()

