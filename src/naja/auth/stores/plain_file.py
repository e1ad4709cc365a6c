"""`NAJA_AUTH_FILE`: an explicit plaintext JSON file (rattler's format), refused unless 0600."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from naja.auth.entry import AuthEntry
from naja.auth.errors import AuthError
from naja.auth.stores.base import entries_from_json, entries_to_json, write_private


class PlainFileStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"plain file {path}"

    def _load(self) -> dict[str, AuthEntry]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        if os.name != "nt" and stat.S_IMODE(st.st_mode) & 0o077:
            raise AuthError(
                f"{self.path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o})",
                hint=f"run `chmod 600 {self.path}`",
            )
        try:
            data = json.loads(self.path.read_bytes() or b"{}")
        except json.JSONDecodeError as exc:
            raise AuthError(f"{self.path}: invalid JSON at line {exc.lineno}") from None
        return entries_from_json(data, str(self.path))

    def get(self, key: str) -> AuthEntry | None:
        return self._load().get(key)

    def set(self, key: str, entry: AuthEntry) -> None:
        entries = self._load()
        entries[key] = entry
        write_private(self.path, entries_to_json(entries))

    def delete(self, key: str) -> bool:
        entries = self._load()
        if entries.pop(key, None) is None:
            return False
        write_private(self.path, entries_to_json(entries))
        return True

    def list_keys(self) -> list[str]:
        return sorted(self._load())

    def all(self) -> dict[str, AuthEntry]:
        return self._load()
