"""The OS keyring through the `keyring` library: Secret Service on Linux, Keychain, Windows.

Each credential is one keyring item (service `naja`, user = the key, secret = its JSON). The
keyring cannot list items portably, so the keys (never the secrets) are also kept in
`~/.config/naja/auth-keys.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from naja.auth.entry import AuthEntry
from naja.auth.errors import AuthError
from naja.auth.stores.base import write_private

SERVICE = "naja"


class KeyringStore:
    def __init__(self, backend: object, index: Path) -> None:
        self.backend = backend
        self.index = index
        self.name = f"OS keyring ({type(backend).__module__.rsplit('.', 1)[-1]})"

    def _keys(self) -> list[str]:
        try:
            return list(json.loads(self.index.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return []

    def _save_keys(self, keys: list[str]) -> None:
        write_private(self.index, json.dumps(sorted(set(keys))).encode())

    def get(self, key: str) -> AuthEntry | None:
        try:
            raw = self.backend.get_password(SERVICE, key)  # type: ignore[attr-defined]
        except Exception as exc:  # the keyring's own errors vary by backend
            raise AuthError(f"the OS keyring failed to read {key}: {type(exc).__name__}") from None
        if raw is None:
            return None
        return AuthEntry.from_json(json.loads(raw), key)

    def set(self, key: str, entry: AuthEntry) -> None:
        try:
            self.backend.set_password(SERVICE, key, json.dumps(entry.to_json()))  # type: ignore[attr-defined]
        except Exception as exc:
            raise AuthError(
                f"the OS keyring refused to store {key}: {type(exc).__name__}"
            ) from None
        self._save_keys([*self._keys(), key])

    def delete(self, key: str) -> bool:
        import keyring.errors

        try:
            self.backend.delete_password(SERVICE, key)  # type: ignore[attr-defined]
            found = True
        except keyring.errors.PasswordDeleteError:
            found = False
        self._save_keys([k for k in self._keys() if k != key])
        return found

    def list_keys(self) -> list[str]:
        return sorted(self._keys())

    def all(self) -> dict[str, AuthEntry]:
        entries = {key: self.get(key) for key in self.list_keys()}
        return {key: entry for key, entry in entries.items() if entry is not None}
