"""Everything a request handler needs, built once per worker: settings, database, storage,
plugins, the indexer and a short-lived channel cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from naja.server.db import Database
from naja.server.hooks import Plugins
from naja.server.indexing import Indexer
from naja.server.models import Channel
from naja.server.settings import Settings
from naja.server.storage import Storage, make_storage

_CHANNEL_TTL = 2.0


@dataclass(frozen=True)
class ChannelInfo:
    """A detached snapshot of a channel row (safe to share between threads)."""

    id: int
    name: str
    private: bool
    mode: str
    upstream: str
    description: str
    # With the id, tells a channel from an earlier one of the same name (SQLite reuses ids).
    created: str = ""


class ServerState:
    def __init__(self, settings: Settings, plugins: Plugins | None = None) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.storage: Storage = make_storage(settings)
        self.local_storage = not settings.storage.startswith("s3://")
        self.plugins = plugins or Plugins(settings.plugins)
        self.plugins.state = self
        self.indexer = Indexer(self)
        self._channels: dict[str, tuple[float, ChannelInfo | None]] = {}
        self._lock = threading.Lock()

    def channel(self, name: str, *, fresh: bool = False) -> ChannelInfo | None:
        hit = self._channels.get(name)
        if hit is not None and not fresh and hit[0] > time.monotonic():
            return hit[1]
        with self.db.session() as s:
            row = s.scalar(select(Channel).where(Channel.name == name))
            info = (
                ChannelInfo(
                    row.id, row.name, row.private, row.mode, row.upstream, row.description,
                    row.created_at.isoformat() if row.created_at else "",
                )
                if row
                else None
            )
        with self._lock:
            if len(self._channels) > 5000:
                self._channels.clear()
            self._channels[name] = (time.monotonic() + _CHANNEL_TTL, info)
        return info

    def channel_if_cached(self, name: str) -> ChannelInfo | None:
        """The channel when a fresh cached copy exists, else None (no database access)."""
        hit = self._channels.get(name)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def forget_channel(self, name: str) -> None:
        with self._lock:
            self._channels.pop(name, None)
