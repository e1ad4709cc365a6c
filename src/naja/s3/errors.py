"""Errors of S3 channels: each names the bucket and key, never a credential."""

from __future__ import annotations

import re

from naja.errors import NajaError
from naja.specs.url import redact_text


class S3Error(NajaError):
    """An S3 request that failed: what was asked of which object, and what the store said."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(redact_text(message), hint=hint)


class S3AuthError(S3Error):
    """The store refused the credentials (or the request needs some)."""


class S3ExistsError(S3Error):
    """An upload would overwrite a package already in the channel."""

    exit_code = 2


class S3ConflictError(S3Error):
    """Someone else changed the channel index while this upload was rewriting it."""


# 403 codes that mean "these credentials are wrong" rather than "no such key / not allowed".
AUTH_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "InvalidToken",
        "AuthorizationHeaderMalformed",
    }
)
_CODE_RE = re.compile(rb"<Code>([^<]*)</Code>")


def error_code(body: bytes, fallback: str = "") -> str:
    """The `<Code>` of an S3 error document (`NoSuchKey`, `SignatureDoesNotMatch`...)."""
    m = _CODE_RE.search(body or b"")
    return m.group(1).decode(errors="replace") if m else fallback


def refused(endpoint: str, url: str, status: int, code: str, source: str | None) -> S3AuthError:
    """The error for a request the store refused; names where the credentials came from."""
    bucket = url.removeprefix("s3://").partition("/")[0]
    whose = f" (credentials from {source})" if source else " (no credentials)"
    hint = (
        f"check the access key stored for s3://{bucket} (`naja auth list`) or your AWS "
        "credentials, and that they may read (and, to upload, write) this bucket"
    )
    if code in ("AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraint"):
        hint = "the bucket lives in another region: set AWS_REGION to the bucket's region"
    return S3AuthError(
        f"{endpoint} refused access to {url}: HTTP {status} {code}".rstrip() + whose, hint=hint
    )
