"""Reading `multipart/byteranges` bodies (RFC 9110 §14.6) part by part, streaming.

Each part's length is known from its Content-Range, so the data is read by count rather than
by scanning for the boundary; only the part headers are parsed line by line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from naja.fetch.http11 import ProtocolError, Response

_BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_RANGE_RE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


def boundary_of(content_type: str | None) -> str | None:
    if not content_type or "multipart/byteranges" not in content_type.lower():
        return None
    m = _BOUNDARY_RE.search(content_type)
    return (m.group(1) or m.group(2)) if m else None


def parse_content_range(value: str | None) -> tuple[int, int]:
    """(first, last) byte positions, inclusive."""
    m = _RANGE_RE.match(value or "")
    if not m:
        raise ProtocolError(f"bad Content-Range {value!r}")
    return int(m.group(1)), int(m.group(2))


class BodyReader:
    """Line and counted reads over a response body, with its own small buffer."""

    def __init__(self, response: Response, view: memoryview) -> None:
        self.response = response
        self.view = view
        self.buffer = bytearray()

    def _fill(self) -> bool:
        n = self.response.readinto(self.view)
        if n:
            self.buffer += self.view[:n]
        return bool(n)

    def readline(self) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return line.rstrip(b"\r\n")
            if len(self.buffer) > 16384:
                raise ProtocolError("multipart header line too long")
            if not self._fill():
                raise ProtocolError("multipart body ended inside a header")

    def stream(self, count: int, sink: Callable[[memoryview], None]) -> None:
        """Pass exactly `count` body bytes to `sink`, in pieces."""
        if self.buffer:
            take = min(count, len(self.buffer))
            sink(memoryview(bytes(self.buffer[:take])))
            del self.buffer[:take]
            count -= take
        while count > 0:
            n = self.response.readinto(self.view[: min(count, len(self.view))])
            if not n:
                raise ProtocolError("multipart body ended inside a part")
            sink(self.view[:n])
            count -= n


def iter_parts(reader: BodyReader, boundary: str):
    """Yield (first, last) for each part; the caller must `reader.stream` its bytes before
    asking for the next part."""
    delimiter = b"--" + boundary.encode("latin-1")
    while True:
        line = reader.readline()
        if line == delimiter + b"--":
            return
        if line != delimiter:
            # Preamble or the CRLF that ends the previous part.
            continue
        headers: dict[str, str] = {}
        while True:
            line = reader.readline()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        yield parse_content_range(headers.get("content-range"))
