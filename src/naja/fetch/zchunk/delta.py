"""Update an older local `.zck` to the server's version, fetching only the chunks it lacks.

1. Fetch the remote header with a ranged GET and verify its checksum.
2. Match remote chunk digests against the local copy's index.
3. Write `<target>.part`: the remote header, then every chunk in order — copied from the local
   file when present there, else taken from multi-range GETs of the missing spans (adjacent
   missing chunks merged into one range, at most MAX_RANGES ranges per request).
4. Verify every chunk digest, the data digest and any sha256/size the request promised, then
   rename onto the target.

Anything unexpected (a server without range support, a header that does not parse, a chunk
that does not verify) abandons the delta and lets the caller fall back to a full download.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from naja.fetch.credentials import apply_credential
from naja.fetch.digest import Digests
from naja.fetch.http11 import ProtocolError
from naja.fetch.zchunk.header import (
    Chunk,
    Header,
    HeaderError,
    lead_size,
    new_hash,
    parse_header,
    read_header,
)
from naja.fetch.zchunk.multipart import BodyReader, boundary_of, iter_parts, parse_content_range

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader
    from naja.fetch.request import DownloadRequest, DownloadResult
    from naja.fetch.transfer import Job

# Ranges per request: keeps the Range header well under servers' 8 KiB header limits.
MAX_RANGES = 128
# First request for the header: most zchunk headers fit, a larger one costs a second request.
HEADER_PROBE = 64 * 1024


class _Abandon(Exception):
    """The delta cannot be done; fall back to a plain download."""


@dataclass
class _Segment:
    local: bool
    start: int  # offset in the local file (local) or the remote file (remote)
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def length(self) -> int:
        return sum(c.length for c in self.chunks)


def plan(remote: Header, base: Header) -> list[_Segment]:
    """Segments in remote order: runs of chunks to copy locally or to fetch."""
    have = {c.digest: c for c in base.chunks if c.length}
    segments: list[_Segment] = []
    for chunk in remote.chunks:
        if not chunk.length:
            continue
        local = have.get(chunk.digest)
        last = segments[-1] if segments else None
        if local is not None:
            if last and last.local and last.start + last.length == local.offset:
                last.chunks.append(chunk)
            else:
                segments.append(_Segment(True, local.offset, [chunk]))
        elif last and not last.local and last.start + last.length == chunk.offset:
            last.chunks.append(chunk)
        else:
            segments.append(_Segment(False, chunk.offset, [chunk]))
    return segments


class _Writer:
    """Appends to the .part file, hashing the whole file and verifying chunk by chunk."""

    def __init__(self, fd: int, digests: Digests, chunk_kind: int, job: Job) -> None:
        self.fd = fd
        self.digests = digests
        self.chunk_kind = chunk_kind
        self.job = job
        self.data_hash: hashlib._Hash | None = None
        self.chunks: list[Chunk] = []
        self.left = 0
        self.hash = new_hash(chunk_kind)

    def expect(self, chunks: list[Chunk]) -> None:
        self.chunks = list(chunks)
        self._next()

    def _next(self) -> None:
        self.left = self.chunks[0].length if self.chunks else 0
        self.hash = new_hash(self.chunk_kind)

    def raw(self, data: memoryview | bytes) -> None:
        self.digests.update(data)
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.job.progress.advance(self.job, len(data))

    def __call__(self, data: memoryview) -> None:
        if self.data_hash is not None:
            self.data_hash.update(data)
        self.raw(data)
        while data:
            if not self.chunks:
                raise _Abandon("more bytes than chunks")
            take = min(self.left, len(data))
            self.hash.update(data[:take])
            self.left -= take
            data = data[take:]
            if self.left == 0:
                chunk = self.chunks.pop(0)
                size = len(chunk.digest)
                if self.hash.digest()[:size] != chunk.digest:
                    raise _Abandon("a chunk does not match its digest")
                self._next()


def fetch_zchunk(dl: Downloader, req: DownloadRequest, job: Job, result: DownloadResult) -> bool:
    """Try the delta update; True when the verified file is in place."""
    assert req.zchunk_base is not None
    part = req.target.with_name(req.target.name + ".part")
    try:
        base = read_header(req.zchunk_base)
    except (OSError, HeaderError):
        return False
    fd = -1
    try:
        remote = _remote_header(dl, req)
        remote.verify()
        segments = plan(remote, base)
        req.target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        digests = Digests(
            want_md5=req.md5 is not None and req.sha256 is None,
            want_sha256=req.sha256 is not None or dl.config.always_sha256,
        )
        writer = _Writer(fd, digests, remote.chunk_hash_type, job)
        writer.raw(remote.raw)
        writer.data_hash = new_hash(remote.hash_type)
        reused = _assemble(dl, req, job, writer, segments)
        os.close(fd)
        fd = -1
        data_digest = writer.data_hash.digest()[: len(remote.data_digest)]
        if any(remote.data_digest) and data_digest != remote.data_digest:
            raise _Abandon("data checksum does not match")
        if req.size is not None and digests.size != req.size:
            raise _Abandon("size differs from the index")
        if req.sha256 is not None and (digests.sha256_hex() or "") != req.sha256.lower():
            raise _Abandon("sha256 differs from the index")
        if req.md5 is not None and req.sha256 is None and digests.md5_hex() != req.md5.lower():
            raise _Abandon("md5 differs from the index")
        os.replace(part, req.target)
    except (_Abandon, HeaderError, ProtocolError, OSError) as exc:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        job.progress.rewind(job, 1 << 62, f"zchunk delta abandoned: {exc}")
        return False
    from naja.specs.url import redact_url

    result.size = digests.size
    result.sha256 = digests.sha256_hex()
    result.md5 = digests.md5_hex()
    result.reused_bytes = reused
    result.source_url = redact_url(req.url)
    result.attempts = 1
    return True


def _get(dl: Downloader, req: DownloadRequest, ranges: list[tuple[int, int]]):
    spec = ",".join(f"{a}-{b}" for a, b in ranges)
    headers = {
        "User-Agent": dl.config.user_agent,
        "Accept-Encoding": "identity",
        **req.headers,
        "Range": f"bytes={spec}",
    }
    url, headers = apply_credential(req.url, headers, dl.credential_for(req.url))
    response = dl.send(url, headers)
    if response.status != 206:
        response.close()
        raise _Abandon(f"the server answered {response.status} to a range request")
    return response


def _remote_header(dl: Downloader, req: DownloadRequest) -> Header:
    with dl.host_slot(req.url):
        response = _get(dl, req, [(0, HEADER_PROBE - 1)])
        try:
            data = response.read(limit=HEADER_PROBE)
        finally:
            response.close()
        _lead, total = lead_size(data)
        if total > len(data):
            response = _get(dl, req, [(len(data), total - 1)])
            try:
                data += response.read(limit=total)
            finally:
                response.close()
    return parse_header(data)


def _assemble(
    dl: Downloader, req: DownloadRequest, job: Job, writer: _Writer, segments: list[_Segment]
) -> int:
    """Write every segment in order; returns the bytes reused from the local copy."""
    reused = 0
    view = job.buffer()
    i = 0
    assert req.zchunk_base is not None
    with open(req.zchunk_base, "rb", buffering=0) as local:
        while i < len(segments):
            # The next batch: local segments up to and including MAX_RANGES remote ones.
            batch: list[_Segment] = []
            remote_count = 0
            while i < len(segments) and (remote_count < MAX_RANGES or segments[i].local):
                batch.append(segments[i])
                remote_count += not segments[i].local
                i += 1
            with contextlib.ExitStack() as stack:
                parts, reader = _request_batch(dl, req, [s for s in batch if not s.local], stack)
                for seg in batch:
                    writer.expect(seg.chunks)
                    if seg.local:
                        reused += _copy_local(local, seg, view, writer)
                        continue
                    assert parts is not None and reader is not None
                    first, last = next(parts, (-1, -1))
                    if first != seg.start or last != seg.start + seg.length - 1:
                        raise _Abandon("the server answered other ranges than asked")
                    reader.stream(seg.length, writer)
                if parts is not None:
                    # Read up to the closing boundary so the connection can be reused.
                    for _ in parts:
                        raise _Abandon("the server sent more ranges than asked")
    return reused


def _copy_local(local: BinaryIO, seg: _Segment, view: memoryview, writer: _Writer) -> int:
    local.seek(seg.start)
    left = seg.length
    while left:
        n = local.readinto(view[: min(left, len(view))])
        if not n:
            raise _Abandon("the local copy is shorter than its index")
        writer(view[:n])
        left -= n
    return seg.length


def _request_batch(
    dl: Downloader, req: DownloadRequest, remote: list[_Segment], stack: contextlib.ExitStack
) -> tuple[Iterator[tuple[int, int]] | None, BodyReader | None]:
    if not remote:
        return None, None
    stack.enter_context(dl.host_slot(req.url))
    response = _get(dl, req, [(s.start, s.start + s.length - 1) for s in remote])
    stack.callback(response.close)
    reader = BodyReader(response, memoryview(bytearray(256 * 1024)))
    boundary = boundary_of(response.headers.get("content-type"))
    if boundary is None:
        # One range: the body is the range itself.
        return iter([parse_content_range(response.headers.get("content-range"))]), reader
    return iter_parts(reader, boundary), reader
