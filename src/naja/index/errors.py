"""Errors of channel indexing and package validation."""

from __future__ import annotations

from naja.errors import NajaError


class InvalidPackageError(NajaError):
    """A package file that must not enter a channel: the message says why."""

    exit_code = 2

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"invalid package {filename}: {reason}")
