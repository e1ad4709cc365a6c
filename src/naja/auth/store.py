"""Picks the credential store, and says why in one line (`naja auth status`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from naja.auth.stores.base import Store
from naja.config.loader import user_config_dir


@dataclass
class OpenStore:
    store: Store
    why: str


def _usable_keyring() -> tuple[object | None, str]:
    """The keyring backend if one really answers, else None and the reason."""
    import logging
    import warnings

    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None, "the keyring library is not installed"
    logging.getLogger("keyring").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            backend = keyring.get_keyring()
        except Exception as exc:
            return None, f"no keyring backend ({type(exc).__name__})"
        if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
            return None, "no OS keyring backend is available"
        try:
            # A read proves the service answers (D-Bus up, collection unlocked).
            backend.get_password("naja", "naja-probe")
        except Exception as exc:
            return None, f"the OS keyring does not answer ({type(exc).__name__})"
    return backend, ""


def may_hold_entries(environ: Mapping[str, str] | None = None) -> bool:
    """False when no store can hold a credential yet, decided without opening one.

    Opening the OS keyring imports the keyring library and its backends and asks D-Bus (tens
    of milliseconds); a lookup in a store that was never written to needs none of it. Both
    default stores leave a file behind as soon as they hold anything: the keyring store its
    list of keys (`auth-keys.json`, the only way it can enumerate them), the encrypted store
    its data file.
    """
    env = os.environ if environ is None else environ
    if env.get("NAJA_AUTH_FILE") or env.get("NAJA_AUTH_STORE", "").lower() == "keyring":
        return True  # as configured: a plain file is cheap; a forced keyring must answer
    cfg = user_config_dir(env)
    return (cfg / "auth-keys.json").exists() or (cfg / "credentials.enc").exists()


def open_store(environ: Mapping[str, str] | None = None) -> OpenStore:
    """NAJA_AUTH_FILE, else NAJA_AUTH_STORE=keyring|file, else the keyring if usable, else file."""
    env = os.environ if environ is None else environ
    cfg = user_config_dir(env)
    if env.get("NAJA_AUTH_FILE"):
        from naja.auth.stores.plain_file import PlainFileStore

        path = Path(env["NAJA_AUTH_FILE"]).expanduser()
        return OpenStore(PlainFileStore(path), f"NAJA_AUTH_FILE is set: plain JSON file {path}")
    forced = env.get("NAJA_AUTH_STORE", "").lower()
    reason = ""
    if forced != "file":
        backend, reason = _usable_keyring()
        if backend is not None:
            from naja.auth.stores.keyring_store import KeyringStore

            store = KeyringStore(backend, cfg / "auth-keys.json")
            return OpenStore(store, f"{store.name}")
        if forced == "keyring":
            from naja.auth.errors import AuthError

            raise AuthError(
                f"NAJA_AUTH_STORE=keyring but {reason}", hint="start the keyring, or unset it"
            )
    else:
        reason = "NAJA_AUTH_STORE=file"
    from naja.auth.stores.encrypted_file import EncryptedFileStore

    store = EncryptedFileStore(cfg / "credentials.enc", cfg / "auth.key", env.get("NAJA_AUTH_KEY"))
    return OpenStore(store, f"{store.name} — {reason}")
