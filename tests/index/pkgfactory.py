"""Small hand-made package archives (good and hostile) for index and server tests."""

from __future__ import annotations

import bz2
import io
import json
import tarfile
import zipfile
from pathlib import Path

import zstandard


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def index_json(name: str, version: str, build: str, subdir: str = "noarch", **extra) -> bytes:
    body = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": [],
        "subdir": subdir,
        **extra,
    }
    if subdir == "noarch":
        body.setdefault("noarch", "generic")
    return json.dumps(body).encode()


def make_package(
    path: Path,
    name: str = "demo",
    version: str = "1.0",
    build: str = "0",
    *,
    subdir: str = "noarch",
    files: dict[str, bytes] | None = None,
    extra_members: list[tuple[tarfile.TarInfo, bytes | None]] | None = None,
    index: bytes | None = None,
    **extra,
) -> Path:
    """A valid `.conda` or `.tar.bz2` (by `path`'s suffix) unless told otherwise."""
    files = {f"share/{name}/hello.txt": f"hello from {name} {version}\n".encode()} if files is None else files
    paths = {
        "paths": [{"_path": p, "path_type": "hardlink", "size_in_bytes": len(d)} for p, d in files.items()],
        "paths_version": 1,
    }
    info = [
        _file("info/index.json", index or index_json(name, version, build, subdir, **extra)),
        _file("info/paths.json", json.dumps(paths).encode()),
        _file("info/about.json", json.dumps({"summary": f"{name} for tests", "license": "MIT"}).encode()),
    ]
    pkg = [_file(p, d) for p, d in files.items()] + list(extra_members or [])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".conda"):
        stem = path.name[: -len(".conda")]
        cctx = zstandard.ZstdCompressor(level=3)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
            zf.writestr(f"pkg-{stem}.tar.zst", cctx.compress(_tar(pkg)))
            zf.writestr(f"info-{stem}.tar.zst", cctx.compress(_tar(info)))
    else:
        path.write_bytes(bz2.compress(_tar(info + pkg)))
    return path


def member(name: str, data: bytes = b"x", *, kind: bytes = tarfile.REGTYPE, link: str = "", size: int | None = None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if size is None and kind == tarfile.REGTYPE else (size or 0)
    return info, (data if kind == tarfile.REGTYPE else None)


def zip_bomb(path: Path, name: str = "bomb", unpacked: int = 64 << 20) -> Path:
    """A `.tar.bz2` whose single member is `unpacked` zero bytes (a few hundred bytes packed)."""
    info, data = _file("info/index.json", index_json(name, "1.0", "0"))
    head = info.tobuf(format=tarfile.PAX_FORMAT) + data + b"\0" * (-len(data) % 512)
    big = tarfile.TarInfo("share/zeros.bin")
    big.size = unpacked
    comp = bz2.BZ2Compressor()
    out = [comp.compress(head), comp.compress(big.tobuf(format=tarfile.PAX_FORMAT))]
    chunk = b"\0" * (1 << 20)
    for _ in range(unpacked // len(chunk)):
        out.append(comp.compress(chunk))
    out.append(comp.compress(b"\0" * 1024))
    out.append(comp.flush())
    path.write_bytes(b"".join(out))
    return path
