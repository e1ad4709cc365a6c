"""Turning a subdir's records into `repodata.json`, its `.zst` and CEP-16 shards.

Pure functions over records (no I/O), so `naja index` and the server write the same bytes.
Shards are content addressed: a shard's name is the sha256 of its compressed bytes, which the
shard index stores as raw bytes; every zstd frame carries its content size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import zstandard

REPODATA = "repodata.json"
REPODATA_ZST = "repodata.json.zst"
SHARD_INDEX = "repodata_shards.msgpack.zst"
SHARDS_DIR = "shards"
# Level 3 compresses a 10k-record repodata.json in tens of milliseconds; a channel is
# rewritten after every upload, so speed matters more than the last few percent.
ZSTD_LEVEL = 3

_json = msgspec.json.Encoder(order="sorted")
_msgpack = msgspec.msgpack.Encoder(order="sorted")


@dataclass
class SubdirIndex:
    """Every file of one subdir's index, ready to be written."""

    subdir: str
    repodata: bytes
    repodata_zst: bytes
    shard_index: bytes
    # sha256 hex -> compressed shard bytes
    shards: dict[str, bytes] = field(default_factory=dict)


def _zstd(data: bytes, level: int = ZSTD_LEVEL) -> bytes:
    return zstandard.ZstdCompressor(level=level, write_content_size=True).compress(data)


def _shard_record(rec: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    for key in ("md5", "sha256"):
        value = out.get(key)
        if isinstance(value, str):
            out[key] = bytes.fromhex(value)
    return out


def build_shard(records: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[str, bytes]:
    """One package name's shard: (sha256 hex of the compressed bytes, the bytes)."""
    packages: dict[str, Any] = {}
    conda: dict[str, Any] = {}
    for fn, rec in records:
        (conda if fn.endswith(".conda") else packages)[fn] = _shard_record(rec)
    data = _zstd(_msgpack.encode({"packages": packages, "packages.conda": conda, "removed": []}))
    return hashlib.sha256(data).hexdigest(), data


def build_subdir_index(
    subdir: str,
    records: Mapping[str, Mapping[str, Any]],
    *,
    removed: Iterable[str] = (),
    shard_cache: dict[tuple, tuple[str, bytes]] | None = None,
    base_url: str = "./",
) -> SubdirIndex:
    """All index files of `subdir` from `records` (file name -> repodata record).

    `shard_cache` (kept by the caller between calls) maps a name's records to its shard, so that after one upload only the uploaded name's shard is encoded again.
    """
    packages: dict[str, Any] = {}
    conda: dict[str, Any] = {}
    by_name: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for fn in sorted(records):
        rec = records[fn]
        (conda if fn.endswith(".conda") else packages)[fn] = rec
        by_name.setdefault(rec["name"], []).append((fn, rec))
    repodata = _json.encode(
        {
            "info": {"subdir": subdir},
            "packages": packages,
            "packages.conda": conda,
            "removed": sorted(removed),
            "repodata_version": 1,
        }
    )
    shards: dict[str, bytes] = {}
    index: dict[str, bytes] = {}
    for name, recs in by_name.items():
        # The key holds each record's bytes: a patched record must not reuse a stale shard.
        key = (name, *((fn, _msgpack.encode(r)) for fn, r in recs))
        hit = shard_cache.get(key) if shard_cache is not None else None
        if hit is None:
            hit = build_shard(recs)
            if shard_cache is not None:
                shard_cache[key] = hit
        digest, data = hit
        shards[digest] = data
        index[name] = bytes.fromhex(digest)
    if shard_cache is not None and len(shard_cache) > 4 * max(len(by_name), 1000):
        # Entries of replaced shards are dropped once the cache outgrows the channel.
        live = set(shards)
        for key in [k for k, v in shard_cache.items() if v[0] not in live]:
            del shard_cache[key]
    shard_index = _zstd(
        _msgpack.encode(
            {
                "info": {
                    "base_url": base_url,
                    "shards_base_url": f"./{SHARDS_DIR}/",
                    "subdir": subdir,
                },
                "shards": index,
                "version": 1,
            }
        )
    )
    return SubdirIndex(subdir, repodata, _zstd(repodata), shard_index, shards)
