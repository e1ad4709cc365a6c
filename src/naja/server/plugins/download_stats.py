"""Download statistics: counts every package file served and shows the counts in the web UI
(a panel on package pages and a `/ui/stats/CHANNEL` page) and at `/api/stats/CHANNEL`."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from naja.server.hooks import hookimpl
from naja.server.models import DownloadCount

router = APIRouter()


def counts(state, channel: str, name: str | None = None) -> list[tuple[str, str, int]]:
    with state.db.session() as s:
        stmt = select(DownloadCount.subdir, DownloadCount.filename, DownloadCount.count).where(
            DownloadCount.channel == channel
        )
        if name is not None:
            stmt = stmt.where(DownloadCount.filename.startswith(f"{name}-", autoescape=True))
        return [tuple(r) for r in s.execute(stmt.order_by(DownloadCount.count.desc())).all()]


@hookimpl
def package_served(state, channel: str, subdir: str, filename: str) -> None:
    where = (
        (DownloadCount.channel == channel)
        & (DownloadCount.subdir == subdir)
        & (DownloadCount.filename == filename)
    )
    with state.db.session() as s:
        for _ in range(3):
            done = s.execute(update(DownloadCount).where(where).values(count=DownloadCount.count + 1))
            if done.rowcount:
                s.commit()
                return
            s.add(DownloadCount(channel=channel, subdir=subdir, filename=filename, count=1))
            try:
                s.commit()
                return
            except IntegrityError:
                # Another worker created the row first: count on it.
                s.rollback()


@hookimpl
def package_panels(state, channel: str, name: str) -> list[tuple[str, str]]:
    rows = counts(state, channel, name)
    total = sum(c for _, _, c in rows)
    items = "".join(
        f"<li><code>{html.escape(sd)}/{html.escape(fn)}</code>: {c}</li>" for sd, fn, c in rows
    )
    return [("Downloads", f"<p class='downloads'>{total} downloads</p><ul>{items}</ul>")]


@hookimpl
def nav_links(state) -> list[tuple[str, str]]:
    return [("Downloads", "/ui/stats")]


@router.get("/api/stats/{channel}")
def stats_api(request: Request, channel: str) -> dict:
    from naja.server.routes.api import _channel, _ident

    state = request.app.state.naja
    _channel(state, _ident(request), channel)
    rows = counts(state, channel)
    return {"channel": channel, "total": sum(r[2] for r in rows),
            "files": [{"subdir": sd, "filename": fn, "count": c} for sd, fn, c in rows]}


@router.get("/ui/stats", response_class=HTMLResponse)
def stats_page(request: Request) -> HTMLResponse:
    from naja.server.routes.ui import render, visible_channels

    state = request.app.state.naja
    rows = []
    for ch in visible_channels(request):
        rows += [(ch["name"], sd, fn, c) for sd, fn, c in counts(state, ch["name"])]
    return render(request, "stats.html", rows=rows, title="Downloads")


@hookimpl
def routers(state) -> list:
    return [router]
