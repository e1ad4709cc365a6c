"""The JSON API under `/api`: channels, members, packages, uploads, users, keys, sign-in."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from naja.server import audit
from naja.server.auth import (
    ALL_SCOPES,
    SESSION_COOKIE,
    Identity,
    allowed,
    check_csrf,
    check_password,
    forget_cached_credentials,
    require,
    require_user,
    resolve,
)
from naja.server.channels import create_channel, set_member
from naja.server.models import (
    ApiKey,
    AuditEvent,
    Channel,
    LoginFailure,
    Member,
    PackageFile,
    User,
    WebSession,
)
from naja.server.security import hash_password, new_api_key, token_hash, verify_password
from naja.server.uploads import delete_package, receive_to_file, store_package

router = APIRouter(prefix="/api")


def _state(request: Request):
    return request.app.state.naja


def _ident(request: Request) -> Identity:
    return resolve(_state(request), request)


def _changing(request: Request) -> Identity:
    ident = _ident(request)
    check_csrf(request, ident)
    return ident


def _channel(state, ident: Identity, name: str, action: str = "read"):
    info = state.channel(name, fresh=action != "read")
    if info is None or (action == "read" and not allowed(state, ident, info, "read")):
        # A private channel the caller may not read does not exist for them.
        if info is not None and ident.user is None:
            raise HTTPException(401, "this channel needs credentials")
        raise HTTPException(404, f"channel {name!r} not found")
    require(state, ident, info, action)
    return info


class ChannelIn(BaseModel):
    name: str
    private: bool = False
    description: str = ""
    mode: str = ""
    upstream: str = ""


class ChannelPatch(BaseModel):
    private: bool | None = None
    description: str | None = None


class MemberIn(BaseModel):
    username: str
    role: str


class UserIn(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    password: str = Field(min_length=8, max_length=1024)
    is_admin: bool = False


class KeyIn(BaseModel):
    description: str = ""
    scopes: list[str] = ["read", "write", "manage"]
    channel: str | None = None
    expires_in_days: float | None = None


class LoginIn(BaseModel):
    username: str
    password: str


@router.get("/channels")
def list_channels(request: Request) -> list[dict]:
    state = _state(request)
    ident = _ident(request)
    with state.db.session() as s:
        rows = s.scalars(select(Channel).order_by(Channel.name)).all()
        counts = dict(
            s.execute(select(PackageFile.channel_id, func.count()).group_by(PackageFile.channel_id)).all()
        )
    return [
        {
            "name": c.name,
            "private": c.private,
            "description": c.description,
            "mode": c.mode,
            "packages": counts.get(c.id, 0),
        }
        for c in rows
        if allowed(state, ident, c, "read")
    ]


@router.post("/channels", status_code=201)
def post_channel(request: Request, body: ChannelIn) -> dict:
    state = _state(request)
    ident = _changing(request)
    require_user(ident, "write")
    info = create_channel(
        state, ident, body.name, private=body.private, description=body.description,
        mode=body.mode, upstream=body.upstream,
    )
    return {"name": info.name, "private": info.private}


@router.get("/channels/{name}")
def get_channel(request: Request, name: str) -> dict:
    state = _state(request)
    info = _channel(state, _ident(request), name)
    return {"name": info.name, "private": info.private, "description": info.description, "mode": info.mode}


@router.patch("/channels/{name}")
def patch_channel(request: Request, name: str, body: ChannelPatch) -> dict:
    state = _state(request)
    ident = _changing(request)
    info = _channel(state, ident, name, "manage")
    with state.db.session() as s:
        ch = s.get(Channel, info.id)
        if body.private is not None:
            ch.private = body.private
        if body.description is not None:
            ch.description = body.description
        audit.record(s, ident.name, "channel.update", name, detail=f"private={ch.private}")
        s.commit()
    state.forget_channel(name)
    return {"name": name, "private": ch.private}


@router.delete("/channels/{name}", status_code=204)
def delete_channel(request: Request, name: str) -> Response:
    state = _state(request)
    ident = _changing(request)
    info = _channel(state, ident, name, "manage")
    with state.db.session() as s:
        s.execute(delete(PackageFile).where(PackageFile.channel_id == info.id))
        s.execute(delete(Member).where(Member.channel_id == info.id))
        s.execute(delete(Channel).where(Channel.id == info.id))
        audit.record(s, ident.name, "channel.delete", name)
        s.commit()
    state.forget_channel(name)
    # Index files go too: a channel created later under this name must not serve them.
    state.storage.delete_prefix(name)
    return Response(status_code=204)


@router.post("/channels/{name}/reindex")
def reindex_channel(request: Request, name: str) -> dict:
    """Rewrite every subdir's index from the database (after a restore or a bulk import)."""
    state = _state(request)
    ident = _changing(request)
    info = _channel(state, ident, name, "manage")
    with state.db.session() as s:
        subdirs = set(
            s.scalars(select(PackageFile.subdir).where(PackageFile.channel_id == info.id).distinct())
        )
    subdirs.add("noarch")
    for subdir in sorted(subdirs):
        state.indexer.regenerate(info, subdir)
    return {"channel": name, "subdirs": sorted(subdirs)}


class SyncIn(BaseModel):
    subdirs: list[str] | None = None


@router.post("/channels/{name}/sync", status_code=202)
def sync_mirror(request: Request, name: str, body: SyncIn | None = None, wait: bool = False) -> dict:
    """Start a mirror channel's sync job (`?wait=true` runs it before answering)."""
    from naja.server.mirror import start_sync

    state = _state(request)
    ident = _changing(request)
    info = _channel(state, ident, name, "manage")
    return start_sync(state, ident, info, body.subdirs if body else None, wait=wait)


@router.get("/jobs/{job}")
def get_job(request: Request, job: str) -> dict:
    from naja.server.mirror import job_status

    state = _state(request)
    require_user(_ident(request))
    if not job.isalnum():
        raise HTTPException(404, "no such job")
    status = job_status(state, job)
    if status is None:
        raise HTTPException(404, "no such job")
    return status


@router.get("/channels/{name}/members")
def get_members(request: Request, name: str) -> list[dict]:
    state = _state(request)
    ident = _ident(request)
    info = _channel(state, ident, name, "read")
    require_user(ident)
    with state.db.session() as s:
        rows = s.scalars(select(Member).where(Member.channel_id == info.id)).all()
        return sorted(({"username": m.user.username, "role": m.role} for m in rows), key=lambda m: m["username"])


@router.post("/channels/{name}/members", status_code=201)
def post_member(request: Request, name: str, body: MemberIn) -> dict:
    state = _state(request)
    ident = _changing(request)
    info = _channel(state, ident, name, "manage")
    set_member(state, ident, info, body.username, body.role)
    return {"username": body.username, "role": body.role}


@router.delete("/channels/{name}/members/{username}", status_code=204)
def delete_member(request: Request, name: str, username: str) -> Response:
    state = _state(request)
    ident = _changing(request)
    info = _channel(state, ident, name, "manage")
    set_member(state, ident, info, username, None)
    return Response(status_code=204)


def _check_query(q: str) -> None:
    # NUL ends a string in SQLite's LIKE and is refused by PostgreSQL: no control characters.
    if any(ord(ch) < 32 for ch in q):
        raise HTTPException(422, "the search text contains control characters")


def _package_row(p: PackageFile, full: bool = False) -> dict:
    out = {
        "subdir": p.subdir, "filename": p.filename, "name": p.name, "version": p.version,
        "build": p.build, "size": p.size, "sha256": p.sha256, "md5": p.md5,
        "uploaded": p.created_at.isoformat() if p.created_at else None,
    }
    if full:
        rec = json.loads(p.record)
        out["depends"] = rec.get("depends", [])
        out["constrains"] = rec.get("constrains", [])
        out["about"] = json.loads(p.about or "{}")
        out["files"] = json.loads(p.files or "[]")
    return out


@router.get("/channels/{name}/packages")
def list_packages(
    request: Request, name: str, q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict]:
    state = _state(request)
    info = _channel(state, _ident(request), name)
    _check_query(q)
    with state.db.session() as s:
        stmt = select(PackageFile.name, func.count(), func.max(PackageFile.version)).where(
            PackageFile.channel_id == info.id
        )
        if q:
            stmt = stmt.where(PackageFile.name.contains(q, autoescape=True))
        rows = s.execute(stmt.group_by(PackageFile.name).order_by(PackageFile.name).limit(limit)).all()
    return [{"name": n, "files": c, "latest": v} for n, c, v in rows]


@router.get("/channels/{name}/packages/{package}")
def get_package(request: Request, name: str, package: str) -> list[dict]:
    state = _state(request)
    info = _channel(state, _ident(request), name)
    with state.db.session() as s:
        rows = s.scalars(
            select(PackageFile)
            .where(PackageFile.channel_id == info.id, PackageFile.name == package)
            .order_by(PackageFile.created_at.desc())
        ).all()
    if not rows:
        raise HTTPException(404, f"no package {package!r} in {name}")
    return [_package_row(p, full=True) for p in rows]


@router.delete("/channels/{name}/packages/{subdir}/{filename}", status_code=204)
def delete_package_route(request: Request, name: str, subdir: str, filename: str) -> Response:
    delete_package(_state(request), _changing(request), name, subdir, filename)
    return Response(status_code=204)


@router.get("/search")
def search(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> list[dict]:
    """Packages whose name contains `q` in every channel the caller may read."""
    state = _state(request)
    ident = _ident(request)
    _check_query(q)
    with state.db.session() as s:
        stmt = (
            select(Channel, PackageFile.name, func.max(PackageFile.version))
            .join(PackageFile, PackageFile.channel_id == Channel.id)
            .where(or_(PackageFile.name.contains(q, autoescape=True), Channel.name == q))
            .group_by(Channel.id, PackageFile.name)
            .order_by(PackageFile.name)
            .limit(500)
        )
        rows = s.execute(stmt).all()
    return [
        {"channel": c.name, "name": n, "latest": v}
        for c, n, v in rows
        if allowed(state, ident, c, "read")
    ]


async def _upload_files(request: Request, channel: str, files: list[UploadFile], force: bool) -> list[dict]:
    from starlette.concurrency import run_in_threadpool

    state = _state(request)
    ident = await run_in_threadpool(_changing, request)
    require_user(ident, "write")
    out = []
    for upload in files:
        async def chunks(u=upload):
            while chunk := await u.read(1 << 20):
                yield chunk

        path = await receive_to_file(state, chunks())
        try:
            out.append(
                await run_in_threadpool(
                    store_package, state, ident, channel, path, upload.filename or "", force=force
                )
            )
        finally:
            path.unlink(missing_ok=True)
    return out


@router.post("/channels/{channel}/files/", status_code=201)
@router.post("/channels/{channel}/files", status_code=201, include_in_schema=False)
async def upload_files(request: Request, channel: str, files: list[UploadFile], force: bool = False) -> list[dict]:
    """Multipart upload (field `files`, repeatable): quetz's and `naja upload`'s protocol."""
    limit = _state(request).settings.max_upload
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + (1 << 20):
        raise HTTPException(413, f"the upload is larger than the limit of {limit} bytes")
    return await _upload_files(request, channel, files, force)


@router.post("/channels/{channel}/upload/{filename}", status_code=201)
async def upload_raw(
    request: Request, channel: str, filename: str, force: bool = False, sha256: str | None = None,
    package_version: str | None = None,
) -> dict:
    """Raw-body upload: the protocol of rattler's and pixi's `upload quetz`."""
    from starlette.concurrency import run_in_threadpool

    state = _state(request)
    ident = await run_in_threadpool(_changing, request)
    require_user(ident, "write")
    path = await receive_to_file(state, request.stream())
    try:
        return await run_in_threadpool(
            store_package, state, ident, channel, path, filename, force=force, sha256=sha256
        )
    finally:
        path.unlink(missing_ok=True)


@router.get("/me")
def me(request: Request) -> dict:
    ident = _ident(request)
    user = require_user(ident)
    return {"username": user.username, "is_admin": user.is_admin, "via": ident.via, "scopes": sorted(ident.scopes)}


@router.post("/users", status_code=201)
def create_user(request: Request, body: UserIn) -> dict:
    return add_user(_state(request), _changing(request), body)


def add_user(state, ident: Identity, body: UserIn) -> dict:
    require_user(ident, "manage")
    if not ident.is_admin:
        raise HTTPException(403, "only admins create accounts")
    with state.db.session() as s:
        s.add(User(username=body.username, password_hash=hash_password(body.password), is_admin=body.is_admin))
        try:
            s.flush()
        except IntegrityError:
            raise HTTPException(409, f"user {body.username!r} exists") from None
        audit.record(s, ident.name, "user.create", target=body.username, detail="admin" if body.is_admin else "")
        s.commit()
    return {"username": body.username}


@router.get("/api-keys")
def list_keys(request: Request) -> list[dict]:
    state = _state(request)
    user = require_user(_ident(request))
    with state.db.session() as s:
        keys = s.scalars(select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked.is_(False))).all()
    return [
        {"id": k.id, "prefix": k.prefix, "description": k.description, "scopes": k.scopes.split(),
         "channel": k.channel, "expires_at": k.expires_at.isoformat() if k.expires_at else None}
        for k in keys
    ]


def create_key(state, ident: Identity, body: KeyIn) -> dict:
    user = require_user(ident, "manage")
    scopes = set(body.scopes)
    if not scopes or not scopes <= ALL_SCOPES:
        raise HTTPException(422, "scopes must be a non-empty subset of read, write, manage")
    if not scopes <= ident.scopes:
        raise HTTPException(403, "a key cannot have more scopes than the credentials creating it")
    key = new_api_key()
    expires = (
        datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    )
    with state.db.session() as s:
        row = ApiKey(
            user_id=user.id, key_hash=token_hash(key), prefix=key[:10], description=body.description,
            scopes=" ".join(sorted(scopes)), channel=body.channel or None, expires_at=expires,
        )
        s.add(row)
        audit.record(s, ident.name, "key.create", body.channel or "", row.prefix, row.scopes)
        s.commit()
        return {"id": row.id, "key": key, "scopes": sorted(scopes), "expires_at": expires.isoformat() if expires else None}


@router.post("/api-keys", status_code=201)
def post_key(request: Request, body: KeyIn) -> dict:
    return create_key(_state(request), _changing(request), body)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(request: Request, key_id: int) -> Response:
    revoke(_state(request), _changing(request), key_id)
    return Response(status_code=204)


def revoke(state, ident: Identity, key_id: int) -> None:
    user = require_user(ident, "manage")
    with state.db.session() as s:
        key = s.get(ApiKey, key_id)
        if key is None or (key.user_id != user.id and not ident.is_admin):
            raise HTTPException(404, "no such key")
        key.revoked = True
        audit.record(s, ident.name, "key.revoke", target=key.prefix)
        s.commit()
    forget_cached_credentials()


def login_user(state, request: Request, username: str, password: str) -> tuple[str, str]:
    """Check a password under the rate limit; returns (session cookie, CSRF token)."""
    client = request.client.host if request.client else "?"
    with state.db.session() as s:
        user, rl_key = check_password(state, s, username, password, client)
        if user is None:
            audit.record(s, username[:64], "login.failed", detail=client)
            s.commit()
            raise HTTPException(401, "wrong user name or password")
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        s.add(WebSession(token_hash=token_hash(cookie), csrf=csrf, user_id=user.id,
                         expires_at=datetime.now(UTC) + timedelta(days=7)))
        s.execute(delete(LoginFailure).where(LoginFailure.key == rl_key))
        s.commit()
    return cookie, csrf


@router.post("/login")
def login(request: Request, response: Response, body: LoginIn) -> dict:
    state = _state(request)
    cookie, csrf = login_user(state, request, body.username, body.password)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=state.settings.secure_cookies, max_age=7 * 86400)
    return {"username": body.username, "csrf": csrf}


@router.post("/logout")
def logout(request: Request, response: Response) -> dict:
    state = _state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with state.db.session() as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == token_hash(cookie)))
            s.commit()
    response.delete_cookie(SESSION_COOKIE)
    return {"ok": True}


@router.get("/audit")
def get_audit(request: Request, channel: str = "", limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict]:
    state = _state(request)
    ident = _ident(request)
    require_user(ident)
    if channel:
        _channel(state, ident, channel, "manage")
    elif not ident.is_admin:
        raise HTTPException(403, "the whole audit log is for admins; pass ?channel= for yours")
    with state.db.session() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if channel:
            stmt = stmt.where(AuditEvent.channel == channel)
        rows = s.scalars(stmt).all()
    return [
        {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "channel": e.channel,
         "target": e.target, "detail": e.detail}
        for e in rows
    ]


class PasswordIn(BaseModel):
    old: str = ""
    new: str = Field(min_length=8, max_length=1024)


@router.post("/me/password")
def change_password(request: Request, body: PasswordIn) -> dict:
    """A user changes their own password (the old one is required unless it was never set)."""
    state = _state(request)
    ident = _changing(request)
    user = require_user(ident, "manage")
    with state.db.session() as s:
        row = s.get(User, user.id)
        if row.password_hash and not verify_password(row.password_hash, body.old):
            raise HTTPException(403, "the old password is wrong")
        row.password_hash = hash_password(body.new)
        audit.record(s, ident.name, "user.password", target=user.username)
        s.commit()
    forget_cached_credentials()
    return {"ok": True}
