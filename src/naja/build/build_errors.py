"""Errors raised while building a package (after rendering): sources, scripts, packaging."""

from naja.errors import NajaError


class BuildError(NajaError):
    """A build step failed; the message names the step and the output, the hint the fix."""
