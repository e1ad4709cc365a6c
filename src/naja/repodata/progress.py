"""One combined progress feed for every index file of a `load_indexes` call.

Events are plain data for the CLI to render: which file (redacted URL), what happened to it,
and the running totals over all channels, subdirs and shards (the shard total grows while
the dependency closure is discovered).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from naja.specs.url import redact_url

Kind = Literal["start", "done", "cached", "absent", "failed"]


@dataclass(frozen=True, slots=True)
class IndexProgress:
    kind: Kind
    url: str
    # "repodata", "shard-index" or "shard".
    what: str
    nbytes: int
    files_done: int
    files_total: int
    bytes_total: int


IndexProgressCallback = Callable[[IndexProgress], None]


class ProgressFeed:
    """Counts files and bytes from every worker thread and calls back under one lock."""

    def __init__(self, callback: IndexProgressCallback | None) -> None:
        self.callback = callback
        self.files_done = 0
        self.files_total = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def start(self, url: str, what: str) -> None:
        with self._lock:
            self.files_total += 1
            self._emit("start", url, what, 0)

    def end(self, kind: Kind, url: str, what: str, nbytes: int = 0) -> None:
        with self._lock:
            self.files_done += 1
            self.bytes += nbytes
            self._emit(kind, url, what, nbytes)

    def _emit(self, kind: Kind, url: str, what: str, nbytes: int) -> None:
        if self.callback is not None:
            self.callback(
                IndexProgress(
                    kind,
                    redact_url(url),
                    what,
                    nbytes,
                    self.files_done,
                    self.files_total,
                    self.bytes,
                )
            )


@contextlib.contextmanager
def rich_progress(
    console: Any = None, *, transient: bool = True
) -> Iterator[IndexProgressCallback]:
    """A ready-made display for the CLI: one line for all index files of a `load_indexes`.

    with rich_progress() as on_progress:
        load_indexes(channels, platforms, specs=specs, on_progress=on_progress)
    """
    from rich.progress import BarColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("channel indexes"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} files, {task.fields[mb]:.1f} MB"),
        console=console,
        transient=transient,
    )
    task = progress.add_task("indexes", total=None, mb=0.0)
    lock = threading.Lock()

    def update(event: IndexProgress) -> None:
        with lock:
            progress.update(
                task,
                completed=event.files_done,
                total=max(event.files_total, 1),
                mb=event.bytes_total / 1e6,
            )

    with progress:
        yield update
