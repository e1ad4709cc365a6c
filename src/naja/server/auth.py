"""Who is calling and what they may do.

Credentials are read from, in order: the `/t/<token>/` URL form conda uses, `X-API-Key`
(quetz and rattler), `Authorization: Bearer`, `Authorization: Basic` (user + password, or any
user name + an API key as password) and the web UI's session cookie. Resolved API keys are
cached for two seconds so that repodata and shard GETs on private channels stay cheap.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request
from sqlalchemy import func, select

from naja.server.models import ApiKey, Channel, LoginFailure, Member, User, WebSession
from naja.server.security import token_hash, verify_password

ROLE_RANK = {"member": 1, "maintainer": 2, "owner": 3}
ROLES = tuple(ROLE_RANK)
# action -> (API key scope it needs, lowest channel role that may do it)
ACTIONS = {"read": ("read", 1), "write": ("write", 2), "manage": ("manage", 3)}
SESSION_COOKIE = "naja_session"
_CACHE_TTL = 2.0


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    is_admin: bool


@dataclass
class Identity:
    user: Principal | None = None
    scopes: frozenset[str] = frozenset()
    key_channel: str | None = None
    via: str = "anonymous"
    csrf: str | None = None
    roles: dict[int, str | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.user.username if self.user else "anonymous"

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user.is_admin and "manage" in self.scopes)


ANONYMOUS = Identity()
ALL_SCOPES = frozenset({"read", "write", "manage"})


class _TTLCache:
    def __init__(self) -> None:
        self._data: dict[str, tuple[float, Identity | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Identity | None]:
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, key: str, value: Identity | None) -> None:
        with self._lock:
            if len(self._data) > 10000:
                self._data.clear()
            self._data[key] = (time.monotonic() + _CACHE_TTL, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_keys = _TTLCache()
_passwords = _TTLCache()


def forget_cached_credentials() -> None:
    """After a key is revoked or a password changed: no stale grant survives in this worker."""
    _keys.clear()
    _passwords.clear()


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.is_admin)


def identity_for_key(state, token: str) -> Identity | None:
    digest = token_hash(token)
    found, cached = _keys.get(digest)
    if found:
        return cached
    result = None
    with state.db.session() as s:
        key = s.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        now = datetime.now(UTC)
        if key is not None and not key.revoked:
            expires = key.expires_at
            if expires is not None and expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            if expires is None or expires > now:
                result = Identity(
                    _principal(key.user),
                    frozenset(key.scopes.split()) & ALL_SCOPES,
                    key.channel,
                    "key",
                )
    _keys.put(digest, result)
    return result


def identity_for_password(state, username: str, password: str, client: str = "?") -> Identity | None:
    """Basic auth with a password, under the same rate limit as the sign-in form."""
    cache_key = token_hash(f"{username}\0{password}")
    found, cached = _passwords.get(cache_key)
    if found and cached is not None:
        return cached
    with state.db.session() as s:
        user, _ = check_password(state, s, username, password, client)
        result = Identity(_principal(user), ALL_SCOPES, None, "password") if user else None
    if result is not None:
        _passwords.put(cache_key, result)
    return result


def check_password(state, s, username: str, password: str, client: str) -> tuple[User | None, str]:
    """The user if `password` is theirs, else None with the failure recorded (committed):
    the sign-in rate limit every password check goes through (429 once exceeded). Also
    returns the rate-limit key, for the caller to clear after a successful sign-in."""
    settings = state.settings
    rl_key = f"{username.lower()[:100]}|{client}"
    since = datetime.now(UTC) - timedelta(seconds=settings.login_window)
    recent = s.scalar(
        select(func.count()).where(LoginFailure.key == rl_key, LoginFailure.at > since)
    )
    if recent >= settings.login_attempts:
        raise HTTPException(
            429, "too many failed sign-ins; wait a minute",
            headers={"Retry-After": str(settings.login_window)},
        )
    user = s.scalar(select(User).where(User.username == username))
    if verify_password(user.password_hash if user else None, password) and user is not None:
        return user, rl_key
    s.add(LoginFailure(key=rl_key))
    s.commit()
    return None, rl_key


def identity_for_session(state, cookie: str) -> Identity | None:
    with state.db.session() as s:
        sess = s.scalar(select(WebSession).where(WebSession.token_hash == token_hash(cookie)))
        if sess is None:
            return None
        expires = sess.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires < datetime.now(UTC):
            return None
        return Identity(_principal(sess.user), ALL_SCOPES, None, "session", sess.csrf)


def resolve(state, request: Request, path_token: str | None = None) -> Identity:
    """The caller's identity; bad credentials are a 401, never silently anonymous."""
    token = path_token or request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if not token and scheme.lower() == "bearer":
        token = value.strip()
    if token:
        ident = identity_for_key(state, token)
        if ident is None:
            ident = state.plugins.authenticate(token)
        if ident is None:
            raise HTTPException(401, "invalid or expired API key")
        return ident
    if scheme.lower() == "basic":
        try:
            user, _, secret = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise HTTPException(401, "malformed Basic credentials") from None
        client = request.client.host if request.client else "?"
        ident = identity_for_key(state, secret) or identity_for_password(state, user, secret, client)
        if ident is None:
            raise HTTPException(
                401, "wrong user name or password", headers={"WWW-Authenticate": "Basic"}
            )
        return ident
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        ident = identity_for_session(state, cookie)
        if ident is not None:
            return ident
    return ANONYMOUS


def role_of(state, ident: Identity, channel: Channel) -> str | None:
    if ident.user is None:
        return None
    if channel.id in ident.roles:
        return ident.roles[channel.id]
    with state.db.session() as s:
        role = s.scalar(
            select(Member.role).where(
                Member.channel_id == channel.id, Member.user_id == ident.user.id
            )
        )
    ident.roles[channel.id] = role
    return role


def allowed(state, ident: Identity, channel: Channel, action: str) -> bool:
    scope, rank = ACTIONS[action]
    if action == "read" and not channel.private:
        return True
    if ident.user is None or scope not in ident.scopes:
        return False
    if ident.key_channel and ident.key_channel != channel.name:
        return False
    if ident.user.is_admin:
        return True
    role = role_of(state, ident, channel)
    return role is not None and ROLE_RANK[role] >= rank


def require(state, ident: Identity, channel: Channel, action: str) -> None:
    if not allowed(state, ident, channel, action):
        if ident.user is None:
            raise HTTPException(
                401, "this channel needs credentials", headers={"WWW-Authenticate": "Basic"}
            )
        raise HTTPException(403, f"{ident.name} may not {action} channel {channel.name}")


def require_user(ident: Identity, scope: str = "read") -> Principal:
    if ident.user is None:
        raise HTTPException(401, "sign in or pass an API key", headers={"WWW-Authenticate": "Basic"})
    if scope not in ident.scopes:
        raise HTTPException(403, f"this API key lacks the {scope!r} scope")
    return ident.user


def check_csrf(request: Request, ident: Identity, form_token: str | None = None) -> None:
    """Cookie-authenticated changes must carry the session's CSRF token."""
    if ident.via != "session":
        return
    sent = form_token or request.headers.get("x-csrf-token") or ""
    if not ident.csrf or sent != ident.csrf:
        raise HTTPException(403, "missing or wrong CSRF token")
