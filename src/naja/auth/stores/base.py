"""What every credential store offers, and the JSON file helpers the file stores share."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

from naja.auth.entry import AuthEntry
from naja.auth.errors import AuthError


class Store(Protocol):
    """A place credentials are kept, keyed by `naja.auth.keys.normalize_key` keys."""

    name: str

    def get(self, key: str) -> AuthEntry | None: ...

    def set(self, key: str, entry: AuthEntry) -> None: ...

    def delete(self, key: str) -> bool: ...

    def list_keys(self) -> list[str]: ...

    def all(self) -> dict[str, AuthEntry]:
        """Every stored credential (one read of the store, not one per key)."""
        ...


def write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".naja-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def entries_from_json(data: Any, where: str) -> dict[str, AuthEntry]:
    if not isinstance(data, dict):
        raise AuthError(f"{where}: expected a JSON object of host -> credential")
    from naja.auth.keys import normalize_key

    return {normalize_key(k): AuthEntry.from_json(v, f"{where}: {k}") for k, v in data.items()}


def entries_to_json(entries: dict[str, AuthEntry]) -> bytes:
    return json.dumps({k: v.to_json() for k, v in sorted(entries.items())}, indent=2).encode()
