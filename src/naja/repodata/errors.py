"""Errors raised while getting channel indexes."""

from __future__ import annotations

from naja.errors import NajaError


class ChannelNotFound(NajaError):
    """A channel has none of the subdirs asked for (wrong URL, or not a conda channel)."""
