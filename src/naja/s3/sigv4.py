"""AWS Signature Version 4 for S3: signed headers, and presigned URLs.

Presigned GETs sign only `host`, so the download engine may add Range, If-Range and
If-None-Match afterwards (resume and conditional requests keep working). Header-signed
requests (uploads, listings) send `x-amz-content-sha256` with the body's hash, or
`UNSIGNED-PAYLOAD` for streamed files (allowed over TLS and by every S3-compatible store).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    # Where they came from ("naja auth s3://bucket", "environment", "profile default"...).
    source: str = ""

    def __repr__(self) -> str:
        return f"AwsCredentials({self.access_key_id[:4]}…, from {self.source}, secret=********)"


def _uri_encode(text: str, *, keep_slash: bool = False) -> str:
    return quote(text, safe="/-_.~" if keep_slash else "-_.~")


def encode_key(key: str) -> str:
    """An object key as it goes into a URL path (and into the signature)."""
    return _uri_encode(key, keep_slash=True)


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((_uri_encode(k), _uri_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _parse_query(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = 443 if parts.scheme == "https" else 80
    return f"{host}:{parts.port}" if parts.port and parts.port != default else host


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signature(
    creds: AwsCredentials,
    region: str,
    stamp: str,
    canonical_request: str,
    service: str = "s3",
) -> tuple[str, str]:
    """(credential scope, hex signature) of a canonical request."""
    date = stamp[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _signing_key(creds.secret_access_key, date, region, service)
    return scope, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _now(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")


def sign_headers(
    method: str,
    url: str,
    headers: dict[str, str],
    creds: AwsCredentials,
    region: str,
    *,
    payload_sha256: str = EMPTY_SHA256,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """`headers` plus x-amz-date, x-amz-content-sha256, the session token and Authorization.

    Every given header is signed, so callers pass only what must not change on the way.
    """
    stamp = _now(now)
    parts = urlsplit(url)
    out = dict(headers)
    out["x-amz-date"] = stamp
    out["x-amz-content-sha256"] = payload_sha256
    if creds.session_token:
        out["x-amz-security-token"] = creds.session_token
    signed = {k.lower(): " ".join(str(v).split()) for k, v in out.items()}
    signed["host"] = _host(url)
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            # S3 signs the path as sent (already encoded by `settings.object_url`), once.
            parts.path or "/",
            canonical_query(_parse_query(parts.query)),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope, signature = _signature(creds, region, stamp, canonical)
    out["Authorization"] = (
        f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def presign(
    url: str,
    creds: AwsCredentials,
    region: str,
    *,
    method: str = "GET",
    expires: int = 3600,
    now: dt.datetime | None = None,
) -> str:
    """`url` with the query-string signature (valid for `expires` seconds)."""
    stamp = _now(now)
    parts = urlsplit(url)
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    pairs = [
        *_parse_query(parts.query),
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{creds.access_key_id}/{scope}"),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if creds.session_token:
        pairs.append(("X-Amz-Security-Token", creds.session_token))
    query = canonical_query(pairs)
    path = parts.path or "/"
    canonical = "\n".join([method.upper(), path, query, f"host:{_host(url)}\n", "host", UNSIGNED])
    _, signature = _signature(creds, region, stamp, canonical)
    return urlunsplit(
        (parts.scheme, parts.netloc, path, f"{query}&X-Amz-Signature={signature}", "")
    )
