"""Writing index files atomically: a temporary file in the same directory, then a rename."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from naja.index.writer import REPODATA, REPODATA_ZST, SHARD_INDEX, SHARDS_DIR, SubdirIndex


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a partial one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_subdir_index(directory: Path, index: SubdirIndex) -> None:
    """Shards first, then the shard index, then repodata: nothing points at a missing file."""
    shards = directory / SHARDS_DIR
    shards.mkdir(parents=True, exist_ok=True)
    for digest, data in index.shards.items():
        target = shards / f"{digest}.msgpack.zst"
        # Content addressed: an existing shard of that name already holds these bytes.
        if not target.exists():
            write_atomic(target, data)
    write_atomic(directory / SHARD_INDEX, index.shard_index)
    write_atomic(directory / REPODATA_ZST, index.repodata_zst)
    write_atomic(directory / REPODATA, index.repodata)
