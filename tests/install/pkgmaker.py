"""Builds small conda packages (`.conda` and `.tar.bz2`) and file:// channels for the tests."""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from naja.specs.repodata import load_repodata

PLACEHOLDER = "/opt/conda-build/placehold_" + "placehold_" * 20  # 227 chars, like conda-build


@dataclass
class Pkg:
    """A package to build: files maps a relative path to bytes (or ("symlink", target))."""

    name: str
    version: str = "1.0"
    build: str = "0"
    files: dict[str, bytes | tuple[str, str]] = field(default_factory=dict)
    depends: list[str] = field(default_factory=list)
    noarch: str | None = None
    prefix_files: dict[str, str] = field(default_factory=dict)  # path -> "text" | "binary"
    entry_points: list[str] = field(default_factory=list)
    extra_info: dict[str, bytes] = field(default_factory=dict)  # info/<name> -> bytes
    modes: dict[str, int] = field(default_factory=dict)
    subdir: str = "linux-64"
    legacy: bool = False  # info/files + info/has_prefix instead of info/paths.json

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    def index_json(self) -> dict:
        d = {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": 0,
            "depends": self.depends,
            "subdir": "noarch" if self.noarch else self.subdir,
        }
        if self.noarch:
            d["noarch"] = self.noarch
        return d

    def paths_json(self) -> dict:
        paths = []
        for p, content in sorted(self.files.items()):
            if isinstance(content, tuple):
                paths.append({"_path": p, "path_type": "softlink"})
                continue
            e = {
                "_path": p,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(content).hexdigest(),
                "size_in_bytes": len(content),
            }
            if p in self.prefix_files:
                e["file_mode"] = self.prefix_files[p]
                e["prefix_placeholder"] = PLACEHOLDER
            paths.append(e)
        return {"paths": paths, "paths_version": 1}

    def info_files(self) -> dict[str, bytes]:
        info = {"info/index.json": json.dumps(self.index_json()).encode()}
        if self.legacy:
            info["info/files"] = "".join(f"{p}\n" for p in sorted(self.files)).encode()
            info["info/has_prefix"] = "".join(
                f"{PLACEHOLDER} {mode} {p}\n" for p, mode in sorted(self.prefix_files.items())
            ).encode()
        else:
            info["info/paths.json"] = json.dumps(self.paths_json()).encode()
        if self.noarch == "python":
            info["info/link.json"] = json.dumps(
                {"noarch": {"type": "python", "entry_points": self.entry_points}, "package_metadata_version": 1}
            ).encode()
        for k, v in self.extra_info.items():
            info[f"info/{k}"] = v
        return info


def tar_bytes(members: dict[str, bytes | tuple[str, str]], modes: dict[str, int] | None = None) -> bytes:
    """A tar (GNU format) of `members`; tuples are (kind, target) for 'symlink'/'hardlink'."""
    buf = io.BytesIO()
    modes = modes or {}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, content in members.items():
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if isinstance(content, tuple):
                kind, target = content
                ti.type = {
                    "symlink": tarfile.SYMTYPE,
                    "hardlink": tarfile.LNKTYPE,
                    "chr": tarfile.CHRTYPE,
                    "fifo": tarfile.FIFOTYPE,
                    "dir": tarfile.DIRTYPE,
                }[kind]
                ti.linkname = target
                tf.addfile(ti)
            else:
                ti.size = len(content)
                ti.mode = modes.get(name, 0o755 if name.startswith("bin/") else 0o644)
                tf.addfile(ti, io.BytesIO(content))
    return buf.getvalue()


def _members(pkg: Pkg) -> tuple[dict, dict]:
    files = {p: (("symlink", c[1]) if isinstance(c, tuple) else c) for p, c in pkg.files.items()}
    return files, pkg.info_files()


def write_conda(path: Path, pkg_tar: bytes, info_tar: bytes, dist: str) -> None:
    cctx = zstandard.ZstdCompressor(level=3)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(f"pkg-{dist}.tar.zst", cctx.compress(pkg_tar))
        zf.writestr(f"info-{dist}.tar.zst", cctx.compress(info_tar))


def build(pkg: Pkg, outdir: Path, fmt: str = ".conda") -> Path:
    files, info = _members(pkg)
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / f"{pkg.dist}{fmt}"
    if fmt == ".conda":
        write_conda(path, tar_bytes(files, pkg.modes), tar_bytes(info), pkg.dist)
    else:
        path.write_bytes(bz2.compress(tar_bytes({**info, **files}, pkg.modes)))
    return path


def make_channel(root: Path, pkgs: list[Pkg], fmt: str = ".conda") -> Path:
    """A file:// channel at `root` with linux-64 and noarch subdirs and their repodata.json."""
    repo: dict[str, dict] = {"linux-64": {}, "noarch": {}}
    for p in pkgs:
        sd = "noarch" if p.noarch else p.subdir
        f = build(p, root / sd, fmt)
        data = f.read_bytes()
        rec = dict(p.index_json())
        rec.update(
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data).hexdigest(),
            size=len(data),
        )
        repo[sd][f.name] = rec
    for sd, recs in repo.items():
        (root / sd).mkdir(parents=True, exist_ok=True)
        key = "packages.conda" if fmt == ".conda" else "packages"
        (root / sd / "repodata.json").write_text(json.dumps({"info": {"subdir": sd}, key: recs}))
    return root


def channel_records(root: Path) -> dict[str, object]:
    """name -> RepoDataRecord for every package of a channel made by make_channel."""
    out = {}
    for sd in ("linux-64", "noarch"):
        f = root / sd / "repodata.json"
        if f.exists():
            for r in load_repodata(f.read_bytes(), channel=root.as_uri(), subdir=sd):
                out[r.name] = r
    return out


def record_for_file(path: Path, channel_uri: str | None = None):
    """A RepoDataRecord for an existing package file (reads its info/index.json)."""
    from naja.install.archive import conda_members
    from naja.specs.records import RepoDataRecord

    data = path.read_bytes()
    if path.name.endswith(".conda"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _, info = conda_members(zf, path.name)
            raw = zstandard.ZstdDecompressor(max_window_size=1 << 31).stream_reader(zf.open(info)).read()
    else:
        raw = bz2.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        member = next(m for m in tf.getmembers() if m.name.lstrip("./") == "info/index.json")
        index = json.loads(tf.extractfile(member).read())
    index.pop("fn", None)
    index.update(
        fn=path.name,
        url=path.as_uri(),
        channel=channel_uri or path.parent.parent.as_uri(),
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data).hexdigest(),
        size=len(data),
    )
    index.setdefault("subdir", path.parent.name)
    import msgspec

    return msgspec.json.decode(json.dumps(index).encode(), type=RepoDataRecord)


def record_from_filename(path: Path):
    """A RepoDataRecord built from `name-version-build.ext` alone (for unreadable packages)."""
    import hashlib

    from naja.install.archive import strip_package_ext
    from naja.specs.records import RepoDataRecord

    name, version, build = strip_package_ext(path.name).rsplit("-", 2)
    data = path.read_bytes()
    return RepoDataRecord(
        name=name,
        version=version,
        build=build,
        fn=path.name,
        url=path.as_uri(),
        channel=path.parent.as_uri(),
        subdir="noarch",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
