"""`repodata.json.zck` (zchunk) next to every index, for clients that fetch deltas.

Opt-in (`naja server --plugin naja.server.plugins.zchunk`): it runs the `zck` tool from
zchunk after each index rewrite, so the server needs that tool installed.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from naja.server.hooks import hookimpl

log = logging.getLogger(__name__)
ZCK = "repodata.json.zck"


@hookimpl
def post_index(state, channel: str, subdir: str, packages: int) -> None:
    tool = shutil.which("zck")
    if tool is None:
        log.warning("the zchunk plugin is enabled but the zck tool is not installed")
        return
    data = state.storage.get_bytes(f"{channel}/{subdir}/repodata.json")
    if data is None:
        return
    with tempfile.TemporaryDirectory(dir=state.settings.data_dir / "tmp") as d:
        src = Path(d, "repodata.json")
        src.write_bytes(data)
        out = Path(d, ZCK)
        subprocess.run([tool, "-o", str(out), str(src)], check=True, capture_output=True, timeout=300)
        state.storage.put_bytes(f"{channel}/{subdir}/{ZCK}", out.read_bytes(), "application/octet-stream")
