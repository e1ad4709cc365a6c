"""A third-party style plugin for the plugin tests: every hook naja server offers."""

from __future__ import annotations

from fastapi import APIRouter

from naja.server.auth import ALL_SCOPES, Identity, Principal
from naja.server.hooks import hookimpl

EVENTS: list[tuple] = []
router = APIRouter()


@router.get("/api/sample/events")
def events() -> list:
    return [list(e) for e in EVENTS]


@router.get("/ui/sample")
def page():
    from fastapi.responses import HTMLResponse

    return HTMLResponse("<h1>Sample plugin page</h1>")


@hookimpl
def post_upload(state, channel, subdir, filename, user):
    EVENTS.append(("upload", channel, subdir, filename, user))


@hookimpl
def post_index(state, channel, subdir, packages):
    EVENTS.append(("index", channel, subdir, packages))


@hookimpl
def authenticate(state, token):
    # An external identity provider: tokens "sso-<name>" belong to the admin account.
    if token.startswith("sso-"):
        return Identity(Principal(1, "admin", True), ALL_SCOPES, None, "plugin")
    return None


@hookimpl
def routers(state):
    return [router]


@hookimpl
def nav_links(state):
    return [("Sample", "/ui/sample")]
