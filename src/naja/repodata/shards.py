"""CEP-16 sharded repodata: the shard index of a subdir and its content-addressed shards.

`repodata_shards.msgpack.zst` maps each package name to the sha256 (raw bytes) of its shard;
a shard `<shards_base_url><sha256 hex>.msgpack.zst` holds that name's `packages`,
`packages.conda` and `removed` entries with md5/sha256 as bytes. `base_url` and
`shards_base_url` are resolved against the index's own URL. Shards are cached under their hash
in one directory shared by every channel: a cached shard is checked against its name (the
hash) when read and never revalidated with the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import msgspec
import zstandard

from naja.repodata.records import ShardRecord
from naja.repodata.state import tmp_name
from naja.specs.records import RepoDataRecord
from naja.specs.repodata import finish_records

SHARD_INDEX_FILE = "repodata_shards.msgpack.zst"


class ShardInfo(msgspec.Struct, kw_only=True):
    base_url: str | None = None
    shards_base_url: str | None = None
    subdir: str | None = None


class ShardIndexFile(msgspec.Struct, kw_only=True):
    version: int = 1
    info: ShardInfo = msgspec.field(default_factory=ShardInfo)
    shards: dict[str, bytes] = {}


class ShardFile(msgspec.Struct, kw_only=True, gc=False):
    packages: dict[str, ShardRecord] = {}
    packages_conda: dict[str, ShardRecord] = msgspec.field(default={}, name="packages.conda")
    removed: list[str] = []


_INDEX = msgspec.msgpack.Decoder(ShardIndexFile)
_SHARD = msgspec.msgpack.Decoder(ShardFile)


class ShardDecodeError(ValueError):
    pass


# One decompressor per thread (they are not thread-safe): making one per shard costs more
# than decompressing a small shard.
_local = threading.local()


def zstd_decompress(data: bytes) -> bytes:
    """A zstd frame's content; frames without a content size are streamed."""
    dctx = getattr(_local, "dctx", None)
    if dctx is None:
        dctx = _local.dctx = zstandard.ZstdDecompressor()
    try:
        return dctx.decompress(data)
    except zstandard.ZstdError as exc:
        # Start the next frame from a fresh context, whatever state this one is in.
        _local.dctx = None
        if "content size" not in str(exc):
            raise
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def decode_index(data: bytes) -> ShardIndexFile:
    try:
        index = _INDEX.decode(zstd_decompress(data))
    except (zstandard.ZstdError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ShardDecodeError(str(exc)) from None
    # Hash lengths are checked when a shard is used: checking 30k entries here costs more.
    return index


def decode_shard(data: bytes) -> ShardFile:
    try:
        return _SHARD.decode(zstd_decompress(data))
    except (zstandard.ZstdError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ShardDecodeError(str(exc)) from None


@dataclass(slots=True)
class ShardedSubdir:
    """One subdir's shard index, resolved: which hash each name has and where files live."""

    channel: str
    subdir: str
    index_url: str
    files_url: str
    shards_url: str
    hashes: dict[str, bytes]

    @classmethod
    def from_index(
        cls, index: ShardIndexFile, *, channel: str, subdir: str, index_url: str
    ) -> ShardedSubdir:
        subdir_url = index_url.rsplit("/", 1)[0] + "/"
        files_url = urljoin(index_url, index.info.base_url) if index.info.base_url else subdir_url
        shards_url = urljoin(index_url, index.info.shards_base_url or "./shards/")
        if not files_url.endswith("/"):
            files_url += "/"
        if not shards_url.endswith("/"):
            shards_url += "/"
        return cls(channel, subdir, index_url, files_url, shards_url, index.shards)

    def shard_url(self, name: str) -> str:
        return f"{self.shards_url}{self.hashes[name].hex()}.msgpack.zst"

    def records(self, shard: ShardFile) -> list[RepoDataRecord]:
        return finish_records(
            shard.packages_conda,
            shard.packages,
            channel=self.channel,
            subdir=self.subdir,
            files_url=self.files_url,
            binary_hashes=True,
        )


def shard_path(cache: Path, digest: bytes) -> Path:
    return cache / f"{digest.hex()}.msgpack.zst"


# Shard files are read and written by the hundred per run: plain string paths and os calls
# here, not pathlib (its object churn was a measurable part of a cold closure).


def read_cached_shard(cache: Path, digest: bytes) -> bytes | None:
    """The cached shard with this hash, or None (a damaged copy is deleted)."""
    path = f"{os.fspath(cache)}/{digest.hex()}.msgpack.zst"
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if hashlib.sha256(data).digest() != digest:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return None
    return data


def store_shard(cache: Path, digest: bytes, data: bytes) -> None:
    """Store a checked shard atomically (a reader never sees half of it); failures are
    ignored: the cache is an optimisation."""
    directory = os.fspath(cache)
    name = f"{digest.hex()}.msgpack.zst"
    tmp = f"{directory}/{tmp_name(name)}"
    try:
        try:
            _write(tmp, data)
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
            _write(tmp, data)
        os.replace(tmp, f"{directory}/{name}")
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
