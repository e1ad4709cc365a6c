"""Credential errors (messages never contain a secret)."""

from naja.errors import NajaError


class AuthError(NajaError):
    """A credential store that cannot be used, or a credential that cannot be read."""
