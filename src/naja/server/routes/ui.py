"""The web UI: server-rendered Jinja2 pages (no JavaScript build).

Browse and search channels and packages, a package page (versions, builds per platform,
dependencies, files, about), upload, members, API keys, sign in/out. Changes are HTML forms
carrying the session's CSRF token; the sign-in form uses a double-submit cookie instead
(there is no session yet). Plugins add links to the navigation bar and panels to package pages.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from naja.server.auth import (
    ROLES,
    SESSION_COOKIE,
    Identity,
    allowed,
    check_csrf,
    resolve,
)
from naja.server.models import ApiKey, Member, PackageFile
from naja.specs.version import Version

router = APIRouter()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
LOGIN_CSRF = "naja_login_csrf"


def _ident(request: Request) -> Identity:
    try:
        ident = resolve(request.app.state.naja, request)
    except HTTPException:
        ident = Identity()
    request.state.ident = ident
    return ident


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    state = request.app.state.naja
    ident = getattr(request.state, "ident", None) or _ident(request)
    context.setdefault("msg", request.query_params.get("msg", ""))
    return HTMLResponse(
        _env.get_template(template).render(
            request=request, ident=ident, nav_links=state.plugins.nav_links(), **context
        ),
        status,
    )


def _redirect(url: str, msg: str = "") -> RedirectResponse:
    if msg:
        url += ("&" if "?" in url else "?") + "msg=" + quote(msg)
    return RedirectResponse(url, status_code=303)


def visible_channels(request: Request) -> list[dict]:
    from naja.server.routes.api import list_channels

    return list_channels(request)


def _version_key(v: str):
    try:
        return (0, Version(v))
    except Exception:
        return (1, v)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    _ident(request)
    return render(request, "index.html", channels=visible_channels(request), title="Channels")


@router.get("/ui/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "") -> HTMLResponse:
    from naja.server.routes.api import search

    _ident(request)
    try:
        hits = search(request, q[:200]) if q else []
    except HTTPException:
        hits = []
    return render(request, "search.html", q=q, hits=hits, title=f"Search {q}")


def _readable(request: Request, name: str):
    state = request.app.state.naja
    ident = _ident(request)
    info = state.channel(name)
    if info is None or not allowed(state, ident, info, "read"):
        raise HTTPException(404, "no such channel")
    return state, ident, info


@router.get("/ui/channels/{name}", response_class=HTMLResponse)
def channel_page(request: Request, name: str, q: str = "") -> HTMLResponse:
    state, ident, info = _readable(request, name)
    with state.db.session() as s:
        stmt = select(
            PackageFile.name, func.count(), func.max(PackageFile.created_at)
        ).where(PackageFile.channel_id == info.id)
        if q and all(ord(c) >= 32 for c in q):
            stmt = stmt.where(PackageFile.name.contains(q[:200], autoescape=True))
        rows = s.execute(stmt.group_by(PackageFile.name).order_by(PackageFile.name).limit(1000)).all()
        members = (
            [(m.user.username, m.role) for m in s.scalars(select(Member).where(Member.channel_id == info.id))]
            if ident.user
            else []
        )
    return render(
        request, "channel.html", channel=info, packages=rows, q=q, members=sorted(members),
        can_write=allowed(state, ident, info, "write"), can_manage=allowed(state, ident, info, "manage"),
        roles=ROLES, title=name,
    )


@router.get("/ui/channels/{name}/packages/{package}", response_class=HTMLResponse)
def package_page(request: Request, name: str, package: str) -> HTMLResponse:
    state, ident, info = _readable(request, name)
    with state.db.session() as s:
        rows = s.scalars(
            select(PackageFile).where(PackageFile.channel_id == info.id, PackageFile.name == package)
        ).all()
    if not rows:
        raise HTTPException(404, "no such package")
    by_version: dict[str, list] = defaultdict(list)
    for r in rows:
        by_version[r.version].append(r)
    versions = sorted(by_version, key=_version_key, reverse=True)
    latest = max(by_version[versions[0]], key=lambda r: r.created_at)
    record = json.loads(latest.record)
    return render(
        request, "package.html", channel=info, name=package, versions=versions,
        builds={v: sorted(by_version[v], key=lambda r: (r.subdir, r.filename)) for v in versions},
        latest=latest, record=record, about=json.loads(latest.about or "{}"),
        files=json.loads(latest.files or "[]"), panels=state.plugins.package_panels(name, package),
        can_write=allowed(state, ident, info, "write"), title=f"{package} · {name}",
    )


@router.post("/ui/channels/{name}/upload")
async def upload_form(
    request: Request, name: str, file: UploadFile, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    from naja.server.uploads import receive_to_file, store_package

    state = request.app.state.naja
    ident = await run_in_threadpool(_ident, request)
    check_csrf(request, ident, csrf_token)
    if ident.user is None:
        return _redirect("/ui/login", "sign in to upload")

    async def chunks():
        while chunk := await file.read(1 << 20):
            yield chunk

    try:
        path = await receive_to_file(state, chunks())
    except HTTPException as exc:
        return _redirect(f"/ui/channels/{name}", f"upload refused: {exc.detail}")
    try:
        stored = await run_in_threadpool(store_package, state, ident, name, path, file.filename or "")
    except HTTPException as exc:
        return _redirect(f"/ui/channels/{name}", f"upload refused: {exc.detail}")
    finally:
        path.unlink(missing_ok=True)
    return _redirect(f"/ui/channels/{name}", f"uploaded {stored['subdir']}/{stored['filename']}")


@router.post("/ui/channels/{name}/members")
def members_form(
    request: Request, name: str, username: Annotated[str, Form()], role: Annotated[str, Form()] = "member",
    remove: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from naja.server.channels import set_member

    state, ident, info = _readable(request, name)
    check_csrf(request, ident, csrf_token)
    if not allowed(state, ident, info, "manage"):
        raise HTTPException(403, "only owners manage members")
    try:
        set_member(state, ident, info, username, None if remove else role)
    except HTTPException as exc:
        return _redirect(f"/ui/channels/{name}", str(exc.detail))
    return _redirect(f"/ui/channels/{name}", f"removed {username}" if remove else f"{username} is now {role}")


@router.post("/ui/channels/{name}/packages/{subdir}/{filename}/delete")
def delete_package_form(
    request: Request, name: str, subdir: str, filename: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    from naja.server.uploads import delete_package

    state, ident, _ = _readable(request, name)
    check_csrf(request, ident, csrf_token)
    delete_package(state, ident, name, subdir, filename)
    return _redirect(f"/ui/channels/{name}", f"deleted {subdir}/{filename}")


@router.post("/ui/channels/{name}/settings")
def settings_form(
    request: Request, name: str, private: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from naja.server import audit
    from naja.server.models import Channel

    state, ident, info = _readable(request, name)
    check_csrf(request, ident, csrf_token)
    if not allowed(state, ident, info, "manage"):
        raise HTTPException(403, "only owners change a channel's settings")
    with state.db.session() as s:
        ch = s.get(Channel, info.id)
        ch.private = bool(private)
        ch.description = description[:2000]
        audit.record(s, ident.name, "channel.update", name, detail=f"private={ch.private}")
        s.commit()
    state.forget_channel(name)
    return _redirect(f"/ui/channels/{name}", "settings saved")


@router.post("/ui/channels/{name}/sync")
def sync_form(request: Request, name: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    from naja.server.mirror import start_sync

    state, ident, info = _readable(request, name)
    check_csrf(request, ident, csrf_token)
    if not allowed(state, ident, info, "manage"):
        raise HTTPException(403, "only owners start a sync")
    job = start_sync(state, ident, info, None, wait=False)
    return _redirect(f"/ui/channels/{name}", f"sync started (job {job['job']})")


@router.post("/ui/channels")
def new_channel_form(
    request: Request, name: Annotated[str, Form()], private: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "", mode: Annotated[str, Form()] = "",
    upstream: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from naja.server.channels import create_channel

    state = request.app.state.naja
    ident = _ident(request)
    check_csrf(request, ident, csrf_token)
    try:
        create_channel(
            state, ident, name, private=bool(private), description=description,
            mode=mode, upstream=upstream.strip(),
        )
    except HTTPException as exc:
        return _redirect("/", str(exc.detail))
    return _redirect(f"/ui/channels/{name}", "channel created")


@router.get("/ui/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    from naja.server.models import AuditEvent, User

    state = request.app.state.naja
    ident = _ident(request)
    if not ident.is_admin:
        raise HTTPException(403, "administrators only")
    with state.db.session() as s:
        users = s.scalars(select(User).order_by(User.username)).all()
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)).all()
    return render(request, "admin.html", users=users, events=events, title="Administration")


@router.post("/ui/admin/users")
def admin_new_user(
    request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
    is_admin: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from pydantic import ValidationError

    from naja.server.routes.api import UserIn, add_user

    ident = _ident(request)
    check_csrf(request, ident, csrf_token)
    try:
        body = UserIn(username=username, password=password, is_admin=bool(is_admin))
        add_user(request.app.state.naja, ident, body)
    except ValidationError as exc:
        return _redirect("/ui/admin", exc.errors()[0]["msg"])
    except HTTPException as exc:
        return _redirect("/ui/admin", str(exc.detail))
    return _redirect("/ui/admin", f"created {username}")


@router.get("/ui/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    _ident(request)
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", login_csrf=token, title="Sign in")
    resp.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", max_age=3600)
    return resp


@router.post("/ui/login")
def login_form(
    request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from naja.server.routes.api import login_user

    state = request.app.state.naja
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")
    try:
        cookie, _ = login_user(state, request, username, password)
    except HTTPException as exc:
        return _redirect("/ui/login", str(exc.detail))
    resp = _redirect("/", f"signed in as {username}")
    resp.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax",
                    secure=state.settings.secure_cookies, max_age=7 * 86400)
    resp.delete_cookie(LOGIN_CSRF)
    return resp


@router.post("/ui/logout")
def logout_form(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    from naja.server.routes.api import logout

    ident = _ident(request)
    check_csrf(request, ident, csrf_token)
    resp = _redirect("/", "signed out")
    logout(request, resp)
    return resp


@router.get("/ui/keys", response_class=HTMLResponse)
def keys_page(request: Request) -> Response:
    state = request.app.state.naja
    ident = _ident(request)
    if ident.user is None:
        return _redirect("/ui/login", "sign in to manage API keys")
    with state.db.session() as s:
        keys = s.scalars(
            select(ApiKey).where(ApiKey.user_id == ident.user.id, ApiKey.revoked.is_(False)).order_by(ApiKey.id)
        ).all()
    return render(request, "keys.html", keys=keys, new_key=None, title="API keys")


@router.post("/ui/keys", response_class=HTMLResponse)
def keys_form(
    request: Request, description: Annotated[str, Form()] = "", scopes: Annotated[list[str], Form()] = (),
    channel: Annotated[str, Form()] = "", expires_in_days: Annotated[str, Form()] = "",
    revoke_id: Annotated[str, Form(alias="revoke")] = "", csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from naja.server.routes.api import KeyIn, create_key, revoke

    state = request.app.state.naja
    ident = _ident(request)
    check_csrf(request, ident, csrf_token)
    if ident.user is None:
        return _redirect("/ui/login")
    if revoke_id:
        try:
            revoke(state, ident, int(revoke_id))
        except (HTTPException, ValueError) as exc:
            return _redirect("/ui/keys", str(getattr(exc, "detail", exc)))
        return _redirect("/ui/keys", "key revoked")
    try:
        days = float(expires_in_days) if expires_in_days else None
        created = create_key(
            state, ident,
            KeyIn(description=description, scopes=list(scopes) or ["read"], channel=channel or None,
                  expires_in_days=days),
        )
    except (HTTPException, ValueError) as exc:
        return _redirect("/ui/keys", str(getattr(exc, "detail", exc)))
    with state.db.session() as s:
        keys = s.scalars(
            select(ApiKey).where(ApiKey.user_id == ident.user.id, ApiKey.revoked.is_(False)).order_by(ApiKey.id)
        ).all()
    return render(request, "keys.html", keys=keys, new_key=created["key"], title="API keys")
