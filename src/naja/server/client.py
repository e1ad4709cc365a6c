"""A small client of the server's upload API (used by `naja upload --to http(s)://…`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from naja.errors import NajaError, UserInputError


class UploadError(NajaError):
    pass


@dataclass(frozen=True)
class ChannelURL:
    """`http://host:port[/prefix]/get/CHANNEL` split into the API base and the channel name."""

    base: str
    channel: str
    token: str | None = None

    @classmethod
    def parse(cls, url: str) -> ChannelURL:
        parts = urlsplit(url)
        m = re.fullmatch(r"(?P<prefix>.*?)(?:/t/(?P<token>[^/]+))?/get/(?P<channel>[^/]+)/?", parts.path)
        if parts.scheme not in ("http", "https") or not parts.netloc or m is None:
            raise UserInputError(
                f"{url!r} is not a naja server channel URL",
                hint="use http(s)://HOST:PORT/get/CHANNEL",
            )
        base = urlunsplit((parts.scheme, parts.netloc, m["prefix"], "", ""))
        return cls(base, m["channel"], m["token"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _detail(resp: httpx.Response) -> str:
    try:
        detail = resp.json().get("detail")
    except ValueError:
        detail = None
    return str(detail or resp.text[:300] or resp.reason_phrase)


def upload_http(
    url: str, packages: list[Path], *, token: str | None, force: bool = False, timeout: float = 300
) -> list[dict]:
    target = ChannelURL.parse(url)
    token = token or target.token
    headers = {"X-API-Key": token} if token else {}
    out = []
    with httpx.Client(base_url=target.base, headers=headers, timeout=timeout) as client:
        for path in packages:
            with open(path, "rb") as f:
                try:
                    resp = client.post(
                        f"/api/channels/{target.channel}/files/",
                        params={"force": "true"} if force else None,
                        files=[("files", (path.name, f, "application/octet-stream"))],
                    )
                except httpx.HTTPError as exc:
                    raise UploadError(f"uploading {path.name} to {target.base} failed: {exc}") from None
            if resp.status_code == 401:
                raise UploadError(
                    f"{target.base} refused the upload of {path.name}: {_detail(resp)}",
                    hint="pass --token or set NAJA_TOKEN",
                )
            if resp.status_code == 409:
                raise UploadError(
                    f"{path.name} is already in {target.channel}", hint="pass --force to replace it"
                )
            if resp.status_code >= 400:
                raise UploadError(f"{target.base} refused {path.name} ({resp.status_code}): {_detail(resp)}")
            stored = resp.json()[0]
            if stored.get("sha256") != _sha256(path):
                raise UploadError(f"the server stored {path.name} with a different sha256")
            out.append(stored)
    return out
