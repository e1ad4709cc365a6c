"""Proxy channels: files fetched from an upstream channel on demand and kept.

Index files (`repodata.json`, `.zst`, the shard index) are served from the cache at once and,
once older than `proxy_ttl`, refreshed in a background thread (stale-while-revalidate): a
client never waits on upstream when a copy exists, and never gets a 504 for a cached index.
Shards and package files are immutable and kept forever, including after upstream deletes
them (retention), so old lockfiles still install. Only the very first fetch of a file waits
on upstream.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx
import msgspec
import zstandard
from fastapi import HTTPException, Response
from fastapi.responses import FileResponse, StreamingResponse

from naja.index.writer import REPODATA, REPODATA_ZST, SHARD_INDEX

log = logging.getLogger(__name__)
_REFRESHABLE = {REPODATA, REPODATA_ZST, SHARD_INDEX}
_TYPES = {REPODATA: "application/json", REPODATA_ZST: "application/zstd"}
_refreshing: set[str] = set()
_lock = threading.Lock()
_client = httpx.Client(timeout=httpx.Timeout(30, connect=5), follow_redirects=True)


def _meta_key(key: str) -> str:
    head, _, name = key.rpartition("/")
    return f"{head}/.proxy-meta/{name}.json"


def _meta(state, key: str) -> dict:
    raw = state.storage.get_bytes(_meta_key(key))
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def _fetch(state, upstream: str, key: str, rel: str, etag: str | None = None) -> bool:
    """Fetch `rel` from upstream into the cache; False when upstream has no such file."""
    headers = {"If-None-Match": etag} if etag else {}
    resp = _client.get(f"{upstream.rstrip('/')}/{rel}", headers=headers)
    if resp.status_code == 304:
        meta = _meta(state, key)
        meta["fetched"] = time.time()
        state.storage.put_bytes(_meta_key(key), json.dumps(meta).encode(), "application/json")
        return True
    if resp.status_code == 404:
        return False
    resp.raise_for_status()
    content = resp.content
    if rel.endswith(SHARD_INDEX):
        content = _local_shard_index(content)
    state.storage.put_bytes(key, content, _TYPES.get(rel.rpartition("/")[2], "application/octet-stream"))
    meta = {"fetched": time.time(), "etag": resp.headers.get("etag")}
    state.storage.put_bytes(_meta_key(key), json.dumps(meta).encode(), "application/json")
    return True


def _local_shard_index(raw: bytes) -> bytes:
    """Point the shard index's base URLs at the proxy itself: upstream may give absolute
    URLs, and clients must fetch shards and packages through the proxy (for retention)."""
    try:
        index = msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(raw))
    except (zstandard.ZstdError, msgspec.DecodeError):
        return raw
    info = index.get("info") if isinstance(index, dict) else None
    if not isinstance(info, dict):
        return raw
    if info.get("base_url") in (None, "", "./") and info.get("shards_base_url") in (None, "./shards/"):
        return raw
    info["base_url"] = "./"
    info["shards_base_url"] = "./shards/"
    data = msgspec.msgpack.encode(index)
    return zstandard.ZstdCompressor(level=3, write_content_size=True).compress(data)


def _refresh_later(state, upstream: str, key: str, rel: str, etag: str | None) -> None:
    with _lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def run() -> None:
        try:
            _fetch(state, upstream, key, rel, etag)
        except (httpx.HTTPError, OSError) as exc:
            # Upstream is down or slow: keep serving the cached copy and try again later.
            log.warning("proxy refresh of %s failed: %s", rel, exc)
        finally:
            with _lock:
                _refreshing.discard(key)

    threading.Thread(target=run, name=f"proxy-refresh {rel}", daemon=True).start()


def _send(state, key: str, name: str) -> Response | None:
    media = _TYPES.get(name, "application/octet-stream")
    local = state.storage.local_path(key)
    if local is not None:
        return FileResponse(local, media_type=media)
    opened = state.storage.open_stream(key)
    if opened is None:
        return None
    chunks, size = opened
    return StreamingResponse(chunks, media_type=media, headers={"Content-Length": str(size)})


def serve_proxy(state, info, subdir: str, name: str) -> Response:
    key = f"{info.name}/{subdir}/{name}"
    rel = f"{subdir}/{name}"
    cached = _send(state, key, name)
    if cached is not None:
        if name in _REFRESHABLE:
            meta = _meta(state, key)
            if time.time() - meta.get("fetched", 0) > state.settings.proxy_ttl:
                _refresh_later(state, info.upstream, key, rel, meta.get("etag"))
        elif name.endswith((".conda", ".tar.bz2")):
            state.plugins.hook.package_served(state=state, channel=info.name, subdir=subdir, filename=name)
        return cached
    try:
        found = _fetch(state, info.upstream, key, rel)
    except httpx.TimeoutException:
        raise HTTPException(504, f"upstream {info.upstream} timed out") from None
    except (httpx.HTTPError, OSError) as exc:
        raise HTTPException(502, f"upstream {info.upstream} failed: {exc}") from None
    if not found:
        raise HTTPException(404, f"{rel} not found upstream")
    resp = _send(state, key, name)
    if resp is None:
        raise HTTPException(502, "the cached copy vanished")
    return resp
