"""Configuration errors."""

from naja.errors import NajaError


class ConfigError(NajaError):
    """A configuration file or value naja cannot use."""

    exit_code = 2
