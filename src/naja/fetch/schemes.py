"""URL schemes that are not HTTP (`oci://`, `s3://`): each names the HTTP request to send.

A channel or package URL like `oci://ghcr.io/org/channel/noarch/x-1-0.conda` or
`s3://bucket/channel/noarch/repodata.json` is what records and caches keep; just before a
request, the scheme's resolver turns it into an http(s) URL and headers (a registry blob URL
with its bearer token, a presigned S3 URL). The engine then transfers, verifies and resumes
as for any URL. An `Authorization` header a resolver sets replaces the credential lookup.

Resolvers are imported on first use, so plain-HTTP work never loads them.
"""

from __future__ import annotations

import importlib
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader

# scheme -> "module:function" of a `Resolver`.
RESOLVERS: dict[str, str] = {
    "oci": "naja.oci.resolve:resolve",
    "s3": "naja.s3.resolve:resolve",
}

# urljoin leaves URLs of schemes it does not know alone; shard indexes and repodata's base_url
# are joined against these channel URLs.
for _scheme in RESOLVERS:
    for _table in (urllib.parse.uses_relative, urllib.parse.uses_netloc):
        if _scheme not in _table:
            _table.append(_scheme)


@dataclass(frozen=True)
class Resolved:
    """The HTTP request for a URL; `cache_control` (when set) replaces the server's."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    cache_control: str | None = None


class SchemeNotFound(Exception):
    """What the URL names does not exist (callers treat it as HTTP 404)."""


class Resolver(Protocol):
    def __call__(self, dl: Downloader, url: str, *, sha256: str | None = None) -> Resolved: ...


def is_resolved_scheme(url: str) -> bool:
    return url.partition("://")[0].lower() in RESOLVERS


def resolve(dl: Downloader, url: str, *, sha256: str | None = None) -> Resolved | None:
    """The HTTP request for `url`, or None for URLs the engine sends as they are."""
    target = RESOLVERS.get(url.partition("://")[0].lower()) if "://" in url else None
    if target is None:
        return None
    module, _, attr = target.partition(":")
    func: Resolver = getattr(importlib.import_module(module), attr)
    return func(dl, url, sha256=sha256)
