"""Decoding channel indexes (repodata.json), package index.json and conda-meta prefix records.

`load_repodata` turns one subdir's repodata.json into `RepoDataRecord`s the way conda reads it:
`packages.conda` and `packages` both count, a `.conda` file hides the `.tar.bz2` of the same
package (its md5/size are kept as `legacy_bz2_*`), `removed` is ignored, records without a
`subdir` get the directory's, and `repodata_version: 2` may move the files to `info.base_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import msgspec

from naja.errors import ParseError
from naja.specs.records import PackageRecord, PrefixRecord, RepoDataRecord, known_keys

__all__ = [
    "dump_prefix_record",
    "load_index_json",
    "load_prefix_record",
    "load_repodata",
]


class _Info(msgspec.Struct, gc=False):
    subdir: str | None = None
    base_url: str | None = None


class _RepoData(msgspec.Struct, gc=False):
    info: _Info | None = None
    packages: dict[str, RepoDataRecord] | None = None
    packages_conda: dict[str, RepoDataRecord] | None = msgspec.field(
        default=None, name="packages.conda"
    )
    repodata_version: int | None = None


_REPODATA_DECODER = msgspec.json.Decoder(_RepoData)


def _decode_error(kind: str, data: bytes, err: Exception) -> ParseError:
    text = data[:200].decode("utf-8", "replace")
    return ParseError(kind, text, str(err))


def _subdir_url(channel: str, subdir: str) -> str:
    base = channel if "://" in channel else f"https://conda.anaconda.org/{channel}"
    return f"{base.rstrip('/')}/{subdir}/"


def load_repodata(
    data: bytes,
    *,
    channel: str,
    subdir: str | None = None,
    base_url: str | None = None,
) -> list[RepoDataRecord]:
    """All records of one subdir's repodata.json, `.conda` entries first.

    `channel` is stored on every record; `base_url` is the directory the package files live in
    (default: `<channel>/<subdir>/`, with a bare channel name read as an anaconda.org channel).
    """
    try:
        repo = _REPODATA_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise _decode_error("repodata", data, err) from None
    info = repo.info
    if subdir is None:
        subdir = (info.subdir if info else None) or "noarch"
    files_url = base_url or _subdir_url(channel, subdir)
    if not files_url.endswith("/"):
        files_url += "/"
    if info is not None and info.base_url and (repo.repodata_version or 0) >= 2:
        # CEP-15: base_url may be absolute or relative to the repodata's own location.
        files_url = urljoin(files_url, info.base_url)
        if not files_url.endswith("/"):
            files_url += "/"

    conda = repo.packages_conda or {}
    legacy = repo.packages or {}
    out: list[RepoDataRecord] = []
    append = out.append
    for fn, rec in conda.items():
        rec.fn = fn
        rec.url = files_url + fn
        rec.channel = channel
        if rec.subdir is None:
            rec.subdir = subdir
        if legacy:
            twin = legacy.get(fn[:-6] + ".tar.bz2")
            if twin is not None:
                rec.legacy_bz2_md5 = twin.md5
                rec.legacy_bz2_size = twin.size
        append(rec)
    for fn, rec in legacy.items():
        if conda and fn.endswith(".tar.bz2") and (fn[:-8] + ".conda") in conda:
            continue
        rec.fn = fn
        rec.url = files_url + fn
        rec.channel = channel
        if rec.subdir is None:
            rec.subdir = subdir
        append(rec)
    return out


def _decode_with_extra(data: bytes, cls: type[PackageRecord], kind: str) -> Any:
    try:
        rec = msgspec.json.decode(data, type=cls)
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise _decode_error(kind, data, err) from None
    known = known_keys(cls)
    extra = {k: v for k, v in raw.items() if k not in known}
    if extra:
        rec.extra = extra
    return rec


def load_index_json(data: bytes) -> PackageRecord:
    """A package's info/index.json as a record (keys naja does not model kept in `extra`)."""
    return _decode_with_extra(data, PackageRecord, "index.json")


def load_prefix_record(data: bytes) -> PrefixRecord:
    """An installed package's conda-meta/<dist>.json."""
    return _decode_with_extra(data, PrefixRecord, "prefix record")


def dump_prefix_record(record: PrefixRecord) -> bytes:
    """conda-meta JSON as conda writes it: sorted keys, two-space indent, trailing newline."""
    encoded = msgspec.json.encode(record.to_dict(), order="sorted")
    return msgspec.json.format(encoded, indent=2) + b"\n"
