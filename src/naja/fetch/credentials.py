"""Credentials per host and path: the lookup the auth package fills in, and how each is sent.

Supported kinds: a bearer token (`Authorization: Bearer`), basic auth (user/password), and
conda's token in the path (`https://host/t/<token>/channel/...`). Secrets never leave this
module except inside the request itself; everything printed goes through `redact_url`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from naja.specs.url import add_conda_token, split_conda_token


@dataclass(frozen=True)
class Credential:
    kind: Literal["bearer", "basic", "conda_token"]
    token: str | None = None
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        # Dataclass reprs end up in logs and tracebacks: never show the secret.
        return f"Credential(kind={self.kind!r}, username={self.username!r}, secret=********)"


class CredentialProvider(Protocol):
    """Looks up the credential for a URL (most specific host/path match), or None."""

    def lookup(self, url: str) -> Credential | None: ...


# The default provider lives in naja.credential_hook (registered by the CLI).
from naja.credential_hook import default_provider, set_default_provider  # noqa: E402,F401


class StaticCredentials:
    """A fixed map from URL prefixes (`https://host`, `https://host/org/channel`, or a bare
    host name) to credentials; the longest matching prefix wins."""

    def __init__(self, entries: dict[str, Credential] | None = None) -> None:
        self.entries = dict(entries or {})

    def add(self, prefix: str, credential: Credential) -> None:
        self.entries[prefix] = credential

    def lookup(self, url: str) -> Credential | None:
        parts = urlsplit(split_conda_token(url)[0])
        host = (parts.hostname or "").lower()
        key_url = f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}{parts.path}"
        best: tuple[int, Credential] | None = None
        for prefix, credential in self.entries.items():
            if "://" in prefix:
                p = prefix.rstrip("/")
                if key_url == p or key_url.startswith(p + "/"):
                    score = len(p)
                else:
                    continue
            elif prefix.lower() == host:
                score = 0
            else:
                continue
            if best is None or score > best[0]:
                best = (score, credential)
        return best[1] if best else None


def apply_credential(
    url: str, headers: dict[str, str], credential: Credential | None
) -> tuple[str, dict[str, str]]:
    """The URL and headers to send: a token into the path, or an Authorization header.

    User info already in the URL (`https://user:pw@host`) becomes basic auth too, because the
    HTTP client never sends URL user info itself.
    """
    parts = urlsplit(url)
    out = dict(headers)
    if parts.username is not None:
        from urllib.parse import unquote

        raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        out.setdefault("Authorization", "Basic " + base64.b64encode(raw).decode("ascii"))
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    if credential is None:
        return url, out
    if credential.kind == "bearer" and credential.token:
        out["Authorization"] = f"Bearer {credential.token}"
    elif credential.kind == "basic":
        raw = f"{credential.username or ''}:{credential.password or ''}".encode()
        out["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
    elif credential.kind == "conda_token" and credential.token:
        url = add_conda_token(url, credential.token)
    return url, out
