"""Finds the credential for a URL: environment first, then the store; most specific key wins.

Environment forms, for CI:
- `NAJA_AUTH_<HOST>`: `<HOST>` is the host upper-cased with every other character as `_`
  (`prefix.dev` -> `NAJA_AUTH_PREFIX_DEV`); the value is `bearer:TOKEN`, `conda:TOKEN`,
  `basic:USER:PASSWORD`, or a bare token (bearer).
- `NAJA_AUTH_JSON`: a JSON object in rattler's credentials.json format.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from naja.auth.entry import AuthEntry
from naja.auth.errors import AuthError
from naja.auth.keys import match_score, url_key
from naja.auth.stores.base import entries_from_json


def env_var_for_host(host: str) -> str:
    return "NAJA_AUTH_" + re.sub(r"[^A-Z0-9]", "_", host.split(":")[0].upper())


def parse_env_value(value: str, var: str) -> AuthEntry:
    kind, _, rest = value.partition(":")
    if kind == "bearer" and rest:
        return AuthEntry("bearer", token=rest)
    if kind == "conda" and rest:
        return AuthEntry("conda_token", token=rest)
    if kind == "basic" and ":" in rest:
        user, _, password = rest.partition(":")
        return AuthEntry("basic", username=user, password=password)
    if kind in ("bearer", "conda", "basic"):
        raise AuthError(f"${var}: expected {kind}:… with a value")
    return AuthEntry("bearer", token=value)


class AuthProvider:
    """The download engine's CredentialProvider, reading the store once per process."""

    def __init__(self, environ: Mapping[str, str] | None = None, store: Any = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self._store = store
        self._entries: dict[str, AuthEntry] | None = None
        # Credentials given for this run only (a channel URL's /t/<token>/): they win.
        self._session: dict[str, AuthEntry] = {}

    def add_session(self, key: str, entry: AuthEntry) -> None:
        """Use `entry` for URLs under `key` for the rest of this process (never stored)."""
        self._session[key] = entry

    def _load(self) -> dict[str, AuthEntry]:
        if self._entries is None:
            store = self._store
            if store is None:
                from naja.auth.store import may_hold_entries, open_store

                if may_hold_entries(self.environ):
                    store = open_store(self.environ).store
            stored = store.all() if store is not None else {}
            # Sorted by key, as `list_keys` gives them: equal scores go to the first.
            entries = {key: stored[key] for key in sorted(stored)}
            blob = self.environ.get("NAJA_AUTH_JSON")
            if blob:
                try:
                    entries.update(entries_from_json(json.loads(blob), "$NAJA_AUTH_JSON"))
                except json.JSONDecodeError:
                    raise AuthError("$NAJA_AUTH_JSON is not valid JSON") from None
            self._entries = entries
        return self._entries

    def entry_for(self, url: str) -> AuthEntry | None:
        """The most specific credential for `url`, or None."""
        _, host, _ = url_key(url)
        var = env_var_for_host(host)
        if self.environ.get(var):
            return parse_env_value(self.environ[var], var)
        best: tuple[int, AuthEntry] | None = None
        for key, entry in self._session.items():
            score = match_score(key, url)
            if score is not None and (best is None or score > best[0]):
                best = (score, entry)
        if best is not None:
            return best[1]
        for key, entry in self._load().items():
            score = match_score(key, url)
            if score is not None and (best is None or score > best[0]):
                best = (score, entry)
        return best[1] if best else None

    def lookup(self, url: str) -> Any:
        """CredentialProvider protocol: the fetch engine's Credential for `url`."""
        entry = self.entry_for(url)
        return entry.to_fetch() if entry is not None else None

    def secrets(self) -> list[str]:
        return [s for e in self._load().values() for s in e.secrets()]


_default: AuthProvider | None = None


def default_provider() -> AuthProvider:
    """One provider per process, created on first use."""
    global _default
    if _default is None:
        _default = AuthProvider()
    return _default
