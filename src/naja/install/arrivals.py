"""Packages handed to a transaction one by one as the package cache finishes them, so linking
overlaps downloading and extracting."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from naja.install.package_link import PackageToLink
from naja.specs.records import RepoDataRecord

if TYPE_CHECKING:
    from naja.install.cache import PackageCache


class Arrivals:
    """Packages of `records`, extracted by `PackageCache.populate` in a background thread and
    yielded as each is ready (in any order); a failure is raised from the iteration."""

    _END = object()

    def __init__(
        self,
        cache: PackageCache,
        records: Sequence[RepoDataRecord],
        options: dict[str, Any],
        specs: dict[str, str],
        on_ready: Callable[[PackageToLink], None] | None,
    ) -> None:
        self.records = list(records)
        self._cache = cache
        self._options = options
        self._specs = specs
        self._on_ready = on_ready
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stop = threading.Event()

    def _populate(self) -> None:
        try:
            self._cache.populate(self.records, on_done=self._queue.put, stop=self._stop, **self._options)
            self._queue.put(self._END)
        except BaseException as e:
            self._queue.put(e)

    def __iter__(self) -> Iterator[PackageToLink]:
        threading.Thread(target=self._populate, name="naja-populate", daemon=True).start()
        for _ in range(len(self.records)):
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            if item is self._END:
                return
            item.requested_spec = self._specs.get(item.record.name, item.requested_spec)
            if self._on_ready:
                self._on_ready(item)
            yield item
        # Every package is here; wait until the cache is done too (download folder removed,
        # extraction workers and their helper processes ended), so nothing of this install
        # is still running when it returns.
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item

    def cancel(self) -> None:
        """Skip the packages not started yet (the transaction failed)."""
        self._stop.set()
