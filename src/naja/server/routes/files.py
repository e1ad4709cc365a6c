"""Channel files for conda clients: `/get/CHANNEL/SUBDIR/FILE` and `/t/TOKEN/get/...`.

Every file of a private channel, repodata and shards included, needs read access. A subdir
without packages still answers with an empty index (clients always ask for `noarch`).
"""

from __future__ import annotations

import functools
import re

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

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
    if info.mode:
        from naja.server.proxy import serve_proxy

        return serve_proxy(state, info, subdir, name)
    immutable = name.startswith("shards/") or name.endswith((".conda", ".tar.bz2"))
    headers = {
        "Cache-Control": ("private" if info.private else "public")
        + (", max-age=31536000, immutable" if immutable else ", max-age=0, must-revalidate")
    }
    media = _TYPES.get(name, "application/octet-stream")
    key = f"{channel}/{subdir}/{name}"
    local = state.storage.local_path(key)
    if local is not None:
        resp: Response = FileResponse(local, media_type=media, headers=headers)
    else:
        opened = state.storage.open_stream(key)
        if opened is None:
            if name in _TYPES and subdir in _KNOWN:
                return Response(_empty(subdir)[name], media_type=media, headers=headers)
            raise HTTPException(404, f"{subdir}/{name} not found in {channel}")
        chunks, size = opened
        headers["Content-Length"] = str(size)
        resp = StreamingResponse(chunks, media_type=media, headers=headers)
    if name.endswith((".conda", ".tar.bz2")):
        state.plugins.hook.package_served(state=state, channel=channel, subdir=subdir, filename=name)
    return resp


@router.api_route("/get/{channel}/{rest:path}", methods=["GET", "HEAD"])
def get_file(request: Request, channel: str, rest: str) -> Response:
    return serve(request, channel, rest)


@router.api_route("/t/{token}/get/{channel}/{rest:path}", methods=["GET", "HEAD"])
def get_file_token(request: Request, token: str, channel: str, rest: str) -> Response:
    return serve(request, channel, rest, token)
