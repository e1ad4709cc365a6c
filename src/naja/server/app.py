"""The application factory: `create_app(settings)` for tests and `naja server`'s workers."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from naja import __version__
from naja.server.bootstrap import prepare
from naja.server.hooks import Plugins
from naja.server.limits import BodyLimit
from naja.server.settings import Settings
from naja.server.state import ServerState


def create_app(settings: Settings, plugins: Plugins | None = None, *, say=print) -> FastAPI:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = ServerState(settings, plugins)
    prepare(state, say=say)
    app = FastAPI(title="naja server", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.state.naja = state
    app.add_middleware(BodyLimit, limit=settings.max_upload)

    from naja.server.routes import api, files, ui

    app.include_router(api.router)
    app.include_router(files.router)
    app.include_router(ui.router)
    for routers in state.plugins.hook.routers(state=state):
        for router in routers:
            app.include_router(router)
    state.plugins.hook.server_startup(state=state)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # Browsers on UI pages get an HTML page; API clients keep FastAPI's JSON errors.
        if request.url.path == "/" or request.url.path.startswith("/ui/"):
            from naja.server.routes.ui import render

            request.state.ident = None
            return render(
                request, "error.html", exc.status_code,
                code=exc.status_code, detail=exc.detail, title=str(exc.status_code),
            )
        return await http_exception_handler(request, exc)

    @app.get("/health", include_in_schema=False)
    def health() -> dict:
        # The worker's pid lets a load balancer check (and tests see) which worker answered.
        return {"ok": True, "version": __version__, "worker": os.getpid()}

    return app


def create_app_from_env() -> FastAPI:
    """Worker entry point (`uvicorn --factory`): settings come from NAJA_SERVER_* variables."""
    return create_app(Settings.from_env())
