"""A full repodata.json read lazily: records stay raw JSON until their package name is asked.

Used when the caller named its specs, so only the names the solve visits are decoded (a
conda-forge-sized index has 300k records; a typical solve needs a few thousand). Scanning the
file once costs a fraction of decoding every record.

The scan is saved as `parsed-lazy.msgpack`: each name's raw entries in one blob, keyed like
the parsed cache, so a later run opens the index without decompressing or scanning it again
and decodes only the entries of the names it asks for.
"""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path
from urllib.parse import urljoin

import msgspec

from naja.repodata.state import atomic_file
from naja.specs.records import RepoDataRecord
from naja.specs.repodata import finish_records, group_file_names


class _Info(msgspec.Struct, gc=False):
    subdir: str | None = None
    base_url: str | None = None


class _Raw(msgspec.Struct, gc=False):
    info: _Info | None = None
    packages: dict[str, msgspec.Raw] = {}
    packages_conda: dict[str, msgspec.Raw] = msgspec.field(default={}, name="packages.conda")
    repodata_version: int | None = None


_RAW = msgspec.json.Decoder(_Raw)
_RECORD = msgspec.json.Decoder(RepoDataRecord)

LAZY_FILE = "parsed-lazy.msgpack"
_LAZY_VERSION = 1


class _Group(msgspec.Struct, array_like=True, gc=False):
    conda: dict[str, bytes]
    legacy: dict[str, bytes]


class _LazyFile(msgspec.Struct, array_like=True):
    version: int
    key: str
    files_url: str
    names: dict[str, msgspec.Raw]


_GROUP = msgspec.msgpack.Decoder(_Group)
_LAZY = msgspec.msgpack.Decoder(_LazyFile)
_ENC = msgspec.msgpack.Encoder()


class LazyJsonIndex:
    """The raw entries of one repodata.json, grouped by package name (see module doc)."""

    def __init__(self, channel: str, subdir: str, files_url: str) -> None:
        self.channel = channel
        self.subdir = subdir
        self.files_url = files_url
        self._conda: dict[str, msgspec.Raw] = {}
        self._legacy: dict[str, msgspec.Raw] = {}
        self.groups: dict[str, tuple[list[str], list[str]]] = {}
        self._saved: dict[str, msgspec.Raw] | None = None

    @classmethod
    def scan(cls, data: bytes, *, channel: str, subdir: str, files_url: str) -> LazyJsonIndex:
        """Split a repodata.json into raw entries (raises msgspec errors on bad JSON)."""
        raw = _RAW.decode(data)
        if raw.info is not None and raw.info.base_url and (raw.repodata_version or 0) >= 2:
            # CEP-15: base_url may be absolute or relative to the index's own location.
            files_url = urljoin(files_url, raw.info.base_url)
        files_url = files_url if files_url.endswith("/") else files_url + "/"
        self = cls(channel, subdir, files_url)
        self._conda = raw.packages_conda
        self._legacy = raw.packages
        self.groups = group_file_names(self._conda, self._legacy)
        return self

    @classmethod
    def open(cls, directory: Path, key: str, *, channel: str, subdir: str) -> LazyJsonIndex | None:
        """The saved scan for `key`, or None (missing, stale or damaged)."""
        try:
            saved = _LAZY.decode((directory / LAZY_FILE).read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
        if saved.version != _LAZY_VERSION or saved.key != key:
            return None
        self = cls(channel, subdir, saved.files_url)
        self._saved = saved.names
        return self

    def save(self, directory: Path, key: str) -> None:
        """Write the scan as a `_LazyFile`, streamed name by name (the whole file would be
        as big as the JSON, and held in memory twice)."""
        conda, legacy = self._conda, self._legacy
        encode = _ENC.encode
        with contextlib.suppress(OSError), atomic_file(directory, LAZY_FILE) as fh:
            # msgpack: a 4-element array, its last element a map32 of name -> group.
            fh.write(b"\x94")
            fh.write(encode(_LAZY_VERSION) + encode(key) + encode(self.files_url))
            fh.write(b"\xdf" + struct.pack(">I", len(self.groups)))
            for name, (c, lg) in self.groups.items():
                group = _Group(
                    {fn: memoryview(conda[fn]) for fn in c},  # type: ignore[misc]
                    {fn: memoryview(legacy[fn]) for fn in lg},  # type: ignore[misc]
                )
                fh.write(encode(name) + encode(group))

    def names(self) -> list[str]:
        return list(self._saved if self._saved is not None else self.groups)

    def records(self, name: str) -> list[RepoDataRecord]:
        decode = _RECORD.decode
        if self._saved is not None:
            blob = self._saved.get(name)
            if blob is None:
                return []
            group = _GROUP.decode(blob)
            conda = {fn: decode(data) for fn, data in group.conda.items()}
            legacy = {fn: decode(data) for fn, data in group.legacy.items()}
        else:
            names = self.groups.get(name)
            if names is None:
                return []
            conda = {fn: decode(self._conda[fn]) for fn in names[0]}
            legacy = {fn: decode(self._legacy[fn]) for fn in names[1]}
        return finish_records(
            conda, legacy, channel=self.channel, subdir=self.subdir, files_url=self.files_url
        )
