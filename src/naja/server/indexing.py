"""Rewriting a channel subdir's index after an upload or a deletion.

The records come from the database (one row per package file), so an upload costs one row
insert plus re-encoding the subdir: on a 10k-package channel that is tens of milliseconds,
and shards are re-encoded only for the name that changed (per-worker shard cache). Writers of
one subdir are serialised across workers (PostgreSQL advisory lock, or a file lock in the data
directory for SQLite) and each reads the rows after taking the lock, so the last writer
always publishes every committed package.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
import time
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import select, text

from naja.index.writer import (
    REPODATA,
    REPODATA_ZST,
    SHARD_INDEX,
    SHARDS_DIR,
    SubdirIndex,
    build_subdir_index,
)
from naja.repodata.shards import ShardDecodeError, decode_index
from naja.server.models import Channel, PackageFile

_decode = msgspec.json.Decoder(dict)


class Indexer:
    def __init__(self, state: Any) -> None:
        self.state = state
        self._shard_caches: dict[tuple[str, str], dict] = {}
        self._written: set[tuple[str, str]] = set()
        self._primed: set[tuple[str, str]] = set()
        self._mutex = threading.Lock()
        self.last_seconds = 0.0

    @contextmanager
    def _lock(self, session, channel: str, subdir: str):
        key = int.from_bytes(hashlib.sha256(f"{channel}/{subdir}".encode()).digest()[:7], "big")
        if self.state.db.is_postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            yield
            return
        locks = self.state.settings.data_dir / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key:x}.lock", "wb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @staticmethod
    def _generation(channel) -> str:
        return f"{channel.id}@{getattr(channel, 'created', '')}"

    def records(self, session, channel: Channel, subdir: str) -> dict[str, dict]:
        rows = session.execute(
            select(PackageFile.filename, PackageFile.record).where(
                PackageFile.channel_id == channel.id, PackageFile.subdir == subdir
            )
        )
        return {fn: _decode.decode(rec) for fn, rec in rows}

    def regenerate(self, channel: Channel, subdir: str) -> SubdirIndex:
        start = time.perf_counter()
        with self.state.db.session() as s, s.begin(), self._lock(s, channel.name, subdir):
            records = self.records(s, channel, subdir)
            self.state.plugins.hook.patch_repodata(
                state=self.state, channel=channel.name, subdir=subdir, records=records
            )
            with self._mutex:
                cache = self._shard_caches.setdefault((self._generation(channel), subdir), {})
            index = build_subdir_index(subdir, records, shard_cache=cache)
            self.publish(channel.name, index, self._generation(channel))
        self.last_seconds = time.perf_counter() - start
        self.state.plugins.hook.post_index(
            state=self.state, channel=channel.name, subdir=subdir, packages=len(records)
        )
        return index

    def publish(self, channel: str, index: SubdirIndex, channel_id: str) -> None:
        """Shards, then the shard index, then repodata: never a reference to a missing file.

        What this worker knows it wrote is keyed by the channel's id and creation time, so a
        channel deleted and created again under the same name starts with nothing known."""
        storage = self.state.storage
        base = f"{channel}/{index.subdir}/"
        if (channel_id, index.subdir) not in self._primed:
            self._prime(channel, index.subdir, channel_id)
        for digest, data in index.shards.items():
            key = f"{base}{SHARDS_DIR}/{digest}.msgpack.zst"
            # Content addressed: a shard written once never changes.
            if (channel_id, key) in self._written:
                continue
            if not storage.exists(key):
                storage.put_bytes(key, data, "application/octet-stream")
            self._written.add((channel_id, key))
        storage.put_bytes(base + SHARD_INDEX, index.shard_index, "application/octet-stream")
        storage.put_bytes(base + REPODATA_ZST, index.repodata_zst, "application/zstd")
        storage.put_bytes(base + REPODATA, index.repodata, "application/json")

    def _prime(self, channel: str, subdir: str, channel_id: str) -> None:
        """Shards named by the published shard index exist (they are written first), so a
        fresh worker need not check each of them before its first publish."""
        base = f"{channel}/{subdir}/"
        raw = self.state.storage.get_bytes(base + SHARD_INDEX)
        if raw:
            try:
                published = decode_index(raw)
            except ShardDecodeError:
                published = None
            if published is not None:
                self._written.update(
                    (channel_id, f"{base}{SHARDS_DIR}/{d.hex()}.msgpack.zst")
                    for d in published.shards.values()
                )
        self._primed.add((channel_id, subdir))
