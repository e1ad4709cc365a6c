"""Decoding channel indexes (repodata.json), package index.json and conda-meta prefix records.

`load_repodata` turns one subdir's repodata.json into `RepoDataRecord`s the way conda reads it:
`packages.conda` and `packages` both count, a `.conda` file hides the `.tar.bz2` of the same
package (its md5/size are kept as `legacy_bz2_*`), `removed` is ignored, records without a
`subdir` get the directory's, and `repodata_version: 2` may move the files to `info.base_url`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

import msgspec

from naja.errors import ParseError
from naja.specs.records import PackageRecord, PrefixRecord, RepoDataRecord, known_keys

__all__ = [
    "LazyRepoData",
    "dump_prefix_record",
    "finish_records",
    "group_file_names",
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
_LAX_REPODATA_DECODER = msgspec.json.Decoder(_RepoData, strict=False)


class _RawRepoData(msgspec.Struct, gc=False):
    info: _Info | None = None
    packages: dict[str, msgspec.Raw] | None = None
    packages_conda: dict[str, msgspec.Raw] | None = msgspec.field(
        default=None, name="packages.conda"
    )
    repodata_version: int | None = None


_RAW_DECODER = msgspec.json.Decoder(_RawRepoData)
_RECORD_DECODER = msgspec.json.Decoder(RepoDataRecord)


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
    except msgspec.ValidationError:
        # Hand-made indexes hold things like "build_number": "3"; read those as conda would.
        try:
            repo = _LAX_REPODATA_DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise _decode_error("repodata", data, err) from None
    except msgspec.DecodeError as err:
        raise _decode_error("repodata", data, err) from None
    subdir, files_url = _locate(repo, channel, subdir, base_url)
    return finish_records(
        repo.packages_conda or {},
        repo.packages or {},
        channel=channel,
        subdir=subdir,
        files_url=files_url,
    )


def _locate(
    repo: _RepoData | _RawRepoData, channel: str, subdir: str | None, base_url: str | None
) -> tuple[str, str]:
    """The subdir for records lacking one, and the URL their file names are relative to."""
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
    return subdir, files_url


def _hex(value: Any) -> Any:
    return value.hex() if value.__class__ is bytes else value


def finish_records(
    conda: Mapping[str, RepoDataRecord],
    legacy: Mapping[str, RepoDataRecord],
    *,
    channel: str,
    subdir: str,
    files_url: str,
    binary_hashes: bool = False,
) -> list[RepoDataRecord]:
    """Every record of `packages.conda` then `packages`, filled in with where it came from
    (`fn`, `url`, `channel`, a missing `subdir`), minus `.tar.bz2` twins of `.conda`s.

    `binary_hashes`: md5/sha256 arrive as raw bytes (CEP-16 shards) and are turned into hex.
    """
    out: list[RepoDataRecord] = []
    append = out.append
    for fn, rec in conda.items():
        if binary_hashes:
            rec.md5 = _hex(rec.md5)
            rec.sha256 = _hex(rec.sha256)
        rec.fn = fn
        rec.url = files_url + fn
        rec.channel = channel
        if rec.subdir is None:
            rec.subdir = subdir
        if legacy:
            twin = legacy.get(fn[:-6] + ".tar.bz2")
            if twin is not None:
                rec.legacy_bz2_md5 = _hex(twin.md5)
                rec.legacy_bz2_size = twin.size
        append(rec)
    for fn, rec in legacy.items():
        if conda and fn.endswith(".tar.bz2") and (fn[:-8] + ".conda") in conda:
            continue
        if binary_hashes:
            rec.md5 = _hex(rec.md5)
            rec.sha256 = _hex(rec.sha256)
        rec.fn = fn
        rec.url = files_url + fn
        rec.channel = channel
        if rec.subdir is None:
            rec.subdir = subdir
        append(rec)
    return out


def _name_of(fn: str) -> str:
    # name-version-build.ext: versions and builds hold no "-", names may.
    return fn.rsplit("-", 2)[0]


def group_file_names(
    conda: Iterable[str], legacy: Iterable[str]
) -> dict[str, tuple[list[str], list[str]]]:
    """Package name -> (its `.conda` file names, its `packages` file names), from the names."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for fn in conda:
        groups.setdefault(_name_of(fn), ([], []))[0].append(fn)
    for fn in legacy:
        groups.setdefault(_name_of(fn), ([], []))[1].append(fn)
    return groups


class LazyRepoData:
    """A repodata.json whose records are decoded per package name, on first request.

    The whole file is scanned once (cheap: records stay raw JSON); `records(name)` decodes only
    that name's entries, grouped by the name in their file names, and caches the result.
    """

    def __init__(
        self,
        data: bytes,
        *,
        channel: str,
        subdir: str | None = None,
        base_url: str | None = None,
    ) -> None:
        try:
            raw = _RAW_DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise _decode_error("repodata", data, err) from None
        self.channel = channel
        self.subdir, self._files_url = _locate(raw, channel, subdir, base_url)
        self._conda = raw.packages_conda or {}
        self._legacy = raw.packages or {}
        self._groups: dict[str, tuple[list[str], list[str]]] | None = None
        self._cache: dict[str, list[RepoDataRecord]] = {}

    def _index(self) -> dict[str, tuple[list[str], list[str]]]:
        groups = self._groups
        if groups is None:
            groups = self._groups = group_file_names(self._conda, self._legacy)
        return groups

    def package_names(self) -> list[str]:
        """Every package name in the file, sorted."""
        return sorted(self._index())

    def __len__(self) -> int:
        """How many records `all_records()` gives (a .tar.bz2 with a .conda twin not counted)."""
        conda = self._conda
        return len(conda) + sum(
            1
            for fn in self._legacy
            if not (conda and fn.endswith(".tar.bz2") and (fn[:-8] + ".conda") in conda)
        )

    def records(self, name: str) -> list[RepoDataRecord]:
        """The records of package `name` (empty if the channel has none)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        if self._groups is not None:
            group = self._groups.get(name)
        else:
            # One name asked before any listing: a prefix scan beats grouping every file name.
            prefix = name + "-"
            group = (
                [fn for fn in self._conda if fn.startswith(prefix) and _name_of(fn) == name],
                [fn for fn in self._legacy if fn.startswith(prefix) and _name_of(fn) == name],
            )
        if group is None or not (group[0] or group[1]):
            return []
        decode = _RECORD_DECODER.decode
        try:
            conda = {fn: decode(self._conda[fn]) for fn in group[0]}
            legacy = {fn: decode(self._legacy[fn]) for fn in group[1]}
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise ParseError("repodata", name, f"bad record: {err}") from None
        out = finish_records(
            conda, legacy, channel=self.channel, subdir=self.subdir, files_url=self._files_url
        )
        self._cache[name] = out
        return out

    def all_records(self) -> list[RepoDataRecord]:
        """Every record, decoded (prefer `load_repodata` when all are wanted from the start)."""
        out: list[RepoDataRecord] = []
        for name in self._index():
            out.extend(self.records(name))
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
