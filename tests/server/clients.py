"""The real clients the server must satisfy: py-rattler and the naja CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path


def naja(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120):
    base = {**os.environ, "NAJA_NO_PROGRESS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "naja", *args], capture_output=True, text=True, timeout=timeout,
        env={**base, **(env or {})}, cwd=cwd,
    )


def naja_create(tmp: Path, channel_url: str, *specs: str, platform: str = "linux-64", env=None):
    """`naja create` with a private cache and config, so nothing leaks between tests."""
    env = {
        "NAJA_CACHE_DIR": str(tmp / "naja-cache"),
        "NAJA_PKGS_DIRS": str(tmp / "naja-pkgs"),
        "NAJA_ROOT_PREFIX": str(tmp / "naja-root"),
        "CONDARC": str(tmp / "condarc-none"),
        "HOME": str(tmp / "home"),
        "NAJA_AUTH_FILE": str(tmp / "auth.json"),
        **(env or {}),
    }
    prefix = tmp / "naja-env"
    res = naja("create", "-y", "-p", str(prefix), "--override-channels", "-c", channel_url,
               "--platform", platform, *specs, env=env)
    return res, prefix


def rattler_install(tmp: Path, channel_url: str, *specs: str, platforms=("linux-64", "noarch")) -> tuple[list, Path]:
    import rattler

    prefix = tmp / "rattler-env"

    async def go():
        records = await rattler.solve(
            [channel_url], list(specs), platforms=list(platforms),
            gateway=rattler.Gateway(cache_dir=tmp / "rattler-gw"),
        )
        await rattler.install(records, target_prefix=prefix, cache_dir=tmp / "rattler-pkgs", show_progress=False)
        return records

    return asyncio.run(go()), prefix
