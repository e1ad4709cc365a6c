"""Reading and validating one package archive (`.conda` or `.tar.bz2`) without extracting it.

Everything is streamed: the archive is hashed in one pass and its tarballs are read member by
member. A package is untrusted input, so every member is checked the way the installer checks
it (no absolute paths, no `..`, no links leaving the package, no device files) and the total
unpacked size is capped *before* the data is decompressed, which defeats zip and tar bombs.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import os
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

from naja.index.errors import InvalidPackageError
from naja.install.tarstream import TarFormatError, check_symlink, clean_member_path

CHUNK = 1 << 20
MAX_UNPACKED = 8 << 30
MAX_MEMBERS = 500_000
# Metadata files we keep in memory; a larger one is refused rather than buffered.
_INFO_FILES = {"info/index.json", "info/about.json", "info/paths.json"}
_MAX_INFO_FILE = 64 << 20
_MAX_WINDOW = 1 << 31
PACKAGE_EXTS = (".conda", ".tar.bz2")


@dataclass
class PackageMeta:
    """What a channel needs to know about one package file."""

    filename: str
    size: int
    md5: str
    sha256: str
    index: dict[str, Any]
    about: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.index["name"]

    @property
    def version(self) -> str:
        return self.index["version"]

    @property
    def build(self) -> str:
        return self.index["build"]

    @property
    def subdir(self) -> str | None:
        return self.index.get("subdir")

    def record(self) -> dict[str, Any]:
        """The repodata entry: index.json plus the archive's checksums and size."""
        rec = dict(self.index)
        rec["md5"] = self.md5
        rec["sha256"] = self.sha256
        rec["size"] = self.size
        return rec


def is_package_filename(fn: str) -> bool:
    return fn.endswith(PACKAGE_EXTS) and not fn.startswith(".")


def split_filename(fn: str) -> tuple[str, str, str, str]:
    """`a-b-1.0-py_0.conda` -> ("a-b", "1.0", "py_0", ".conda"); ValueError if it is not one."""
    for ext in PACKAGE_EXTS:
        if fn.endswith(ext):
            stem = fn[: -len(ext)]
            name, _, rest = stem.rpartition("-")
            name2, _, version = name.rpartition("-")
            if not name2 or not version or not rest:
                break
            return name2, version, rest, ext
    raise ValueError(f"{fn!r} is not a conda package file name (name-version-build.conda)")


def check_filename(fn: str) -> None:
    """Refuse names that could escape a directory or confuse a URL."""
    if (
        not fn
        or fn != os.path.basename(fn)
        or "/" in fn
        or "\\" in fn
        or fn.startswith(".")
        or any(ord(c) < 32 or c in '<>:"|?*#%' for c in fn)
        or len(fn) > 255
    ):
        raise InvalidPackageError(fn or "''", "the file name is not a safe package file name")
    try:
        split_filename(fn)
    except ValueError as exc:
        raise InvalidPackageError(fn, str(exc)) from None


def _hashes(path: Path) -> tuple[int, str, str]:
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return size, md5.hexdigest(), sha.hexdigest()


class _Scan:
    """Walks tar streams, checking members and keeping the small info files."""

    def __init__(self, fn: str, max_unpacked: int, only_info: bool) -> None:
        self.fn = fn
        self.max_unpacked = max_unpacked
        self.only_info = only_info
        self.total = 0
        self.count = 0
        self.info: dict[str, bytes] = {}
        self.files: list[str] = []
        self.symlinks: dict[str, str] = {}

    def tar(self, fileobj: Any) -> None:
        with tarfile.open(fileobj=fileobj, mode="r|") as tf:
            for m in tf:
                self.member(tf, m)

    def member(self, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        self.count += 1
        if self.count > MAX_MEMBERS:
            raise InvalidPackageError(self.fn, f"more than {MAX_MEMBERS} members")
        try:
            path = clean_member_path(m.name.encode("utf-8", "surrogateescape"))
        except TarFormatError as exc:
            raise InvalidPackageError(self.fn, str(exc)) from None
        if m.isdir():
            return
        if m.issym():
            if not m.linkname:
                # Early .conda conversions of defaults packages hold symlinks with an empty
                # target: broken, but pointing nowhere cannot escape the package either.
                return
            try:
                check_symlink(path, m.linkname, self.symlinks)
            except TarFormatError as exc:
                raise InvalidPackageError(self.fn, str(exc)) from None
            self.symlinks[path] = m.linkname
        elif m.islnk():
            try:
                clean_member_path(m.linkname.encode("utf-8", "surrogateescape"))
            except TarFormatError as exc:
                raise InvalidPackageError(self.fn, f"hard link {path!r}: {exc}") from None
        elif not m.isreg():
            raise InvalidPackageError(self.fn, f"member {path!r} is a device, fifo or socket")
        # The declared size is checked before tarfile decompresses the data behind it.
        self.total += max(m.size, 0)
        if self.total > self.max_unpacked:
            raise InvalidPackageError(
                self.fn, f"unpacks to more than {self.max_unpacked} bytes (limit)"
            )
        if path.startswith("info/"):
            if path in _INFO_FILES and m.isreg():
                if m.size > _MAX_INFO_FILE:
                    raise InvalidPackageError(self.fn, f"{path} is too large")
                f = tf.extractfile(m)
                self.info[path] = f.read() if f else b""
        else:
            self.files.append(path)


def _json_object(fn: str, data: bytes | None, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise InvalidPackageError(fn, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidPackageError(fn, f"{what} is not a JSON object")
    return obj


def inspect_package(
    path: str | os.PathLike[str],
    filename: str | None = None,
    *,
    max_unpacked: int = MAX_UNPACKED,
    full: bool = True,
) -> PackageMeta:
    """Hash, read and validate a package file; raises InvalidPackageError.

    `filename` is the name the package will have in the channel (defaults to the path's).
    With `full=False` only the info part of a `.conda` is read (what `naja index` needs for
    trusted local files); the server always validates the whole archive.
    """
    path = Path(path)
    fn = filename or path.name
    check_filename(fn)
    size, md5, sha256 = _hashes(path)
    scan = _Scan(fn, max_unpacked, not full)
    try:
        if fn.endswith(".conda"):
            _scan_conda(path, fn, scan, full)
        else:
            with bz2.open(path, "rb") as f:
                scan.tar(f)
    except InvalidPackageError:
        raise
    except (
        OSError,
        EOFError,
        tarfile.TarError,
        zipfile.BadZipFile,
        zstandard.ZstdError,
        ValueError,
        RuntimeError,
    ) as exc:
        raise InvalidPackageError(fn, f"the archive does not open: {exc}") from None
    index = _json_object(fn, scan.info.get("info/index.json"), "info/index.json")
    if not index:
        raise InvalidPackageError(fn, "info/index.json is missing or empty")
    for key in ("name", "version", "build"):
        if not isinstance(index.get(key), str) or not index[key]:
            raise InvalidPackageError(fn, f"info/index.json has no {key!r}")
    name, version, build, _ = split_filename(fn)
    if (index["name"], index["version"], index["build"]) != (name, version, build):
        raise InvalidPackageError(
            fn,
            f"info/index.json says {index['name']}-{index['version']}-{index['build']}, "
            "which does not match the file name",
        )
    about = _json_object(fn, scan.info.get("info/about.json"), "info/about.json")
    files = scan.files
    paths_json = scan.info.get("info/paths.json")
    if not files and paths_json:
        # Only the info part was read: the file list comes from paths.json.
        paths = _json_object(fn, paths_json, "info/paths.json").get("paths") or []
        files = [p.get("_path", "") for p in paths if isinstance(p, dict)]
    return PackageMeta(fn, size, md5, sha256, index, about, files)


def _scan_conda(path: Path, fn: str, scan: _Scan, full: bool) -> None:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        info = [n for n in names if n.startswith("info-") and n.endswith(".tar.zst")]
        pkg = [n for n in names if n.startswith("pkg-") and n.endswith(".tar.zst")]
        if len(info) != 1 or len(pkg) > 1 or any("/" in n for n in names):
            raise InvalidPackageError(
                fn, "a .conda must hold one info-*.tar.zst and one pkg-*.tar.zst at its top"
            )
        for name in (*info, *pkg):
            zi = zf.getinfo(name)
            if zi.flag_bits & 0x1:
                raise InvalidPackageError(fn, f"{name} is encrypted")
        parts = [info[0], *(pkg if full else [])]
        for name in parts:
            dctx = zstandard.ZstdDecompressor(max_window_size=_MAX_WINDOW)
            with zf.open(name) as raw, dctx.stream_reader(raw) as stream:
                scan.tar(stream)
