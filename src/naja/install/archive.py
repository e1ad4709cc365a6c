"""Opening conda package archives (`.conda`, `.tar.bz2`) and extracting them safely.

A package is extracted into a fresh temporary directory next to its destination and renamed
into place only when every member passed validation, so a rejected package leaves nothing.
"""

from __future__ import annotations

import bz2
import hashlib
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import zstandard

from naja.install.errors import BadPackageError, ChecksumMismatchError
from naja.install.tarstream import Extractor, TarFormatError

CHUNK = 1 << 20
# conda-forge compresses with zstd -19/-22 --long: allow windows up to 2 GiB when decoding.
_MAX_WINDOW = 1 << 31

CONDA_EXT = ".conda"
TAR_BZ2_EXT = ".tar.bz2"


def strip_package_ext(fn: str) -> str:
    """`numpy-2.0-py312_0.conda` -> `numpy-2.0-py312_0` (the extracted folder's name)."""
    for ext in (CONDA_EXT, TAR_BZ2_EXT):
        if fn.endswith(ext):
            return fn[: -len(ext)]
    raise ValueError(f"{fn!r} is not a conda package file name (.conda or .tar.bz2)")


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in large chunks (hashlib releases the GIL)."""
    h = hashlib.new(algorithm)
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify_checksums(
    path: str | os.PathLike[str], sha256: str | None, md5: str | None, *, package: str
) -> None:
    """Raise ChecksumMismatchError if the file does not match the expected digest.

    sha256 is checked when known (it is also the faster one here), else md5.
    """
    if sha256:
        got = file_digest(path, "sha256")
        if got != sha256.lower():
            raise ChecksumMismatchError(package, f"sha256 is {got}, the record says {sha256}")
    elif md5:
        got = file_digest(path, "md5")
        if got != md5.lower():
            raise ChecksumMismatchError(package, f"md5 is {got}, the record says {md5}")


def _zstd_chunks(stream) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor(max_window_size=_MAX_WINDOW)
    yield from dctx.read_to_iter(stream, read_size=CHUNK, write_size=CHUNK)


def _bz2_chunks(path: str) -> Iterator[bytes]:
    dec = bz2.BZ2Decompressor()
    fed = False
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(CHUNK):
            while chunk:
                fed = True
                out = dec.decompress(chunk)
                if out:
                    yield out
                if dec.eof:
                    # pbzip2 writes several concatenated streams.
                    chunk = dec.unused_data
                    dec = bz2.BZ2Decompressor()
                    fed = False
                else:
                    chunk = b""
    if fed and not dec.eof:
        raise TarFormatError("the bzip2 stream is truncated")


def conda_members(zf: zipfile.ZipFile, package: str) -> tuple[str | None, str]:
    """Names of the (pkg, info) tarballs inside a `.conda` zip, checking its layout."""
    names = zf.namelist()
    pkg = [n for n in names if n.startswith("pkg-") and n.endswith(".tar.zst")]
    info = [n for n in names if n.startswith("info-") and n.endswith(".tar.zst")]
    nested = [n for n in names if "/" in n]
    if nested and not info:
        raise BadPackageError(
            package,
            f"unexpected .conda layout: members are inside a folder ({nested[0]!r}); "
            "a .conda must hold info-*.tar.zst and pkg-*.tar.zst at the top of the zip",
            hint="the file was probably re-zipped by hand; download the original package",
        )
    if len(info) != 1 or len(pkg) > 1:
        raise BadPackageError(
            package,
            f"a .conda must hold exactly one info-*.tar.zst and one pkg-*.tar.zst, found {names}",
        )
    for name in (*pkg, *info):
        if zf.getinfo(name).flag_bits & 0x1:
            raise BadPackageError(package, f"{name} is encrypted")
    return (pkg[0] if pkg else None), info[0]


def extract_archive(
    archive: str | os.PathLike[str], dest: str | os.PathLike[str], *, digest_verified: bool = False
) -> list[str]:
    """Extract a package archive into `dest`, atomically: all of it or nothing.

    `dest` must not exist; the parent directory is used for the temporary folder. Returns the
    package-relative paths of the regular files and symlinks written. Raises BadPackageError.
    `digest_verified`: the caller checked the archive against its record's sha256/md5, so tar
    header checksums need not be recomputed (every member is still validated).
    """
    archive = os.fspath(archive)
    dest = os.fspath(dest)
    package = os.path.basename(archive)
    tmp = f"{dest}.naja-tmp-{uuid.uuid4().hex[:12]}"
    os.mkdir(tmp)
    try:
        ex = Extractor(tmp, header_checksums=not digest_verified)
        try:
            if archive.endswith(CONDA_EXT):
                with zipfile.ZipFile(archive) as zf:
                    pkg, info = conda_members(zf, package)
                    for name in (info, pkg):
                        if name is None:
                            continue
                        with zf.open(name) as stream:
                            ex.extract(_zstd_chunks(stream))
            elif archive.endswith(TAR_BZ2_EXT):
                ex.extract(_bz2_chunks(archive))
            else:
                raise BadPackageError(package, "unknown archive type (expected .conda or .tar.bz2)")
            ex.recheck_symlinks()
        except TarFormatError as e:
            raise BadPackageError(package, str(e)) from None
        except zipfile.BadZipFile as e:
            raise BadPackageError(package, f"not a valid zip file ({e})") from None
        except zstandard.ZstdError as e:
            raise BadPackageError(package, f"corrupt zstd stream ({e})") from None
        except (OSError, EOFError) as e:
            if isinstance(e, OSError) and e.errno is not None:
                raise
            raise BadPackageError(package, f"corrupt archive ({e})") from None
        if not os.path.isfile(os.path.join(tmp, "info", "index.json")):
            raise BadPackageError(package, "info/index.json is missing")
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [p for p, kind in ex.members if kind != "dir"]


def read_index_json(extracted: str | os.PathLike[str]) -> bytes:
    return Path(extracted, "info", "index.json").read_bytes()
