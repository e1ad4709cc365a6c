"""Errors raised by naja.install: bad packages, link failures, locked caches, broken transactions."""

from __future__ import annotations

from naja.errors import NajaError


class InstallError(NajaError):
    """Base class for everything naja.install raises on purpose."""


class BadPackageError(InstallError):
    """A package archive that is corrupt or unsafe (path escapes, device files, bad layout)."""

    def __init__(self, package: str, reason: str, *, hint: str | None = None) -> None:
        self.package = package
        self.reason = reason
        super().__init__(
            f"package {package} is invalid: {reason}",
            hint=hint or "the archive was rejected and nothing of it was written; "
            "re-download it or report it to the channel's maintainers",
        )


class ChecksumMismatchError(BadPackageError):
    """The downloaded archive does not match the sha256/md5 its record promises."""


class LinkError(InstallError):
    """A file of a package could not be placed into the prefix."""


class ScriptError(InstallError):
    """A post-link or pre-unlink script of a package failed."""


class TransactionError(InstallError):
    """A transaction could not be applied; the prefix was rolled back to its previous state."""


class CacheError(InstallError):
    """The package cache cannot be used (no writable location, a lock that cannot be taken)."""
