"""Where cached channel indexes live: `$NAJA_CACHE_DIR/index`, else `~/.cache/naja/index`."""

from __future__ import annotations

import os
from pathlib import Path


def index_cache_dir() -> Path:
    root = os.environ.get("NAJA_CACHE_DIR")
    if root:
        return Path(root) / "index"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "naja" / "index"
