"""Where the CLI registers the credential lookup that every download uses.

A separate, dependency-free module so that neither the download engine has to import the
credential stores nor the CLI has to import the download engine just to register it.
"""

from __future__ import annotations

from typing import Any

_provider: Any = None


def set_default_provider(provider: Any) -> None:
    """Make `provider` (with `lookup(url) -> Credential | None`) the default for downloads."""
    global _provider
    _provider = provider


def default_provider() -> Any:
    return _provider
