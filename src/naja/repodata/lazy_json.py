"""A full repodata.json read lazily: records stay raw JSON until their package name is asked.

Used when the caller named its specs, so only the names the solve visits are decoded (a
conda-forge-sized index has 300k records; a typical solve needs a few thousand). Scanning the
file once costs a fraction of decoding every record.
"""

from __future__ import annotations

from urllib.parse import urljoin

import msgspec

from naja.repodata.records import finish
from naja.specs.records import RepoDataRecord


class _Info(msgspec.Struct, gc=False):
    subdir: str | None = None
    base_url: str | None = None


class _Raw(msgspec.Struct, gc=False):
    info: _Info | None = None
    packages: dict[str, msgspec.Raw] = {}
    packages_conda: dict[str, msgspec.Raw] = msgspec.field(default={}, name="packages.conda")
    repodata_version: int | None = None


_RAW = msgspec.json.Decoder(_Raw)
_RECORD = msgspec.json.Decoder(RepoDataRecord)


def _name_of(fn: str) -> str:
    # <name>-<version>-<build>.<ext>: versions and builds hold no "-", names may.
    return fn.rsplit("-", 2)[0]


class LazyJsonIndex:
    """The raw entries of one repodata.json, grouped by package name (see module doc)."""

    def __init__(self, data: bytes, *, channel: str, subdir: str, files_url: str) -> None:
        raw = _RAW.decode(data)
        if raw.info is not None and raw.info.base_url and (raw.repodata_version or 0) >= 2:
            # CEP-15: base_url may be absolute or relative to the index's own location.
            files_url = urljoin(files_url, raw.info.base_url)
        self.files_url = files_url if files_url.endswith("/") else files_url + "/"
        self.channel = channel
        self.subdir = subdir
        self._conda = raw.packages_conda
        self._legacy = raw.packages
        groups: dict[str, tuple[list[str], list[str]]] = {}
        for fn in self._conda:
            groups.setdefault(_name_of(fn), ([], []))[0].append(fn)
        for fn in self._legacy:
            groups.setdefault(_name_of(fn), ([], []))[1].append(fn)
        self.groups = groups

    def names(self) -> list[str]:
        return list(self.groups)

    def records(self, name: str) -> list[RepoDataRecord]:
        group = self.groups.get(name)
        if group is None:
            return []
        decode = _RECORD.decode
        conda = {fn: decode(self._conda[fn]) for fn in group[0]}
        legacy = {fn: decode(self._legacy[fn]) for fn in group[1]}
        return finish(
            conda, legacy, channel=self.channel, subdir=self.subdir, files_url=self.files_url
        )
