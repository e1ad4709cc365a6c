"""`naja index DIR`: index every subdir of a local channel directory, incrementally.

A per-subdir cache (`<subdir>/.cache/naja-index.json`) remembers each package's record with
the file's size and mtime, so re-indexing reads only new or changed archives. A package that
fails validation is reported and left out; the rest of the channel is still indexed.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from naja.index.errors import InvalidPackageError
from naja.index.files import write_atomic, write_subdir_index
from naja.index.package_meta import PackageMeta, inspect_package, is_package_filename
from naja.index.writer import build_subdir_index
from naja.specs.platform import Platform

CACHE_DIR = ".cache"
CACHE_FILE = "naja-index.json"
_KNOWN_SUBDIRS = {p.value for p in Platform} | {"noarch"}


class _Entry(msgspec.Struct):
    size: int
    mtime_ns: int
    record: dict[str, Any]


class _Cache(msgspec.Struct):
    version: int = 1
    entries: dict[str, _Entry] = {}


@dataclass
class SubdirResult:
    subdir: str
    packages: int = 0
    read: int = 0
    reused: int = 0
    errors: list[InvalidPackageError] = field(default_factory=list)


def channel_subdirs(root: Path) -> list[str]:
    """Child folders holding packages or named like a platform, and always `noarch`."""
    found = {"noarch"}
    for child in root.iterdir():
        if not child.is_dir() or child.name.startswith("."):
            continue
        if child.name in _KNOWN_SUBDIRS or any(
            is_package_filename(p.name) for p in child.iterdir()
        ):
            found.add(child.name)
    return sorted(found)


def _load_cache(path: Path) -> _Cache:
    try:
        return msgspec.json.decode(path.read_bytes(), type=_Cache)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return _Cache()


def index_subdir(directory: Path, *, full: bool = False) -> SubdirResult:
    """Index one subdir folder (created if missing) and write its files atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    result = SubdirResult(directory.name)
    cache_path = directory / CACHE_DIR / CACHE_FILE
    cache = _load_cache(cache_path)
    entries: dict[str, _Entry] = {}
    with os.scandir(directory) as it:
        files = sorted((e.name, e.stat()) for e in it if e.is_file() and is_package_filename(e.name))
    todo = []
    for fn, st in files:
        old = cache.entries.get(fn)
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            entries[fn] = old
            result.reused += 1
        else:
            todo.append((fn, st))

    def read(fn: str) -> PackageMeta | InvalidPackageError:
        try:
            return inspect_package(directory / fn, full=full)
        except InvalidPackageError as exc:
            return exc

    # Hashing and decompression release the GIL: archives are read in parallel.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 1)) as pool:
        metas = list(pool.map(read, [fn for fn, _ in todo]))
    for (fn, st), meta in zip(todo, metas, strict=True):
        if isinstance(meta, InvalidPackageError):
            result.errors.append(meta)
            continue
        record = meta.record()
        if record.get("subdir") not in (None, directory.name):
            result.errors.append(
                InvalidPackageError(
                    fn, f"info/index.json says subdir {record['subdir']!r}, not {directory.name!r}"
                )
            )
            continue
        record.setdefault("subdir", directory.name)
        entries[fn] = _Entry(st.st_size, st.st_mtime_ns, record)
        result.read += 1
    result.packages = len(entries)
    index = build_subdir_index(directory.name, {fn: e.record for fn, e in entries.items()})
    write_subdir_index(directory, index)
    cache_path.parent.mkdir(exist_ok=True)
    write_atomic(cache_path, msgspec.json.encode(_Cache(entries=entries)))
    return result


def index_channel(
    root: str | os.PathLike[str], *, subdirs: list[str] | None = None, full: bool = False
) -> list[SubdirResult]:
    """Index the channel at `root`; `subdirs` limits the work to those folders."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(2, "channel directory not found", str(root))
    names = subdirs or channel_subdirs(root)
    return [index_subdir(root / name, full=full) for name in names]
