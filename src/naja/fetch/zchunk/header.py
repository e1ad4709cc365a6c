"""The zchunk header: lead, preface, index — enough to know every chunk's place and digest.

Layout (zchunk_format.txt): `\\0ZCK1`, checksum type (ci), header length (ci), header digest;
then the data digest, flags (ci), compression type (ci), optional elements (when flag 2),
index length (ci), the index — chunk digest type (ci), chunk count (ci), then per chunk its
digest, [its uncompressed digest when flag 4], compressed and uncompressed lengths (ci) — and
the signature count (ci). The first index entry is the dictionary (all zeros when absent).
A "ci" is a little-endian base-128 integer whose *last* byte has the top bit set.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"\0ZCK1"
FLAG_STREAMS = 1
FLAG_OPTIONAL = 2
FLAG_UNCOMPRESSED = 4
KNOWN_FLAGS = FLAG_OPTIONAL | FLAG_UNCOMPRESSED

# type number -> (name, digest size)
HASH_TYPES = {0: ("sha1", 20), 1: ("sha256", 32), 2: ("sha512", 64), 3: ("sha512_128", 16)}
# Enough bytes to hold any lead: magic, two 10-byte ints and a SHA-512 digest.
MAX_LEAD = 5 + 10 + 10 + 64


class HeaderError(ValueError):
    """Bytes that are not a zchunk header this reader understands."""


def new_hash(kind: int) -> hashlib._Hash:
    name = HASH_TYPES[kind][0]
    return hashlib.sha512() if name == "sha512_128" else hashlib.new(name)


def digest(kind: int, data: bytes | memoryview) -> bytes:
    h = new_hash(kind)
    h.update(data)
    return h.digest()[: HASH_TYPES[kind][1]]


def read_ci(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode one compressed integer at `pos`: (value, position after it)."""
    value = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise HeaderError("compressed integer runs past the end of the header")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise HeaderError("compressed integer too long")


@dataclass(frozen=True)
class Chunk:
    digest: bytes
    offset: int  # absolute position in the file
    length: int  # compressed bytes
    size: int  # uncompressed bytes


@dataclass(frozen=True)
class Header:
    hash_type: int
    header_digest: bytes
    data_digest: bytes
    flags: int
    compression: int
    chunk_hash_type: int
    # Index entry 0 (the dictionary) first, then the data chunks, in file order.
    chunks: tuple[Chunk, ...]
    size: int  # lead + header: where the data starts
    raw: bytes  # the header bytes exactly as in the file
    digest_at: int  # where the header digest sits in `raw`

    @property
    def data_size(self) -> int:
        return sum(c.length for c in self.chunks)

    @property
    def file_size(self) -> int:
        return self.size + self.data_size

    def verify(self) -> None:
        """Check the header digest (lead up to the digest, then everything after the lead)."""
        kind = self.hash_type
        h = new_hash(kind)
        h.update(self.raw[: self.digest_at])
        lead_end = self.digest_at + HASH_TYPES[kind][1]
        h.update(self.raw[lead_end:])
        if h.digest()[: HASH_TYPES[kind][1]] != self.header_digest:
            raise HeaderError("header checksum does not match")


def lead_size(buf: bytes) -> tuple[int, int]:
    """From the first bytes of a file: (lead length, total header length)."""
    if buf[:5] != MAGIC:
        raise HeaderError("not a zchunk file (no \\0ZCK1 magic)")
    kind, pos = read_ci(buf, 5)
    if kind not in HASH_TYPES:
        raise HeaderError(f"unknown checksum type {kind}")
    length, pos = read_ci(buf, pos)
    lead = pos + HASH_TYPES[kind][1]
    return lead, lead + length


def parse_header(buf: bytes) -> Header:
    """Parse a complete header (`buf` may continue into the data)."""
    lead, total = lead_size(buf)
    if len(buf) < total:
        raise HeaderError(f"header needs {total} bytes, got {len(buf)}")
    raw = bytes(buf[:total])
    kind, pos = read_ci(raw, 5)
    _length, digest_at = read_ci(raw, pos)
    dsize = HASH_TYPES[kind][1]
    header_digest = raw[digest_at : digest_at + dsize]
    pos = lead
    data_digest = raw[pos : pos + dsize]
    pos += dsize
    flags, pos = read_ci(raw, pos)
    if flags & FLAG_STREAMS or flags & ~(KNOWN_FLAGS | FLAG_STREAMS):
        raise HeaderError(f"unsupported zchunk flags {flags:#x}")
    compression, pos = read_ci(raw, pos)
    if flags & FLAG_OPTIONAL:
        count, pos = read_ci(raw, pos)
        for _ in range(count):
            _elem_id, pos = read_ci(raw, pos)
            elem_size, pos = read_ci(raw, pos)
            pos += elem_size
    index_size, pos = read_ci(raw, pos)
    index_end = pos + index_size
    if index_end > total:
        raise HeaderError("index runs past the end of the header")
    chunk_kind, pos = read_ci(raw, pos)
    if chunk_kind not in HASH_TYPES:
        raise HeaderError(f"unknown chunk checksum type {chunk_kind}")
    csize = HASH_TYPES[chunk_kind][1]
    count, pos = read_ci(raw, pos)
    chunks: list[Chunk] = []
    offset = total
    while pos < index_end:
        chunk_digest = raw[pos : pos + csize]
        pos += csize
        if flags & FLAG_UNCOMPRESSED:
            pos += csize
        length, pos = read_ci(raw, pos)
        size, pos = read_ci(raw, pos)
        chunks.append(Chunk(chunk_digest, offset, length, size))
        offset += length
    if len(chunks) != count:
        raise HeaderError(f"index lists {len(chunks)} chunks, header says {count}")
    return Header(
        hash_type=kind,
        header_digest=header_digest,
        data_digest=data_digest,
        flags=flags,
        compression=compression,
        chunk_hash_type=chunk_kind,
        chunks=tuple(chunks),
        size=total,
        raw=raw,
        digest_at=digest_at,
    )


def read_header(path: Path) -> Header:
    with open(path, "rb") as fh:
        start = fh.read(MAX_LEAD)
        _lead, total = lead_size(start)
        rest = fh.read(max(0, total - len(start)))
    return parse_header(start + rest)
