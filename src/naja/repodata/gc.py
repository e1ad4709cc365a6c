"""Garbage collection of the shard cache (CEP-16): shards no cached shard index names.

Shards are content-addressed, so a republished package leaves its old shard behind in
`<cache>/shards/`. `collect_shards` deletes the shards that no shard index in the cache refers
to any more and that are older than `min_age` (a concurrent run may have just fetched one for
an index it has not saved yet).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from naja.repodata.cache_dir import index_cache_dir
from naja.repodata.shards import SHARD_INDEX_FILE, ShardDecodeError, decode_index


@dataclass(frozen=True, slots=True)
class Collected:
    removed: int
    freed_bytes: int
    kept: int


def collect_shards(cache_dir: Path | None = None, *, min_age: float = 3600.0) -> Collected:
    root = Path(cache_dir) if cache_dir is not None else index_cache_dir()
    shards = root / "shards"
    if not shards.is_dir():
        return Collected(0, 0, 0)
    referenced: set[str] = set()
    for index_file in root.glob(f"*/{SHARD_INDEX_FILE}"):
        try:
            index = decode_index(index_file.read_bytes())
        except (OSError, ShardDecodeError):
            # An index that cannot be read protects nothing; it is refetched when needed.
            continue
        referenced.update(digest.hex() for digest in index.shards.values())
    now = time.time()
    removed = freed = kept = 0
    for path in shards.glob("*.msgpack.zst"):
        digest = path.name.split(".", 1)[0]
        if digest in referenced:
            kept += 1
            continue
        with contextlib.suppress(OSError):
            st = path.stat()
            if now - st.st_mtime < min_age:
                kept += 1
                continue
            path.unlink()
            removed += 1
            freed += st.st_size
    return Collected(removed, freed, kept)
