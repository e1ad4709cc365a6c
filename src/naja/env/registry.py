"""Which environments exist: those under the root prefix's envs/ and those naja created elsewhere.

naja records every prefix it creates in `<root>/environments.txt` (like conda's
`~/.conda/environments.txt`) so `naja env list` finds `-p` environments too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from naja.env.prefix import root_prefix


def _registry(environ: Mapping[str, str] | None) -> Path:
    return root_prefix(environ) / "environments.txt"


def register(prefix: Path, environ: Mapping[str, str] | None = None) -> None:
    """Remember `prefix` (idempotent)."""
    path = _registry(environ)
    known = set(_read(path))
    if str(prefix) in known:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{prefix}\n")


def _read(path: Path) -> list[str]:
    try:
        return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except FileNotFoundError:
        return []


def list_environments(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Every existing environment: root prefix envs/ first, then registered ones."""
    root = root_prefix(environ)
    found: dict[str, None] = {}
    envs = root / "envs"
    if envs.is_dir():
        for entry in sorted(os.scandir(envs), key=lambda e: e.name):
            if os.path.isdir(os.path.join(entry.path, "conda-meta")):
                found[entry.path] = None
    for line in _read(_registry(environ)):
        if os.path.isdir(os.path.join(line, "conda-meta")):
            found[line] = None
    return [Path(p) for p in found]
