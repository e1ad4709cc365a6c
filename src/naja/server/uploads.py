"""Accepting a package: validate it completely, store it, record it, re-index its subdir.

Nothing is stored for a bad upload: the archive is checked in a temporary file first, and the
database row is inserted (claiming the file name) before the file is written, so two uploads
of one name cannot overwrite each other's file.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from naja.index.errors import InvalidPackageError
from naja.index.package_meta import check_filename, inspect_package
from naja.server import audit
from naja.server.auth import Identity, require
from naja.server.channels import create_channel
from naja.server.models import PackageFile

_SUBDIR = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def temp_dir(state) -> Path:
    path = state.settings.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def receive_to_file(state, chunks: AsyncIterator[bytes]) -> Path:
    """Spool an upload body to a temporary file, stopping at the size limit (413)."""
    limit = state.settings.max_upload
    fd, name = tempfile.mkstemp(dir=temp_dir(state), suffix=".upload")
    path = Path(name)
    total = 0
    try:
        with open(fd, "wb") as f:
            async for chunk in chunks:
                total += len(chunk)
                if total > limit:
                    raise HTTPException(413, f"the upload is larger than the limit of {limit} bytes")
                f.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def store_package(
    state, ident: Identity, channel_name: str, path: Path, filename: str, *, force: bool = False,
    sha256: str | None = None,
) -> dict:
    """Validate and publish one package file; returns what was stored."""
    started = time.perf_counter()
    info = state.channel(channel_name, fresh=True)
    if info is None:
        if not ident.is_admin:
            raise HTTPException(404, f"channel {channel_name!r} not found")
        info = create_channel(state, ident, channel_name)
    require(state, ident, info, "write")
    if info.mode:
        raise HTTPException(409, f"{info.name} is a {info.mode} of {info.upstream}; upload there")
    return ingest(state, ident, info, path, filename, force=force, sha256=sha256, started=started)


def ingest(
    state, ident: Identity, info, path: Path, filename: str, *, force: bool = False,
    sha256: str | None = None, reindex: bool = True, started: float | None = None,
) -> dict:
    """Validate and store a package in a channel the caller may write to (no mode checks)."""
    started = started or time.perf_counter()
    try:
        check_filename(filename)
        if path.stat().st_size > state.settings.max_upload:
            raise HTTPException(413, "the package is larger than the upload limit")
        meta = inspect_package(path, filename, max_unpacked=state.settings.max_unpacked)
    except InvalidPackageError as exc:
        raise HTTPException(422, str(exc)) from None
    if sha256 and sha256.lower() != meta.sha256:
        raise HTTPException(422, f"sha256 of the upload is {meta.sha256}, the client said {sha256}")
    subdir = meta.subdir or ("noarch" if meta.index.get("noarch") else "")
    # Any safe subdir name is fine (test channels use `linux-fake`); known platforms are not a
    # closed list in conda either.
    if not subdir:
        raise HTTPException(422, "info/index.json has no subdir (and the package is not noarch)")
    if not _SUBDIR.match(subdir):
        raise HTTPException(422, f"info/index.json names an invalid subdir {subdir!r}")
    record = meta.record()
    record["subdir"] = subdir
    key = f"{info.name}/{subdir}/{filename}"
    with state.db.session() as s:
        row = s.scalar(_file_query(info.id, subdir, filename))
        if row is not None and not force:
            raise HTTPException(409, f"{subdir}/{filename} already exists in {info.name} (use force)")
        if row is None:
            row = PackageFile(channel_id=info.id, subdir=subdir, filename=filename)
            s.add(row)
        row.name, row.version, row.build = meta.name, meta.version, meta.build
        row.size, row.sha256, row.md5 = meta.size, meta.sha256, meta.md5
        row.record = json.dumps(record, sort_keys=True)
        row.about = json.dumps(meta.about)
        row.files = json.dumps(meta.files[:20000])
        row.uploader_id = ident.user.id if ident.user else None
        try:
            s.flush()
        except IntegrityError:
            raise HTTPException(409, f"{subdir}/{filename} is being uploaded by someone else") from None
        audit.record(s, ident.name, "package.upload", info.name, f"{subdir}/{filename}", meta.sha256)
        state.storage.put_file(key, path)
        s.commit()
    if reindex:
        state.indexer.regenerate(info, subdir)
    state.plugins.hook.post_upload(
        state=state, channel=info.name, subdir=subdir, filename=filename, user=ident.name
    )
    return {
        "channel": info.name,
        "subdir": subdir,
        "filename": filename,
        "sha256": meta.sha256,
        "size": meta.size,
        "seconds": round(time.perf_counter() - started, 4),
    }


def _file_query(channel_id: int, subdir: str, filename: str):
    return select(PackageFile).where(
        PackageFile.channel_id == channel_id,
        PackageFile.subdir == subdir,
        PackageFile.filename == filename,
    )


def delete_package(state, ident: Identity, channel_name: str, subdir: str, filename: str) -> None:
    info = state.channel(channel_name, fresh=True)
    if info is None:
        raise HTTPException(404, f"channel {channel_name!r} not found")
    require(state, ident, info, "write")
    with state.db.session() as s:
        row = s.scalar(_file_query(info.id, subdir, filename))
        if row is None:
            raise HTTPException(404, f"{subdir}/{filename} not found in {info.name}")
        s.delete(row)
        audit.record(s, ident.name, "package.delete", info.name, f"{subdir}/{filename}")
        s.commit()
    # The index stops pointing at the file before the file goes.
    state.indexer.regenerate(info, subdir)
    state.storage.delete(f"{info.name}/{subdir}/{filename}")
