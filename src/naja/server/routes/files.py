"""Channel files for conda clients: `/get/CHANNEL/SUBDIR/FILE` and `/t/TOKEN/get/...`.

Every file of a private channel, repodata and shards included, needs read access. A subdir
without packages still answers with an empty index (clients always ask for `noarch`).
"""

from __future__ import annotations

import functools
import re

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from naja.index.writer import REPODATA, REPODATA_ZST, SHARD_INDEX, build_subdir_index
from naja.server.auth import require, resolve
from naja.specs.platform import Platform

router = APIRouter()
_SUBDIR = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_FILE = re.compile(r"^[A-Za-z0-9_.+!=-][A-Za-z0-9_.+!=,-]{0,254}$")
_KNOWN = {p.value for p in Platform} | {"noarch"}
_TYPES = {
    REPODATA: "application/json",
    REPODATA_ZST: "application/zstd",
    SHARD_INDEX: "application/octet-stream",
}


@functools.lru_cache(maxsize=64)
def _empty(subdir: str) -> dict[str, bytes]:
    idx = build_subdir_index(subdir, {})
    return {REPODATA: idx.repodata, REPODATA_ZST: idx.repodata_zst, SHARD_INDEX: idx.shard_index}


def _split(rest: str) -> tuple[str, str]:
    subdir, _, name = rest.partition("/")
    if not _SUBDIR.match(subdir):
        raise HTTPException(404, "no such subdir")
    if name.startswith("shards/"):
        shard = name.removeprefix("shards/")
        if not re.fullmatch(r"[0-9a-f]{64}\.msgpack\.zst", shard):
            raise HTTPException(404, "no such shard")
    elif not _FILE.match(name) or ".." in name:
        raise HTTPException(404, "no such file")
    return subdir, name


_SMALL = 4 << 20
_immutable_cache: dict[str, bytes] = {}
_immutable_bytes = 0


def _small_local(request: Request, path, media: str, headers: dict, immutable: bool) -> Response | None:
    """Small files are answered from memory or one read, without a thread hop per request;
    ETags let clients revalidate their cached index with a 304."""
    global _immutable_bytes
    key = str(path)
    if immutable and key in _immutable_cache:
        return Response(_immutable_cache[key], media_type=media, headers=headers)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if st.st_size > _SMALL:
        return None
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = path.read_bytes()
    if immutable:
        if _immutable_bytes + len(data) > 64 << 20:
            _immutable_cache.clear()
            _immutable_bytes = 0
        _immutable_cache[key] = data
        _immutable_bytes += len(data)
    return Response(data, media_type=media, headers=headers)


def serve(request: Request, channel: str, rest: str, token: str | None = None) -> Response:
    state = request.app.state.naja
    info = state.channel(channel)
    if info is None:
        raise HTTPException(404, f"channel {channel!r} not found")
    ident = resolve(state, request, token)
    require(state, ident, info, "read")
    if rest == "channeldata.json":
        return Response(b'{"channeldata_version": 1, "packages": {}, "subdirs": []}', media_type="application/json")
    subdir, name = _split(rest)
    if info.mode == "proxy":
        from naja.server.proxy import serve_proxy

        return serve_proxy(state, info, subdir, name)
    is_package = name.endswith((".conda", ".tar.bz2"))
    immutable = name.startswith("shards/") or is_package
    headers = {
        "Cache-Control": ("private" if info.private else "public")
        + (", max-age=31536000, immutable" if immutable else ", max-age=0, must-revalidate")
    }
    media = _TYPES.get(name, "application/octet-stream")
    key = f"{channel}/{subdir}/{name}"
    resp: Response | None = None
    local = state.storage.local_path(key)
    if local is not None:
        resp = _small_local(request, local, media, headers, immutable) if not is_package else None
        if resp is None:
            resp = FileResponse(local, media_type=media, headers=headers)
    else:
        opened = state.storage.open_stream(key)
        if opened is None:
            if name in _TYPES and subdir in _KNOWN:
                return Response(_empty(subdir)[name], media_type=media, headers=headers)
            raise HTTPException(404, f"{subdir}/{name} not found in {channel}")
        chunks, size = opened
        headers["Content-Length"] = str(size)
        resp = StreamingResponse(chunks, media_type=media, headers=headers)
    if is_package:
        state.plugins.hook.package_served(state=state, channel=channel, subdir=subdir, filename=name)
    return resp


async def _dispatch(request: Request, channel: str, rest: str, token: str | None = None) -> Response:
    state = request.app.state.naja
    info = state.channel_if_cached(channel)
    # Index files of a known, local, hosted channel are served on the event loop: the
    # channel and credential lookups are cached in memory and the files are small. Anything
    # that may touch the database, S3, upstream or the statistics plugin goes to a thread.
    if (
        info is not None
        and info.mode != "proxy"
        and state.local_storage
        and not rest.endswith((".conda", ".tar.bz2"))
        and (not info.private and not token and "authorization" not in request.headers
             and "x-api-key" not in request.headers)
    ):
        return serve(request, channel, rest, token)
    return await run_in_threadpool(serve, request, channel, rest, token)


@router.api_route("/get/{channel}/{rest:path}", methods=["GET", "HEAD"])
async def get_file(request: Request, channel: str, rest: str) -> Response:
    return await _dispatch(request, channel, rest)


@router.api_route("/t/{token}/get/{channel}/{rest:path}", methods=["GET", "HEAD"])
async def get_file_token(request: Request, token: str, channel: str, rest: str) -> Response:
    return await _dispatch(request, channel, rest, token)
