"""The parsed cache: an index's records as msgpack, grouped by package name.

Written once per downloaded index (keyed by the index file's sha256, the channel and the URL
packages live under), so an unchanged channel is never JSON-parsed again. Reading it only
splits the file into one raw msgpack blob per package name; a name's records are decoded when
first asked for, so opening conda-forge's index costs a few milliseconds and a solve decodes
only the names it visits.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Mapping
from pathlib import Path

import msgspec

from naja.repodata.state import atomic_file
from naja.specs.records import RepoDataRecord

PARSED_FILE = "parsed.msgpack"
# Bump when the stored layout or RepoDataRecord's fields change.
PARSED_VERSION = 1


class _Parsed(msgspec.Struct, array_like=True):
    version: int
    key: str
    names: dict[str, msgspec.Raw]


_DECODER = msgspec.msgpack.Decoder(_Parsed)
_ENCODER = msgspec.msgpack.Encoder()


def parsed_key(digest: str, channel: str, files_url: str) -> str:
    return f"{PARSED_VERSION}|{digest}|{channel}|{files_url}"


def write_parsed(directory: Path, key: str, groups: Mapping[str, list[RepoDataRecord]]) -> None:
    """Store `groups` (name -> finished records) under `key`, atomically.

    Written name by name as the msgpack of a `_Parsed` (a 3-element array whose last element
    is a map32), so the whole file is never held in memory next to the records.
    """
    encode = _ENCODER.encode
    # A read-only or full cache only costs the next run a parse.
    with contextlib.suppress(OSError), atomic_file(directory, PARSED_FILE) as fh:
        fh.write(b"\x93" + encode(PARSED_VERSION) + encode(key))
        fh.write(b"\xdf" + struct.pack(">I", len(groups)))
        for name, recs in groups.items():
            fh.write(encode(name) + encode(recs))


def read_parsed(directory: Path, key: str) -> dict[str, msgspec.Raw] | None:
    """name -> raw records, or None when the file is missing, stale or damaged."""
    try:
        data = (directory / PARSED_FILE).read_bytes()
    except OSError:
        return None
    try:
        parsed = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if parsed.version != PARSED_VERSION or parsed.key != key:
        return None
    return parsed.names


def decode_group(raw: msgspec.Raw) -> list[RepoDataRecord]:
    return _RECORDS.decode(raw)


_RECORDS = msgspec.msgpack.Decoder(list[RepoDataRecord])
