"""Multipart uploads: big files go up in parts, each retried on its own.

`POST ?uploads` opens an upload, `PUT ?partNumber=N&uploadId=...` sends each part (signed
with its sha256, so the store checks every part it receives), `POST ?uploadId=...` with the
parts' ETags joins them into the object — atomically, and under the caller's conditions
(`If-None-Match: *`). A part that fails (connection cut, 5xx) is sent again, up to `ATTEMPTS`
times; an upload that cannot finish is aborted so that no orphaned parts are billed.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.sax.saxutils import escape

from naja.s3.errors import S3AuthError, S3Error
from naja.s3.settings import S3Location

if TYPE_CHECKING:
    from naja.s3.client import S3Client

# Files from this size up are sent in parts (S3 allows parts of 5 MiB to 5 GiB, 10,000 parts).
MULTIPART_MIN = 64 << 20
PART_SIZE = 16 << 20
ATTEMPTS = 4
_UPLOAD_ID_RE = re.compile(rb"<UploadId>([^<]+)</UploadId>")


def put_multipart(
    client: S3Client, location: S3Location, path: Path, headers: dict[str, str]
) -> str:
    """Upload `path` to `location` in parts; `headers` (type, conditions) apply to the whole
    object. Returns the object's ETag."""
    size = path.stat().st_size
    part_size = max(PART_SIZE, -(-size // 10_000))
    opened = client.call(
        "POST",
        location,
        "uploads=",
        headers={"Content-Type": headers.get("Content-Type", "application/octet-stream")},
        doing="start a multipart upload of",
    )
    m = _UPLOAD_ID_RE.search(opened.content)
    if m is None:
        raise S3Error(f"{location.url}: the store started a multipart upload without an id")
    upload_id = m.group(1).decode()
    query_id = f"uploadId={quote(upload_id, safe='')}"
    try:
        etags = []
        with open(path, "rb") as fh:
            for number in range(1, -(-size // part_size) + 1):
                fh.seek((number - 1) * part_size)
                etags.append(_put_part(client, location, query_id, number, fh.read(part_size)))
        body = "<CompleteMultipartUpload>{}</CompleteMultipartUpload>".format(
            "".join(
                f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(e)}</ETag></Part>"
                for n, e in enumerate(etags, 1)
            )
        ).encode()
        conditions = {k: v for k, v in headers.items() if k.startswith("If-")}
        done = client.call(
            "POST",
            location,
            query_id,
            headers={"Content-Type": "application/xml", **conditions},
            content=body,
            doing="complete the upload of",
        )
        # S3 may answer 200 and still report a failure in the body.
        if b"<Error>" in done.content:
            raise S3Error(f"the store could not assemble {location.url} from its parts")
        return done.headers.get("etag") or ""
    except BaseException:
        with contextlib.suppress(S3Error):
            client.call("DELETE", location, query_id, ok=(200, 204), doing="abort the upload of")
        raise


def _put_part(
    client: S3Client, location: S3Location, query_id: str, number: int, data: bytes
) -> str:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = client.call(
                "PUT",
                location,
                f"partNumber={number}&{query_id}",
                content=data,
                doing=f"upload part {number} of",
            )
            return response.headers.get("etag") or ""
        except S3AuthError:
            raise
        except S3Error:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")
