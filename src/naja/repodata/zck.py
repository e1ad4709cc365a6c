"""Reading a whole zchunk file (`repodata.json.zck`) back into the bytes it compresses.

The download engine fetches and delta-updates `.zck` files; this turns the stored file into
JSON: checks the header and data digests, then decompresses each chunk (zstd, with the file's
dictionary when it has one).
"""

from __future__ import annotations

import hmac

import zstandard

from naja.fetch.zchunk.header import HeaderError, new_hash, parse_header

_COMPRESS_NONE = 0
_COMPRESS_ZSTD = 2


class ZchunkDecodeError(ValueError):
    pass


def decode_zchunk(data: bytes) -> bytes:
    try:
        header = parse_header(data)
        header.verify()
    except HeaderError as exc:
        raise ZchunkDecodeError(str(exc)) from None
    if len(data) != header.file_size:
        raise ZchunkDecodeError(f"expected {header.file_size} bytes, got {len(data)}")
    body = memoryview(data)[header.size :]
    if any(header.data_digest):
        h = new_hash(header.hash_type)
        h.update(body)
        if not hmac.compare_digest(h.digest()[: len(header.data_digest)], header.data_digest):
            raise ZchunkDecodeError("data checksum does not match")
    if header.compression not in (_COMPRESS_NONE, _COMPRESS_ZSTD):
        raise ZchunkDecodeError(f"unsupported zchunk compression {header.compression}")
    chunks = header.chunks
    if not chunks:
        return b""

    def piece(i: int) -> bytes:
        c = chunks[i]
        return bytes(data[c.offset : c.offset + c.length])

    out: list[bytes] = []
    try:
        if header.compression == _COMPRESS_NONE:
            return b"".join(piece(i) for i in range(1, len(chunks)))
        dict_raw = piece(0)
        dictionary = zstandard.ZstdDecompressor().decompress(dict_raw) if dict_raw else b""
        dctx = (
            zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(dictionary))
            if dictionary
            else zstandard.ZstdDecompressor()
        )
        for i in range(1, len(chunks)):
            raw = piece(i)
            if raw:
                out.append(dctx.decompressobj().decompress(raw))
    except zstandard.ZstdError as exc:
        raise ZchunkDecodeError(f"chunk does not decompress: {exc}") from None
    return b"".join(out)
