"""Progress as plain data: per-file and total bytes, rates and ETA, for the CLI to render.

The engine calls `on_event(ProgressEvent)` from its worker threads, at most every
`progress_interval` seconds per file plus once at each file's start and end; rendering
(rich bars, quiet, JSON lines) is the CLI's job. URLs in events are already redacted.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from naja.specs.url import redact_url

EventKind = Literal["start", "progress", "retry", "done", "failed"]


@dataclass(frozen=True)
class ProgressEvent:
    kind: EventKind
    name: str
    url: str
    downloaded: int
    total: int | None
    rate: float
    total_downloaded: int
    total_bytes: int | None
    total_rate: float
    eta: float | None
    files_done: int
    files_total: int
    message: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready data (for `--json` progress lines)."""
        return dataclasses.asdict(self)


ProgressCallback = Callable[[ProgressEvent], None]


class _File:
    __slots__ = ("downloaded", "last_emit", "name", "started", "total", "url")

    def __init__(self, name: str, url: str, total: int | None) -> None:
        self.name = name
        self.url = url
        self.total = total
        self.downloaded = 0
        self.started = time.monotonic()
        self.last_emit = 0.0


class ProgressTracker:
    """Aggregates byte counts from every worker and turns them into events."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        *,
        files_total: int = 0,
        bytes_total: int | None = None,
        interval: float = 0.1,
    ) -> None:
        self.callback = callback
        self.files_total = files_total
        self.bytes_total = bytes_total
        self.interval = interval
        self.files_done = 0
        self.downloaded = 0
        self.started = time.monotonic()
        self._files: dict[object, _File] = {}
        self._lock = threading.Lock()

    def start(self, key: object, name: str, url: str, total: int | None) -> None:
        if self.callback is None:
            return
        state = _File(name, redact_url(url), total)
        with self._lock:
            self._files[key] = state
        self._emit("start", state)

    def advance(self, key: object, nbytes: int) -> None:
        if self.callback is None:
            return
        with self._lock:
            self.downloaded += nbytes
            state = self._files.get(key)
            if state is None:
                return
            state.downloaded += nbytes
            now = time.monotonic()
            if now - state.last_emit < self.interval:
                return
            state.last_emit = now
        self._emit("progress", state)

    def rewind(self, key: object, nbytes: int, message: str) -> None:
        """Bytes that will be fetched again (a restart) no longer count as done."""
        if self.callback is None:
            return
        with self._lock:
            state = self._files.get(key)
            if state is None:
                return
            nbytes = min(nbytes, state.downloaded)
            state.downloaded -= nbytes
            self.downloaded -= nbytes
        self._emit("retry", state, message)

    def finish(self, key: object, ok: bool, message: str | None = None) -> None:
        if self.callback is None:
            return
        with self._lock:
            self.files_done += 1
            state = self._files.pop(key, None)
        if state is not None:
            self._emit("done" if ok else "failed", state, message)

    def _emit(self, kind: EventKind, state: _File, message: str | None = None) -> None:
        assert self.callback is not None
        now = time.monotonic()
        file_elapsed = max(now - state.started, 1e-6)
        total_elapsed = max(now - self.started, 1e-6)
        total_rate = self.downloaded / total_elapsed
        eta = None
        if self.bytes_total is not None and total_rate > 0:
            eta = max(self.bytes_total - self.downloaded, 0) / total_rate
        self.callback(
            ProgressEvent(
                kind=kind,
                name=state.name,
                url=state.url,
                downloaded=state.downloaded,
                total=state.total,
                rate=state.downloaded / file_elapsed,
                total_downloaded=self.downloaded,
                total_bytes=self.bytes_total,
                total_rate=total_rate,
                eta=eta,
                files_done=self.files_done,
                files_total=self.files_total,
                message=message,
            )
        )
