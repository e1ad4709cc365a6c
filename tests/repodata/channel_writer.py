"""Writes one channel's subdirs in every index form a server may offer (tests and bench).

`write_subdir(folder, repodata, forms)` puts `repodata.json` and any of `.zst` (zstd with the
content size in the frame), `.zck` (made by the `zck` tool) and CEP-16 shards
(`repodata_shards.msgpack.zst` + `shards/<sha256>.msgpack.zst`, md5/sha256 as raw bytes)
beside it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec
import zstandard

ALL_FORMS = ("json", "zst", "zck", "shards")


def name_of(fn: str) -> str:
    return fn.rsplit("-", 2)[0]


def _pack(record: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for key in ("md5", "sha256"):
        if isinstance(out.get(key), str):
            out[key] = bytes.fromhex(out[key])
    return out


def shard_bytes(entries: Mapping[str, Mapping[str, Mapping[str, Any]]], level: int = 3) -> bytes:
    """One shard: `{"packages": ..., "packages.conda": ..., "removed": []}` msgpack + zstd."""
    shard = {
        "packages": {fn: _pack(r) for fn, r in entries.get("packages", {}).items()},
        "packages.conda": {fn: _pack(r) for fn, r in entries.get("packages.conda", {}).items()},
        "removed": [],
    }
    return zstandard.ZstdCompressor(level=level, write_content_size=True).compress(
        msgspec.msgpack.encode(shard)
    )


def write_shards(
    folder: Path,
    repodata: Mapping[str, Any],
    *,
    base_url: str = "./",
    level: int = 3,
    shards_base_url: str = "./shards/",
    shards_dir: Path | None = None,
) -> dict[str, bytes]:
    """The CEP-16 files of one subdir; returns name -> shard sha256. `shards_dir` is where
    the shard files go when `shards_base_url` points somewhere else than `./shards/`."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for key in ("packages", "packages.conda"):
        for fn, rec in (repodata.get(key) or {}).items():
            groups.setdefault(rec.get("name") or name_of(fn), {}).setdefault(key, {})[fn] = rec
    shards_dir = shards_dir or folder / "shards"
    shards_dir.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, bytes] = {}
    for name, entries in groups.items():
        data = shard_bytes(entries, level)
        digest = hashlib.sha256(data).digest()
        (shards_dir / f"{digest.hex()}.msgpack.zst").write_bytes(data)
        hashes[name] = digest
    subdir = (repodata.get("info") or {}).get("subdir") or folder.name
    index = {
        "version": 1,
        "info": {"base_url": base_url, "shards_base_url": shards_base_url, "subdir": subdir},
        "shards": hashes,
    }
    (folder / "repodata_shards.msgpack.zst").write_bytes(
        zstandard.ZstdCompressor(level=level, write_content_size=True).compress(
            msgspec.msgpack.encode(index)
        )
    )
    return hashes


def write_subdir(
    folder: Path, repodata: Mapping[str, Any] | bytes, forms: Iterable[str] = ALL_FORMS
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    raw = repodata if isinstance(repodata, bytes) else json.dumps(repodata).encode()
    forms = set(forms)
    (folder / "repodata.json").write_bytes(raw)
    if "zst" in forms:
        (folder / "repodata.json.zst").write_bytes(
            zstandard.ZstdCompressor(level=3, write_content_size=True).compress(raw)
        )
    if "zck" in forms:
        if shutil.which("zck") is None:
            raise RuntimeError("the zck tool is not installed")
        subprocess.run(
            ["zck", "-o", str(folder / "repodata.json.zck"), str(folder / "repodata.json")],
            check=True,
            capture_output=True,
        )
    if "shards" in forms:
        write_shards(folder, json.loads(raw) if isinstance(repodata, bytes) else repodata)
    if "json" not in forms:
        (folder / "repodata.json").unlink()


def write_channel(
    root: Path, subdirs: Mapping[str, Mapping[str, Any] | bytes], forms: Iterable[str]
) -> Path:
    forms = tuple(forms)
    for subdir, repodata in subdirs.items():
        write_subdir(root / subdir, repodata, forms)
    return root
