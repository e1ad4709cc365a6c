"""Getting sharded subdirs: the shard index (HTTP-cached like any index) and the shards
reachable from the requested package names, fetched in parallel as the closure grows.

A shard that cannot be had (404, wrong hash, does not decode) may mean the cached shard index
is stale: the index is fetched again once and the shard retried under its new hash; if the
index still names the same shard, that is an error naming the package and the URL.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import queue
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path

from naja.repodata import http
from naja.repodata.context import Context
from naja.repodata.errors import CorruptIndexError, IndexFetchError
from naja.repodata.full import OfflineMiss
from naja.repodata.index import SubdirIndex
from naja.repodata.multiget import MultiGet
from naja.repodata.records import dependency_names
from naja.repodata.shards import (
    SHARD_INDEX_FILE,
    ShardDecodeError,
    ShardedSubdir,
    decode_index,
    decode_shard,
    read_cached_shard,
    shard_path,
    store_shard,
)
from naja.repodata.state import NEGATIVE_PROBE_SECONDS, FileState, SubdirState, store_answer
from naja.specs.channel import Channel
from naja.specs.platform import Platform
from naja.specs.records import RepoDataRecord
from naja.specs.url import redact_url


class ShardProblem(Exception):
    """One shard could not be had; `missing` when the server has no such file."""

    def __init__(self, sub: ShardedSubdir, name: str, what: str, *, missing: bool = False):
        super().__init__(what)
        self.sub = sub
        self.name = name
        self.what = what
        self.missing = missing


def _fetch_index(
    ctx: Context, url: str, directory: Path, state: SubdirState, *, force: bool
) -> tuple[FileState | None, bytes | None]:
    """The stored shard index's state, and its bytes when they were just downloaded."""
    now = time.time()
    fs = state.shards
    if fs is not None and not fs.matches(directory):
        fs = state.shards = None
    if ctx.offline:
        return fs, None
    if fs is None and state.no_shards_until > now and not force:
        return None, None
    if fs is not None and not force and fs.is_fresh(ctx.ttl, now):
        ctx.progress.start(url, "shard-index")
        ctx.progress.end("cached", url, "shard-index")
        return fs, None
    ctx.progress.start(url, "shard-index")
    conditional = fs is not None and not force
    ans = http.get(
        ctx.downloader(),
        url,
        etag=fs.etag if conditional and fs else None,
        last_modified=fs.last_modified if conditional and fs else None,
    )
    if ans.not_modified and fs is not None:
        fs.fetched_at = time.time()
        fs.cache_control = ans.cache_control or fs.cache_control
        ctx.progress.end("cached", url, "shard-index")
    elif ans.ok:
        fs = store_answer(url, directory, SHARD_INDEX_FILE, ans)
        ctx.progress.end("done", url, "shard-index", len(ans.body))
    else:
        ctx.progress.end("absent", url, "shard-index")
        fs = None
        state.no_shards_until = now + NEGATIVE_PROBE_SECONDS
        with contextlib.suppress(OSError):
            (directory / SHARD_INDEX_FILE).unlink()
    state.shards = fs
    ctx.save(directory, state)
    return fs, ans.body if ans.ok else None


def load_shard_index(
    ctx: Context, channel: Channel, subdir: Platform, state: SubdirState, *, force: bool = False
) -> ShardedSubdir | None:
    """The subdir's shard index, or None when the server has none (remembered for a week)."""
    directory = ctx.subdir_dir(channel, subdir)
    url = channel.platform_url(subdir, with_token=True) + SHARD_INDEX_FILE
    for attempt in range(2):
        fs, data = _fetch_index(ctx, url, directory, state, force=force or attempt > 0)
        if fs is None:
            return None
        try:
            # A stored copy is checked against the hash taken when it was downloaded (a body
            # just downloaded is what that hash was taken of).
            if data is None:
                data = (directory / fs.file).read_bytes()
                if hashlib.sha256(data).hexdigest() != fs.sha256:
                    raise ShardDecodeError("the cached file changed since it was downloaded")
            index = decode_index(data)
        except (OSError, ShardDecodeError) as exc:
            state.shards = None
            with contextlib.suppress(OSError):
                (directory / SHARD_INDEX_FILE).unlink()
            ctx.save(directory, state)
            if ctx.offline:
                raise OfflineMiss(url) from None
            if attempt > 0:
                raise CorruptIndexError(url, f"the shard index does not decode: {exc}") from None
            continue
        return ShardedSubdir.from_index(
            index, channel=channel.canonical_name, subdir=subdir.value, index_url=url
        )
    return None


def download_shard(ctx: Context, sub: ShardedSubdir, name: str, *, started: bool = False) -> bytes:
    """`name`'s shard from the server, checked against its hash, then stored in the cache.
    `started`: its progress "start" was already reported."""
    url = sub.shard_url(name)
    if ctx.offline:
        raise OfflineMiss(f"{url} (shard of {name!r})")
    if not started:
        ctx.progress.start(url, "shard")
    ans = http.get(ctx.downloader(), url)
    return accept_shard(ctx, sub, name, ans.status, ans.body)


def accept_shard(ctx: Context, sub: ShardedSubdir, name: str, status: int, body: bytes) -> bytes:
    """The server's answer for `name`'s shard, checked against its hash and stored."""
    digest = sub.hashes[name]
    url = sub.shard_url(name)
    if status != 200:
        ctx.progress.end("failed", url, "shard")
        raise ShardProblem(sub, name, f"HTTP {status}", missing=True)
    actual = hashlib.sha256(body).digest()
    if actual != digest:
        ctx.progress.end("failed", url, "shard")
        raise ShardProblem(
            sub, name, f"sha256 mismatch: expected {digest.hex()}, got {actual.hex()}"
        )
    store_shard(ctx.shard_cache, digest, body)
    ctx.progress.end("done", url, "shard", len(body))
    return body


def fetch_shard(
    ctx: Context, sub: ShardedSubdir, name: str, data: bytes | None = None
) -> list[RepoDataRecord]:
    """`name`'s records from its shard: `data` or the cached copy if its hash checks out,
    else the server's (checked against the hash before it is stored)."""
    digest = sub.hashes[name]
    if len(digest) != 32:
        raise ShardProblem(sub, name, f"the shard index gives a {len(digest)}-byte hash")
    if data is None:
        data = read_cached_shard(ctx.shard_cache, digest)
    if data is None:
        data = download_shard(ctx, sub, name)
    try:
        shard = decode_shard(data)
    except ShardDecodeError as exc:
        with contextlib.suppress(OSError):
            shard_path(ctx.shard_cache, digest).unlink()
        raise ShardProblem(sub, name, f"does not decode: {exc}") from None
    return sub.records(shard)


class Closure:
    """Fetches, in parallel, the shards of every name reachable from the roots.

    Dependencies are followed recursively. Names a fetched record only *constrains* are
    fetched too, without following their dependencies: the solver looks them up when it
    encodes the constraint, and would otherwise fetch each one on its own, one at a time.
    Names reached through full (non-sharded) indexes are followed too, so a dependency that
    only a sharded channel has is still found.
    """

    def __init__(
        self,
        ctx: Context,
        pool: Executor,
        subs: Sequence[tuple[ShardedSubdir, Channel, Platform, SubdirState]],
        full: Sequence[SubdirIndex],
    ) -> None:
        self.ctx = ctx
        self.pool = pool
        self.subs = list(subs)
        self.full = list(full)
        self.results: list[dict[str, list[RepoDataRecord]]] = [{} for _ in self.subs]
        # Names whose dependencies are followed / whose shards were asked for.
        self.seen: set[str] = set()
        self.submitted: set[str] = set()
        self.refreshed: set[int] = set()
        self.offline_missing: list[str] = []
        self._futures: dict[Future[bytes], tuple[int, str]] = {}
        self._ready: list[tuple[int, str, bytes]] = []
        # Finished futures arrive here (cheaper than wait() over every pending one).
        self._finished: queue.SimpleQueue[Future[bytes]] = queue.SimpleQueue()
        # Shards are fetched from this thread over non-blocking connections where the plain
        # path applies (see multiget); the rest, and whatever fails there, on the pool.
        # Made on the first shard not in the cache.
        self._net: MultiGet | None = None

    def expand_roots(self, roots: Iterable[str]) -> set[str]:
        names: set[str] = set()
        for root in roots:
            root = root.lower()
            if any(ch in root for ch in "*?["):
                for sub, *_ in self.subs:
                    names.update(fnmatch.filter(sub.hashes, root))
                for index in self.full:
                    names.update(fnmatch.filter(index.names(), root))
            else:
                names.add(root)
        return names

    def _add(self, name: str, follow: bool = True) -> None:
        if name in self.seen:
            return
        if not follow:
            if name not in self.submitted:
                self._submit_all(name)
            return
        self.seen.add(name)
        if name in self.submitted:
            # Fetched (or in flight) as a constrained name: follow what already arrived;
            # `_accept` follows the rest.
            for results in self.results:
                if name in results:
                    self._follow(results[name])
        else:
            self._submit_all(name)
        for index in self.full:
            group = index.by_name(name)
            if group:
                self._follow(group)

    def _follow(self, records: list[RepoDataRecord]) -> None:
        for dep in dependency_names(records):
            self._add(dep)
        for con in dependency_names(records, "constrains"):
            self._add(con, follow=False)

    def _submit_all(self, name: str) -> None:
        self.submitted.add(name)
        for i, (sub, *_) in enumerate(self.subs):
            if name in sub.hashes:
                self._submit(i, name)

    def _submit(self, i: int, name: str) -> None:
        sub = self.subs[i][0]
        cached = read_cached_shard(self.ctx.shard_cache, sub.hashes[name])
        if cached is not None:
            # Decoding a cached shard costs less than handing it to a worker thread.
            self._ready.append((i, name, cached))
            return
        if len(sub.hashes[name]) != 32:
            # fetch_shard reports the bad hash (through _drain_ready, like any shard problem).
            self._ready.append((i, name, b""))
            return
        url = sub.shard_url(name)
        if self._net is None and not self.ctx.offline:
            self._net = MultiGet(self.ctx.downloader(), self.pool)
        if self._net is not None and self._net.submit((i, name), url):
            self.ctx.progress.start(url, "shard")
            return
        self._download(i, name, started=False)

    def _download(self, i: int, name: str, *, started: bool) -> None:
        """The full path on a worker thread: redirects, retries, mirrors, proxies."""
        future = self.pool.submit(download_shard, self.ctx, self.subs[i][0], name, started=started)
        self._futures[future] = (i, name)
        future.add_done_callback(self._done)

    def _done(self, future: Future[bytes]) -> None:
        self._finished.put(future)
        if self._net is not None:
            self._net.wake()

    def _network_done(self, key: tuple[int, str], body: bytes | None) -> None:
        i, name = key
        if body is None:
            self._download(i, name, started=True)
            return
        try:
            data = accept_shard(self.ctx, self.subs[i][0], name, 200, body)
        except ShardProblem as exc:
            self._recover(i, exc)
            return
        self._ready.append((i, name, data))

    def _drain_ready(self) -> None:
        while self._ready:
            i, name, data = self._ready.pop()
            try:
                records = fetch_shard(self.ctx, self.subs[i][0], name, data)
            except ShardProblem as exc:
                self._recover(i, exc)
                continue
            self._accept(i, name, records)

    def _accept(self, i: int, name: str, records: list[RepoDataRecord]) -> None:
        self.results[i][name] = records
        if name in self.seen:
            self._follow(records)

    def run(self, roots: Iterable[str]) -> list[dict[str, list[RepoDataRecord]]]:
        for name in self.expand_roots(roots):
            self._add(name)
        try:
            self._drain_ready()
            while self._futures or (self._net is not None and self._net.pending):
                net = self._net
                if net is not None and net.pending:
                    for key, body in net.poll(None if self._finished.empty() else 0):
                        self._network_done(key, body)  # type: ignore[arg-type]
                        self._drain_ready()
                    if self._finished.empty():
                        continue
                self._take_finished(self._finished.get())
                self._drain_ready()
        finally:
            if self._net is not None:
                self._net.close()
                self._net = None
        return self.results

    def _take_finished(self, future: Future[bytes]) -> None:
        i, name = self._futures.pop(future)
        try:
            data = future.result()
        except OfflineMiss as exc:
            self.offline_missing.append(exc.url)
        except ShardProblem as exc:
            self._recover(i, exc)
        else:
            self._ready.append((i, name, data))

    def _recover(self, i: int, problem: ShardProblem) -> None:
        """Refetch the shard index once; retry the shard if it moved, else fail clearly."""
        sub, channel, subdir, state = self.subs[i]
        url = sub.shard_url(problem.name)
        if i not in self.refreshed:
            self.refreshed.add(i)
            fresh = load_shard_index(self.ctx, channel, subdir, state, force=True)
            if fresh is not None:
                old = sub.hashes.get(problem.name)
                self.subs[i] = (fresh, channel, subdir, state)
                new = fresh.hashes.get(problem.name)
                if new is None:
                    return
                if new != old:
                    self._submit(i, problem.name)
                    return
        if problem.missing:
            raise IndexFetchError(
                url,
                f"the shard index of {redact_url(sub.index_url)} lists package "
                f"{problem.name!r} but the server has no shard for it ({problem.what})",
                hint="the channel is being updated or is broken; try again later",
            )
        raise CorruptIndexError(url, f"shard of package {problem.name!r}: {problem.what}")
