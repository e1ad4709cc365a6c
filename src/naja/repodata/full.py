"""A subdir's whole index: `repodata.json.zck` (delta-updated), `.zst`, or `repodata.json`.

The first form the server has wins (`.zck`, then `.zst`, then plain JSON with gzip transfer
encoding); a form the server lacks is remembered for a week. The downloaded file is stored as
it came, with its validators in the state file, and revalidated with a conditional GET once
its freshness (Cache-Control max-age or `local_repodata_ttl`) runs out. A stored file that no
longer matches its state, or that does not decode, is thrown away and fetched again once;
still broken means the server's copy is broken, which is an error, never a partial index.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

import msgspec
import zstandard

from naja.errors import ParseError
from naja.fetch import DownloadError, DownloadRequest
from naja.repodata import http
from naja.repodata.context import Context
from naja.repodata.errors import CorruptIndexError
from naja.repodata.index import SubdirIndex
from naja.repodata.lazy_json import LAZY_FILE, LazyJsonIndex
from naja.repodata.parsed import PARSED_FILE, parsed_key, read_parsed, write_parsed
from naja.repodata.records import group_by_name
from naja.repodata.shards import zstd_decompress
from naja.repodata.state import (
    NEGATIVE_PROBE_SECONDS,
    FileState,
    SubdirState,
    store_answer,
)
from naja.repodata.zck import ZchunkDecodeError, decode_zchunk
from naja.specs.channel import Channel
from naja.specs.platform import Platform
from naja.specs.repodata import load_repodata
from naja.specs.url import redact_url, url_to_path

ZCK, ZST, JSON = "repodata.json.zck", "repodata.json.zst", "repodata.json"
VARIANTS = (ZCK, ZST, JSON)
# A subdir the server does not have (noarch-only channels...) is asked for again after this.
MISSING_SECONDS = 3600.0


class OfflineMiss(Exception):
    """Offline, and nothing usable is cached for this URL."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _Damaged(Exception):
    pass


def _kind(file: str) -> str:
    return {ZCK: "zck", ZST: "zst"}.get(file, "json")


def _drop(directory: Path, state: SubdirState) -> None:
    if state.full is not None:
        with contextlib.suppress(OSError):
            (directory / state.full.file).unlink()
    for name in (PARSED_FILE, LAZY_FILE):
        with contextlib.suppress(OSError):
            (directory / name).unlink()
    state.full = None


def _zck_update(ctx: Context, url: str, directory: Path, fs: FileState) -> FileState | None:
    """Bring the stored `.zck` up to date, fetching only the chunks it lacks."""
    target = directory / (ZCK + ".new")
    request = DownloadRequest(url, target, zchunk_base=directory / ZCK)
    ctx.progress.start(url, "repodata")
    try:
        result = ctx.downloader().download(request)
    except DownloadError as exc:
        ctx.progress.end("failed", url, "repodata")
        if getattr(exc, "status", None) == 404:
            return None
        raise
    data = target.read_bytes()
    os.replace(target, directory / ZCK)
    st = (directory / ZCK).stat()
    ctx.progress.end("done", url, "repodata", result.size - result.reused_bytes)
    return FileState(
        url=redact_url(url),
        file=ZCK,
        etag=result.etag or fs.etag,
        last_modified=result.last_modified or fs.last_modified,
        cache_control=fs.cache_control,
        fetched_at=time.time(),
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _ensure(
    ctx: Context, subdir_url: str, directory: Path, state: SubdirState, *, force: bool
) -> FileState | None:
    """A stored, current full index (or None: the subdir does not exist on the server)."""
    now = time.time()
    fs = state.full
    if fs is not None and not fs.matches(directory):
        fs = state.full = None
    if ctx.offline:
        if fs is None:
            if state.missing_until > now:
                return None
            raise OfflineMiss(subdir_url + "repodata.json")
        return fs
    if state.missing_until > now and not force:
        return None
    dl = ctx.downloader()
    if fs is not None and not force:
        url = subdir_url + fs.file
        if fs.is_fresh(ctx.ttl, now):
            ctx.progress.start(url, "repodata")
            ctx.progress.end("cached", url, "repodata")
            return fs
        if fs.file == ZCK:
            new = _zck_update(ctx, url, directory, fs)
        else:
            ctx.progress.start(url, "repodata")
            ans = http.get(
                dl, url, etag=fs.etag, last_modified=fs.last_modified, gzip=fs.file == JSON
            )
            new = None
            if ans.not_modified:
                fs.fetched_at = time.time()
                fs.cache_control = ans.cache_control or fs.cache_control
                fs.etag = ans.etag or fs.etag
                new = fs
                ctx.progress.end("cached", url, "repodata")
            elif ans.ok:
                new = store_answer(url, directory, fs.file, ans)
                ctx.progress.end("done", url, "repodata", len(ans.body))
            else:
                ctx.progress.end("absent", url, "repodata")
        if new is not None:
            state.full = new
            ctx.save(directory, state)
            return new
        _drop(directory, state)
    for file in VARIANTS:
        if file == ZCK and (state.no_zck_until > now or not ctx.use_zchunk):
            continue
        if file == ZST and (state.no_zst_until > now or not ctx.use_zst):
            continue
        url = subdir_url + file
        ctx.progress.start(url, "repodata")
        ans = http.get(dl, url, gzip=file == JSON)
        if ans.ok:
            ctx.progress.end("done", url, "repodata", len(ans.body))
            state.full = store_answer(url, directory, file, ans)
            state.missing_until = 0.0
            ctx.save(directory, state)
            return state.full
        ctx.progress.end("absent", url, "repodata")
        if file == ZCK:
            state.no_zck_until = now + NEGATIVE_PROBE_SECONDS
        elif file == ZST:
            state.no_zst_until = now + NEGATIVE_PROBE_SECONDS
    state.missing_until = now + MISSING_SECONDS
    ctx.save(directory, state)
    return None


def _decode(file: str, data: bytes) -> bytes:
    try:
        if file == ZST:
            return zstd_decompress(data)
        if file == ZCK:
            return decode_zchunk(data)
    except (zstandard.ZstdError, ZchunkDecodeError) as exc:
        raise _Damaged(f"{file} does not decompress: {exc}") from None
    return data


def _load(
    channel: Channel,
    subdir: Platform,
    directory: Path,
    fs: FileState,
    source: Path | None = None,
    *,
    lazy: bool = False,
) -> SubdirIndex:
    files_url = channel.platform_url(subdir)
    key = parsed_key(fs.sha256, channel.canonical_name, files_url)
    raw = read_parsed(directory, key)
    kind = "local" if source is not None else _kind(fs.file)
    if raw is not None:
        return SubdirIndex(channel, subdir.value, raw=raw, form=kind + "+parsed-cache")
    lazy_index = None
    if lazy:
        lazy_index = LazyJsonIndex.open(
            directory, key, channel=channel.canonical_name, subdir=subdir.value
        )
        if lazy_index is not None:
            return _lazy_subdir(channel, subdir, lazy_index, kind + "+lazy-cache")
    path = source or directory / fs.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Damaged(f"cannot read {path}: {exc}") from None
    if source is None and hashlib.sha256(data).hexdigest() != fs.sha256:
        raise _Damaged("the cached file changed since it was downloaded")
    if lazy:
        # Specs are known: decode only the names the solve asks for. The full parsed cache
        # needs every record decoded, so only the scan is saved; a run without specs
        # writes the full one.
        try:
            lazy_index = LazyJsonIndex.scan(
                _decode(fs.file, data),
                channel=channel.canonical_name,
                subdir=subdir.value,
                files_url=files_url,
            )
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise _Damaged(f"not valid repodata: {exc}") from None
        lazy_index.save(directory, key)
        return _lazy_subdir(channel, subdir, lazy_index, kind + "+lazy")
    try:
        records = load_repodata(
            _decode(fs.file, data),
            channel=channel.canonical_name,
            subdir=subdir.value,
            base_url=files_url,
        )
    except ParseError as exc:
        raise _Damaged(f"not valid repodata: {exc.reason}") from None
    groups = group_by_name(records)
    write_parsed(directory, key, groups)
    return SubdirIndex(channel, subdir.value, records, groups=groups, form=kind)


def _lazy_subdir(
    channel: Channel, subdir: Platform, index: LazyJsonIndex, form: str
) -> SubdirIndex:
    return SubdirIndex(
        channel, subdir.value, names=index.names(), fetch=index.records, form=form, complete=True
    )


def load_full(
    ctx: Context, channel: Channel, subdir: Platform, state: SubdirState, *, lazy: bool = False
) -> SubdirIndex | None:
    """The subdir's full index (None when the server has no such subdir)."""
    directory = ctx.subdir_dir(channel, subdir)
    subdir_url = channel.platform_url(subdir, with_token=True)
    for attempt in range(2):
        fs = _ensure(ctx, subdir_url, directory, state, force=attempt > 0)
        if fs is None:
            return None
        try:
            return _load(channel, subdir, directory, fs, lazy=lazy)
        except _Damaged as exc:
            _drop(directory, state)
            ctx.save(directory, state)
            if ctx.offline or attempt > 0:
                if ctx.offline:
                    raise OfflineMiss(subdir_url + fs.file) from None
                raise CorruptIndexError(subdir_url + fs.file, str(exc)) from None
    return None


def load_local(
    ctx: Context, channel: Channel, subdir: Platform, *, lazy: bool = False
) -> SubdirIndex | None:
    """A `file://` channel's subdir, read in place (the parsed cache still spares the parse)."""
    folder = Path(url_to_path(channel.platform_url(subdir)))
    for file in (ZST, JSON):
        path = folder / file
        try:
            st = path.stat()
        except OSError:
            continue
        fs = FileState(
            url=path.as_uri(),
            file=file,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            sha256=f"local:{path}:{st.st_size}:{st.st_mtime_ns}",
        )
        try:
            return _load(
                channel, subdir, ctx.subdir_dir(channel, subdir), fs, source=path, lazy=lazy
            )
        except _Damaged as exc:
            raise CorruptIndexError(path.as_uri(), str(exc)) from None
    return None
