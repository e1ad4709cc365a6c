"""`conda-meta/history`: one block per transaction, in conda's format, so `conda list --revisions`
and friends understand environments naja changed."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable

from naja.specs.records import PackageRecord

HISTORY = "conda-meta/history"


def _dist_string(r: PackageRecord) -> str:
    channel = (r.channel or "").rstrip("/")
    if "://" in channel:
        channel = channel.rsplit("/", 1)[-1] or channel
    subdir = r.subdir or "noarch"
    return f"{channel}/{subdir}::{r.name}-{r.version}-{r.build}" if channel else f"{r.name}-{r.version}-{r.build}"


def history_block(
    removed: Iterable[PackageRecord],
    added: Iterable[PackageRecord],
    *,
    cmd: str | None = None,
    specs: Iterable[str] = (),
) -> str:
    from naja import __version__

    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    lines = [f"==> {stamp} <=="]
    lines.append(f"# cmd: {cmd or ' '.join(sys.argv)}")
    lines.append(f"# naja version: {__version__}")
    lines += [f"-{_dist_string(r)}" for r in removed]
    lines += [f"+{_dist_string(r)}" for r in added]
    specs = list(specs)
    if specs:
        lines.append("# update specs: " + repr(specs))
    return "\n".join(lines) + "\n"


def append_history(prefix: str, block: str) -> int:
    """Append a block; returns the file's size before, so a rollback can truncate it back."""
    path = os.path.join(prefix, HISTORY)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    try:
        before = os.fstat(fd).st_size
        os.write(fd, block.encode("utf-8"))
    finally:
        os.close(fd)
    return before


def history_size(prefix: str) -> int:
    try:
        return os.path.getsize(os.path.join(prefix, HISTORY))
    except OSError:
        return -1


def truncate_history(prefix: str, size: int) -> None:
    path = os.path.join(prefix, HISTORY)
    if size < 0:
        if os.path.exists(path):
            os.unlink(path)
        return
    if os.path.exists(path) and os.path.getsize(path) > size:
        os.truncate(path, size)
