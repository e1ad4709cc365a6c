"""Loads channel x subdir indexes in priority order, every subdir in parallel.

For each remote subdir: with `specs`, the CEP-16 shard index if the server has one, then only
the shards reachable from the specs' names, else the whole index from `full.py` read lazily
(records decoded per name); without specs, the whole index decoded (and parsed-cached).
Local `file://` channels are read in place. All of it shares one progress feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from naja.fetch import CredentialProvider, FetchConfig
from naja.repodata.cache_dir import index_cache_dir
from naja.repodata.context import Context
from naja.repodata.errors import ChannelNotFound, IndexCacheError, OfflineIndexMissing
from naja.repodata.full import OfflineMiss, load_full, load_local
from naja.repodata.index import SubdirIndex
from naja.repodata.progress import IndexProgressCallback, ProgressFeed
from naja.repodata.run_exports import load_run_exports
from naja.repodata.sharded import Closure, fetch_shard, load_shard_index
from naja.repodata.shards import ShardedSubdir
from naja.repodata.state import SubdirState, load_state
from naja.specs.channel import Channel
from naja.specs.match_spec import MatchSpec
from naja.specs.platform import Platform

__all__ = ["SubdirIndex", "load_indexes"]

_Prepared = SubdirIndex | tuple[ShardedSubdir, SubdirState] | None


def _prepare(
    ctx: Context, channel: Channel, subdir: Platform, has_specs: bool, run_exports: bool
) -> _Prepared | OfflineMiss:
    try:
        got = _prepare_index(ctx, channel, subdir, has_specs)
        if run_exports and isinstance(got, SubdirIndex):
            state = load_state(ctx.subdir_dir(channel, subdir))
            table = load_run_exports(ctx, channel, subdir, state)
            if table:
                got.attach_run_exports(table)
    except OSError as exc:
        raise IndexCacheError(exc.filename or ctx.cache_root, exc.strerror or str(exc)) from None
    return got


def _prepare_index(
    ctx: Context, channel: Channel, subdir: Platform, has_specs: bool
) -> _Prepared | OfflineMiss:
    """With specs: shards if the server has them, else a full index decoded lazily.
    Without: the full index, decoded (and parsed-cached) whole."""
    if channel.is_local:
        return load_local(ctx, channel, subdir, lazy=has_specs)
    want_shards = has_specs and ctx.use_shards
    state = load_state(ctx.subdir_dir(channel, subdir))
    try:
        if want_shards:
            sharded = load_shard_index(ctx, channel, subdir, state)
            if sharded is not None:
                return sharded, state
        full = load_full(ctx, channel, subdir, state, lazy=has_specs)
        if full is None and not has_specs and ctx.use_shards:
            # A channel serving only shards: fetch them all (no specs to narrow them).
            sharded = load_shard_index(ctx, channel, subdir, state)
            if sharded is not None:
                return sharded, state
        return full
    except OfflineMiss as miss:
        return miss


def _spec_names(specs: Iterable[str | MatchSpec]) -> list[str]:
    names = []
    for spec in specs:
        ms = spec if isinstance(spec, MatchSpec) else MatchSpec.parse(spec)
        if ms.name:
            names.append(str(ms.name))
    return names


def _lazy_fetcher(ctx: Context, sub: ShardedSubdir):  # type: ignore[no-untyped-def]
    # The context (and its downloader's keep-alive connections) lives as long as the index:
    # names outside the closure are rare, but come one at a time.
    def fetch(name: str) -> list:  # type: ignore[type-arg]
        return fetch_shard(ctx, sub, name)

    return fetch


def load_indexes(
    channels: Sequence[Channel],
    platforms: Iterable[Platform | str],
    *,
    offline: bool = False,
    specs: Iterable[str | MatchSpec] | None = None,
    cache_dir: Path | None = None,
    ttl: float | None = None,
    on_progress: IndexProgressCallback | None = None,
    fetch_config: FetchConfig | None = None,
    max_workers: int = 8,
    run_exports: bool = False,
    use_zst: bool = True,
    use_zchunk: bool = True,
    use_shards: bool = True,
    credentials: CredentialProvider | None = None,
) -> list[SubdirIndex]:
    """One SubdirIndex per channel and subdir (the platforms plus noarch), channel order kept.

    `specs` (match specs) enable sharded repodata: only the records of names reachable from
    them are fetched (other names of a sharded subdir are fetched if later asked for by
    name). `ttl` is conda's `local_repodata_ttl`; `offline` reads only the cache and raises
    `OfflineIndexMissing` listing what is not there. A channel missing one of the subdirs
    contributes no records for it; a channel missing all of them is an error, since that is
    almost always a wrong URL. `run_exports` also reads each subdir's run_exports.json
    (where the channel has one) into the records' `run_exports`. `use_zst`, `use_zchunk` and
    `use_shards` turn index forms off (config `repodata_use_zst`, `repodata_use_shards`);
    `credentials` (tokens, user/password for private channels) go to the download engine.
    """
    wanted = list(platforms)
    jobs = [(channel, subdir) for channel in channels for subdir in channel.subdirs(wanted)]
    roots = None if specs is None else _spec_names(specs)
    config = fetch_config or FetchConfig(offline=offline)
    ctx = Context(
        cache_root=Path(cache_dir) if cache_dir is not None else index_cache_dir(),
        offline=offline,
        ttl=ttl,
        config=config,
        progress=ProgressFeed(on_progress),
        use_zst=use_zst,
        use_zchunk=use_zchunk,
        use_shards=use_shards,
        credentials=credentials,
    )
    try:
        with ThreadPoolExecutor(max(1, min(max_workers, 32))) as pool:
            prepared = list(
                pool.map(
                    lambda job: _prepare(ctx, job[0], job[1], roots is not None, run_exports), jobs
                )
            )
            missing = [p.url for p in prepared if isinstance(p, OfflineMiss)]
            if missing:
                raise OfflineIndexMissing(missing)
            results = _finish_shards(ctx, pool, jobs, prepared, roots)
    finally:
        ctx.close()
    out: list[SubdirIndex] = []
    for channel in channels:
        found = [
            idx
            for (ch, _), idx in zip(jobs, results, strict=True)
            if ch == channel and idx is not None
        ]
        if not found:
            subdirs = ", ".join(s.value for s in channel.subdirs(wanted))
            if channel.is_local:
                hint = (
                    "check the channel path; a local channel needs <channel>/<subdir>/"
                    "repodata.json (run `naja index DIR` to make one)"
                )
            else:
                hint = "check the channel URL (and that it is a conda channel)"
            raise ChannelNotFound(
                f"channel {channel} has no repodata.json for any of {subdirs}", hint=hint
            )
        out.extend(found)
    return out


def _finish_shards(
    ctx: Context,
    pool: ThreadPoolExecutor,
    jobs: list[tuple[Channel, Platform]],
    prepared: list[_Prepared | OfflineMiss],
    roots: list[str] | None,
) -> list[SubdirIndex | None]:
    subs = []
    where = []
    full = []
    for i, p in enumerate(prepared):
        if isinstance(p, tuple):
            sub, state = p
            subs.append((sub, jobs[i][0], jobs[i][1], state))
            where.append(i)
        elif isinstance(p, SubdirIndex):
            full.append(p)
    out: list[SubdirIndex | None] = [p if isinstance(p, SubdirIndex) else None for p in prepared]
    if not subs:
        return out
    closure = Closure(ctx, pool, subs, full)
    if roots is None:
        # Only-shards channels without specs: every name.
        roots = sorted({name for sub, *_ in subs for name in sub.hashes})
    groups = closure.run(roots)
    if closure.offline_missing:
        raise OfflineIndexMissing(closure.offline_missing)
    lazy_ctx = Context(
        ctx.cache_root,
        offline=ctx.offline,
        ttl=ctx.ttl,
        config=ctx.config,
        credentials=ctx.credentials,
    )
    for k, i in enumerate(where):
        sub = closure.subs[k][0]
        out[i] = SubdirIndex(
            jobs[i][0],
            jobs[i][1].value,
            groups=groups[k],
            names=sub.hashes,
            fetch=_lazy_fetcher(lazy_ctx, sub),
            form="shards",
        )
    return out
