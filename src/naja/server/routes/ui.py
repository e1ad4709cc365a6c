"""The web UI: server-rendered Jinja2 pages (no JavaScript build). Filled in by ui_pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

router = APIRouter()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    state = request.app.state.naja
    context.setdefault("ident", getattr(request.state, "ident", None))
    context.setdefault("nav_links", state.plugins.nav_links())
    return HTMLResponse(_env.get_template(template).render(request=request, **context), status)


def visible_channels(request: Request) -> list[dict]:
    from naja.server.routes.api import list_channels

    return list_channels(request)
