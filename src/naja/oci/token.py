"""The registry token flow (Docker/OCI distribution "token authentication").

A registry that wants authentication answers 401 with a challenge:
`WWW-Authenticate: Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:
org/chan/noarch/x:pull"`. The client then asks the realm for a token for that scope —
anonymously (public images), or with basic credentials — and repeats the request with
`Authorization: Bearer <token>`. A `Basic realm=...` challenge (a registry with htpasswd auth)
takes the credentials directly. Tokens are cached per registry, scope and credential until
shortly before they expire.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from dataclasses import dataclass

_PARAM_RE = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]*))')
# Registries that give no expires_in mean 60 s (the distribution spec's default).
DEFAULT_EXPIRY = 60.0
# Refresh a token this long before the registry says it expires.
MARGIN = 10.0


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str | None) -> Challenge | None:
    """The first challenge of a WWW-Authenticate header, or None if there is none."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM_RE.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


@dataclass(frozen=True)
class Login:
    """What naja.auth has for the registry: basic user/password, or a bearer token used as is."""

    kind: str  # "basic" | "bearer"
    username: str = ""
    secret: str = ""

    def __repr__(self) -> str:
        return f"Login({self.kind}, username={self.username!r}, secret=********)"

    def identity(self) -> str:
        """A cache key for these credentials that does not hold the secret."""
        digest = hashlib.sha256(f"{self.kind}\0{self.username}\0{self.secret}".encode())
        return digest.hexdigest()[:16]

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def scope_for(repository: str, actions: str) -> str:
    return f"repository:{repository}:{actions}"


class TokenCache:
    """Tokens by (registry, scope, credential identity), thread-safe."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            hit = self._tokens.get(key)
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    def put(self, key: tuple[str, str, str], token: str, expires_in: float | None) -> None:
        lifetime = max((expires_in or DEFAULT_EXPIRY) - MARGIN, 1.0)
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + lifetime)

    def drop(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)
