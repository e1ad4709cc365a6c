"""Errors of S3 channels: each names the bucket and key, never a credential."""

from __future__ import annotations

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
