"""Plugin hooks (pluggy): what a server plugin can change or add.

Plugins are modules or objects with `@hookimpl` functions, registered from the
`naja.server.plugins` entry point group or named with `--plugin MODULE`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import pluggy

PROJECT = "naja.server"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
BUILTIN = ["naja.server.plugins.download_stats", "naja.server.plugins.repodata_patch"]


class Spec:
    @hookspec
    def server_startup(self, state: Any) -> None:
        """Once per worker, after the database is ready."""

    @hookspec
    def post_upload(self, state: Any, channel: str, subdir: str, filename: str, user: str) -> None:
        """A package was stored and indexed."""

    @hookspec
    def patch_repodata(
        self, state: Any, channel: str, subdir: str, records: dict[str, dict]
    ) -> None:
        """Change records (file name -> record) before they are written to the index."""

    @hookspec
    def post_index(self, state: Any, channel: str, subdir: str, packages: int) -> None:
        """A subdir's index files were rewritten."""

    @hookspec
    def package_served(self, state: Any, channel: str, subdir: str, filename: str) -> None:
        """A package file was sent to a client."""

    @hookspec(firstresult=True)
    def authenticate(self, state: Any, token: str) -> Any:
        """An `auth.Identity` for a token naja does not know, or None."""

    @hookspec
    def routers(self, state: Any) -> list:
        """Extra FastAPI routers (API endpoints or web pages)."""

    @hookspec
    def nav_links(self, state: Any) -> list[tuple[str, str]]:
        """(title, url) entries added to the web UI's navigation bar."""

    @hookspec
    def package_panels(self, state: Any, channel: str, name: str) -> list[tuple[str, str]]:
        """(title, safe HTML) panels shown on a package page."""


class Plugins:
    """The plugin manager with one method per hook, bound to the server state."""

    def __init__(self, names: list[str] | None = None, *, builtin: bool = True) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(Spec)
        self.state: Any = None
        for name in [*(BUILTIN if builtin else []), *(names or [])]:
            if self.pm.get_plugin(name) is None:
                self.pm.register(importlib.import_module(name), name)
        for ep in entry_points(group="naja.server.plugins"):
            if self.pm.get_plugin(ep.name) is None:
                self.pm.register(ep.load(), ep.name)

    def register(self, plugin: object, name: str | None = None) -> None:
        self.pm.register(plugin, name)

    @property
    def hook(self):
        return self.pm.hook

    def authenticate(self, token: str):
        return self.pm.hook.authenticate(state=self.state, token=token)

    def nav_links(self) -> list[tuple[str, str]]:
        return [link for links in self.pm.hook.nav_links(state=self.state) for link in links]

    def package_panels(self, channel: str, name: str) -> list[tuple[str, str]]:
        return [
            p
            for panels in self.pm.hook.package_panels(state=self.state, channel=channel, name=name)
            for p in panels
        ]
