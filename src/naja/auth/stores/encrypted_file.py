"""The headless fallback: credentials in a file encrypted with Fernet (AES-128-CBC + HMAC).

The key is `NAJA_AUTH_KEY` (any passphrase; stretched with PBKDF2 and a per-file salt) or,
when that is unset, a random key in `~/.config/naja/auth.key` created 0600 on first use.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

from naja.auth.entry import AuthEntry
from naja.auth.errors import AuthError
from naja.auth.stores.base import entries_from_json, entries_to_json, write_private

_ITERATIONS = 200_000


class EncryptedFileStore:
    def __init__(self, path: Path, key_file: Path, passphrase: str | None) -> None:
        self.path = path
        self.key_file = key_file
        self.passphrase = passphrase
        source = "NAJA_AUTH_KEY" if passphrase else f"key file {key_file}"
        self.name = f"encrypted file {path} (key from {source})"

    def _secret(self) -> bytes:
        if self.passphrase:
            return self.passphrase.encode()
        try:
            return self.key_file.read_bytes().strip()
        except FileNotFoundError:
            key = base64.urlsafe_b64encode(secrets.token_bytes(32))
            write_private(self.key_file, key)
            return key

    def _fernet(self, salt: bytes):  # type: ignore[no-untyped-def]
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=_ITERATIONS)
        return Fernet(base64.urlsafe_b64encode(kdf.derive(self._secret())))

    def _load(self) -> tuple[dict[str, AuthEntry], bytes]:
        from cryptography.fernet import InvalidToken

        try:
            wrapper = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}, secrets.token_bytes(16)
        except json.JSONDecodeError:
            raise AuthError(f"{self.path} is damaged", hint="remove it and log in again") from None
        salt = base64.b64decode(wrapper["salt"])
        try:
            plain = self._fernet(salt).decrypt(wrapper["data"].encode())
        except InvalidToken:
            raise AuthError(
                f"cannot decrypt {self.path}: wrong key",
                hint="set NAJA_AUTH_KEY to the passphrase used when it was written",
            ) from None
        return entries_from_json(json.loads(plain), str(self.path)), salt

    def _save(self, entries: dict[str, AuthEntry], salt: bytes) -> None:
        token = self._fernet(salt).encrypt(entries_to_json(entries)).decode()
        data = json.dumps({"version": 1, "salt": base64.b64encode(salt).decode(), "data": token})
        write_private(self.path, data.encode())

    def get(self, key: str) -> AuthEntry | None:
        return self._load()[0].get(key)

    def set(self, key: str, entry: AuthEntry) -> None:
        entries, salt = self._load()
        entries[key] = entry
        self._save(entries, salt)

    def delete(self, key: str) -> bool:
        entries, salt = self._load()
        if entries.pop(key, None) is None:
            return False
        self._save(entries, salt)
        return True

    def list_keys(self) -> list[str]:
        return sorted(self._load()[0])

    def all(self) -> dict[str, AuthEntry]:
        return self._load()[0]
