"""Writes `.conda` (a zip of zstd tarballs) and `.tar.bz2` packages from a staged directory.

Archives are reproducible: members sorted, owner root:0, mtimes clamped to the build
timestamp, so the same inputs give the same bytes. `info/` files go first (and into the
info tarball of a `.conda`) so readers can get the metadata without the payload.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import zstandard


def _tar_members(
    root: Path, paths: Iterable[str], mtime: int
) -> Iterable[tuple[tarfile.TarInfo, Path]]:
    for rel in paths:
        full = root / rel
        info = tarfile.TarInfo(rel)
        st = full.lstat()
        info.mtime = min(int(st.st_mtime), mtime)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if full.is_symlink():
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(full)
            info.mode = 0o777
        else:
            info.size = st.st_size
            info.mode = st.st_mode & 0o7777
        yield info, full


def _write_tar(
    fileobj: io.BufferedIOBase | io.RawIOBase, root: Path, paths: list[str], mtime: int, mode: str
) -> None:
    with tarfile.open(fileobj=fileobj, mode=mode, format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        for info, full in _tar_members(root, paths, mtime):
            if info.isfile():
                with full.open("rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)


def split_info(paths: list[str]) -> tuple[list[str], list[str]]:
    info = sorted(p for p in paths if p.startswith("info/"))
    pkg = sorted(p for p in paths if not p.startswith("info/"))
    return info, pkg


def write_conda(staged: Path, paths: list[str], out: Path, *, mtime: int, level: int = 19) -> Path:
    """`<out>` as a .conda: metadata.json, info-<dist>.tar.zst, pkg-<dist>.tar.zst (stored)."""
    dist = out.name[: -len(".conda")]
    info, pkg = split_info(paths)
    tmp = out.with_name(out.name + ".naja-tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_zinfo("metadata.json", mtime), json.dumps({"conda_pkg_format_version": 2}))
        for name, members in ((f"pkg-{dist}.tar.zst", pkg), (f"info-{dist}.tar.zst", info)):
            buf = io.BytesIO()
            cctx = zstandard.ZstdCompressor(level=level, threads=-1)
            with cctx.stream_writer(buf, closefd=False) as zw:
                _write_tar(zw, staged, members, mtime, "w|")
            zf.writestr(_zinfo(name, mtime), buf.getvalue())
    os.replace(tmp, out)
    return out


def write_tar_bz2(staged: Path, paths: list[str], out: Path, *, mtime: int) -> Path:
    """`<out>` as a .tar.bz2 with info/ first."""
    info, pkg = split_info(paths)
    tmp = out.with_name(out.name + ".naja-tmp")
    with tmp.open("wb") as fh:
        _write_tar(fh, staged, info + pkg, mtime, "w:bz2")
    os.replace(tmp, out)
    return out


def _zinfo(name: str, mtime: int) -> zipfile.ZipInfo:
    import time

    zi = zipfile.ZipInfo(name, date_time=time.gmtime(max(mtime, 315532800))[:6])
    zi.compress_type = zipfile.ZIP_STORED
    zi.external_attr = 0o644 << 16
    return zi
