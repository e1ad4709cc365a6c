"""Resumable blob uploads: big files go up in chunks, and a lost chunk is asked about, not
resent blindly.

The distribution API's chunked upload: `POST .../blobs/uploads/` opens a session, each
`PATCH <location>` with `Content-Range: <start>-<end>` appends a chunk (the answer carries the
next location and `Range: 0-<last byte>`), and `PUT <location>?digest=sha256:...` closes it —
the registry checks the digest of everything it received, so a corrupted upload is refused.
When a PATCH fails (connection cut, 5xx), `GET <location>` tells how much the registry has
and the upload continues from there; a registry that no longer knows the session (the
distribution registry invalidates it when a chunk arrived but its answer was lost) gets a new
session from byte 0. Each chunk has `ATTEMPTS` tries.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from naja.oci.errors import OciError

if TYPE_CHECKING:
    from naja.oci.client import RegistryClient

# Files from this size up are sent in chunks; smaller ones in one PUT.
CHUNKED_MIN = 32 << 20
CHUNK_SIZE = 16 << 20
ATTEMPTS = 4


def _received(range_header: str | None) -> int:
    """Bytes the registry holds, from `Range: 0-<last>`. An empty session says `0-0` too
    (distribution), which this reads as empty: naja never sends a 1-byte chunk."""
    last = (range_header or "").removeprefix("bytes=").partition("-")[2]
    return int(last) + 1 if last.isdigit() and int(last) > 0 else 0


def upload_chunked(
    client: RegistryClient, repository: str, location: str, digest: str, path: Path
) -> None:
    """Send `path` to the open upload session at `location` and close it with `digest`."""
    size = path.stat().st_size
    offset = 0
    failures = 0
    with open(path, "rb") as fh:
        while offset < size:
            fh.seek(offset)
            chunk = fh.read(CHUNK_SIZE)
            try:
                response = client.request(
                    "PATCH",
                    location,
                    repository=repository,
                    actions="pull,push",
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                    },
                    content=chunk,
                )
                ok = response.status_code == 202
            except OciError:
                # Cut before the answer came back: the registry may or may not have it.
                response, ok = None, False
            if ok and response is not None:
                location = urljoin(
                    client.channel.base, response.headers.get("location") or location
                )
                offset = _received(response.headers.get("range")) or offset + len(chunk)
                failures = 0
                continue
            failures += 1
            if failures >= ATTEMPTS:
                status = f"HTTP {response.status_code}" if response is not None else "no answer"
                raise OciError(
                    f"upload of {path.name} to {client.channel.registry}/{repository} failed at "
                    f"byte {offset} of {size} ({status}, {ATTEMPTS} attempts)",
                    hint="check the network and the registry, and run the upload again",
                )
            status_reply = client.request(
                "GET", location, repository=repository, actions="pull,push"
            )
            if status_reply.status_code in (202, 204):
                location = urljoin(
                    client.channel.base, status_reply.headers.get("location") or location
                )
                offset = _received(status_reply.headers.get("range"))
            else:
                location, offset = client.open_upload(repository), 0
    final = location + ("&" if "?" in location else "?") + f"digest={digest}"
    response = client.request(
        "PUT",
        final,
        repository=repository,
        actions="pull,push",
        headers={"Content-Type": "application/octet-stream", "Content-Length": "0"},
        content=b"",
    )
    if response.status_code not in (201, 204):
        raise OciError(
            f"{client.channel.registry}/{repository} refused blob {digest} of {path.name} "
            f"(HTTP {response.status_code}): what arrived does not match its digest",
            hint="run the upload again",
        )
