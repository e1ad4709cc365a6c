"""`run_exports.json`: the run_exports of every package of a subdir, kept beside repodata.

conda-index writes it (`{"packages": {fn: {"run_exports": {...}}}, "packages.conda": ...}`) so
a builder learns what a host dependency adds to the run requirements without downloading the
package. It is fetched (`.zst` first), HTTP-cached and negatively cached like the index, and
its entries fill `run_exports` on records that lack it.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import msgspec
import zstandard

from naja.repodata import http
from naja.repodata.context import Context
from naja.repodata.shards import zstd_decompress
from naja.repodata.state import NEGATIVE_PROBE_SECONDS, SubdirState, store_answer
from naja.specs.channel import Channel
from naja.specs.platform import Platform
from naja.specs.url import url_to_path

FILES = ("run_exports.json.zst", "run_exports.json")


class _Entry(msgspec.Struct):
    run_exports: dict[str, Any] | None = None


class _File(msgspec.Struct):
    packages: dict[str, _Entry] = {}
    packages_conda: dict[str, _Entry] = msgspec.field(default={}, name="packages.conda")


_DECODER = msgspec.json.Decoder(_File)


def _decode(file: str, data: bytes) -> dict[str, dict[str, Any]] | None:
    try:
        raw = zstd_decompress(data) if file.endswith(".zst") else data
        parsed = _DECODER.decode(raw)
    except (zstandard.ZstdError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    out = {fn: e.run_exports for fn, e in parsed.packages.items() if e.run_exports}
    out.update({fn: e.run_exports for fn, e in parsed.packages_conda.items() if e.run_exports})
    return out


def load_run_exports(
    ctx: Context, channel: Channel, subdir: Platform, state: SubdirState
) -> dict[str, dict[str, Any]] | None:
    """fn -> run_exports of the subdir, or None when the channel has no run_exports.json."""
    if channel.is_local:
        folder = Path(url_to_path(channel.platform_url(subdir)))
        for file in FILES:
            with contextlib.suppress(OSError):
                return _decode(file, (folder / file).read_bytes())
        return None
    directory = ctx.subdir_dir(channel, subdir)
    base = channel.platform_url(subdir, with_token=True)
    now = time.time()
    fs = state.run_exports
    if fs is not None and not fs.matches(directory):
        fs = state.run_exports = None
    if fs is not None and (ctx.offline or fs.is_fresh(ctx.ttl, now)):
        with contextlib.suppress(OSError):
            return _decode(fs.file, (directory / fs.file).read_bytes())
    if ctx.offline or (fs is None and state.no_run_exports_until > now):
        return None
    files = (fs.file,) if fs is not None else FILES
    for file in files:
        url = base + file
        conditional = fs is not None
        ans = http.get(
            ctx.downloader(),
            url,
            etag=fs.etag if conditional and fs else None,
            last_modified=fs.last_modified if conditional and fs else None,
        )
        if ans.not_modified and fs is not None:
            fs.fetched_at = time.time()
            ctx.save(directory, state)
            with contextlib.suppress(OSError):
                return _decode(fs.file, (directory / fs.file).read_bytes())
            return None
        if ans.ok:
            state.run_exports = store_answer(url, directory, file, ans)
            ctx.save(directory, state)
            return _decode(file, ans.body)
    state.run_exports = None
    state.no_run_exports_until = now + NEGATIVE_PROBE_SECONDS
    ctx.save(directory, state)
    return None
