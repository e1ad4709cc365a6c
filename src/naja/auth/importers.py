"""Credentials users already have: rattler/pixi's credentials.json, mamba's
authentication.json and ~/.netrc. `naja auth migrate` copies them into naja's store."""

from __future__ import annotations

import json
import netrc
import os
from collections.abc import Mapping
from pathlib import Path

from naja.auth.entry import AuthEntry
from naja.auth.errors import AuthError
from naja.auth.stores.base import entries_from_json


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME", str(Path.home())))


def rattler_file(env: Mapping[str, str]) -> Path:
    return Path(env.get("RATTLER_AUTH_FILE") or _home(env) / ".rattler" / "credentials.json")


def mamba_file(env: Mapping[str, str]) -> Path:
    return _home(env) / ".mamba" / "auth" / "authentication.json"


def netrc_file(env: Mapping[str, str]) -> Path:
    return Path(env.get("NETRC") or _home(env) / ".netrc")


def read_json_file(path: Path) -> dict[str, AuthEntry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise AuthError(f"{path}: invalid JSON at line {exc.lineno}") from None
    return entries_from_json(data, str(path))


def read_netrc(path: Path) -> dict[str, AuthEntry]:
    if not path.exists():
        return {}
    try:
        data = netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        raise AuthError(f"{path}: {exc.msg} (line {exc.lineno})") from None
    out = {}
    for host, (login, _account, password) in data.hosts.items():
        if login and password:
            out[host.lower()] = AuthEntry("basic", username=login, password=password)
    return out


def discover(
    environ: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, dict[str, AuthEntry]]]:
    """Every importable source that exists: name -> (path, entries)."""
    env = os.environ if environ is None else environ
    out = {}
    for name, path, reader in (
        ("rattler", rattler_file(env), read_json_file),
        ("mamba", mamba_file(env), read_json_file),
        ("netrc", netrc_file(env), read_netrc),
    ):
        entries = reader(path)
        if entries:
            out[name] = (str(path), entries)
    return out
