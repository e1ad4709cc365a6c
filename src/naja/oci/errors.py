"""Errors of OCI channels: each names the registry and repository, never a credential."""

from __future__ import annotations

from naja.errors import NajaError
from naja.specs.url import redact_text


class OciError(NajaError):
    """A registry request that failed: what was asked of which registry, and what it said."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # Registry error bodies can echo request details; keep anything secret-looking out.
        super().__init__(redact_text(message), hint=hint)


class OciAuthError(OciError):
    """The registry refused the credentials (or wants some and none are configured)."""


class OciNotFound(OciError):
    """The repository, tag or blob does not exist."""


class OciExistsError(OciError):
    """An upload would overwrite a package already in the channel."""

    exit_code = 2
