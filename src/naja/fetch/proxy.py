"""Which proxy (if any) a URL goes through: config first, then HTTP(S)_PROXY / NO_PROXY."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def _env(name: str) -> str | None:
    return os.environ.get(name.lower()) or os.environ.get(name.upper()) or None


def bypassed(host: str, no_proxy: str | None) -> bool:
    """True when `host` matches a NO_PROXY entry (`*`, a domain suffix, or an exact host)."""
    if not no_proxy:
        return False
    host = host.lower().strip("[]")
    for entry in no_proxy.split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.split(":")[0].lstrip(".").lstrip("*").lstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def select_proxy(
    url: str,
    proxies: dict[str, str],
    *,
    no_proxy: str | None = None,
    trust_env: bool = True,
) -> str | None:
    """The proxy URL for `url`, or None for a direct connection.

    `proxies` keys are `scheme://host` (most specific), `scheme`, or `all`.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https"):
        return None
    skip = no_proxy if no_proxy is not None else (_env("no_proxy") if trust_env else None)
    if bypassed(host, skip):
        return None
    for key in (f"{scheme}://{host}", scheme, "all"):
        if key in proxies:
            return proxies[key] or None
    if trust_env:
        return _env(f"{scheme}_proxy") or _env("all_proxy")
    return None
