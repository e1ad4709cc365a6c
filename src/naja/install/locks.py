"""Advisory file locks (fcntl) so several naja processes can share a package cache or prefix."""

from __future__ import annotations

import fcntl
import os
import time
from types import TracebackType

from naja.install.errors import CacheError


class FileLock:
    """An exclusive `flock` on `path` (created if missing), waiting at most `timeout` seconds.

    The lock belongs to the open file description, so it is released when the process dies —
    a killed naja never leaves a cache locked.
    """

    def __init__(self, path: str, *, timeout: float = 600.0, what: str = "") -> None:
        self.path = path
        self.timeout = timeout
        self.what = what or path
        self.fd: int | None = None

    def acquire(self) -> FileLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise CacheError(
                        f"timed out after {self.timeout:.0f}s waiting for the lock on {self.what}",
                        hint="another naja process is using it; wait for it to finish",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
