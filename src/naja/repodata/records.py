"""Turning decoded index entries into `RepoDataRecord`s, grouped by package name.

Shared by every index form: a `.conda` entry hides the `.tar.bz2` of the same package (whose
md5/size are kept as `legacy_bz2_*`), records get `fn`, `url`, `channel` and, when missing,
the directory's `subdir`; shard records carry md5/sha256 as raw bytes and get them as hex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from naja.specs.records import RepoDataRecord


class ShardRecord(RepoDataRecord, kw_only=True, gc=False):
    """A record as a CEP-16 shard stores it: md5 and sha256 as bytes (hex in older writers)."""

    md5: Any = None
    sha256: Any = None


def _hex(value: Any) -> Any:
    return value.hex() if value.__class__ is bytes else value


def finish(
    conda: Mapping[str, RepoDataRecord],
    legacy: Mapping[str, RepoDataRecord],
    *,
    channel: str,
    subdir: str,
    files_url: str,
    binary_hashes: bool = False,
) -> list[RepoDataRecord]:
    """Every record of `packages.conda` then `packages`, minus `.tar.bz2` twins of `.conda`s."""
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


def group_by_name(records: Iterable[RepoDataRecord]) -> dict[str, list[RepoDataRecord]]:
    groups: dict[str, list[RepoDataRecord]] = {}
    for rec in records:
        group = groups.get(rec.name)
        if group is None:
            groups[rec.name] = [rec]
        else:
            group.append(rec)
    return groups


# A dependency starts with its package name; the name ends at a blank or an operator.
_DEP_NAME_RE = re.compile(r"\s*([^\s=<>!~\[(,|]+)")


def dependency_name(dep: str) -> str | None:
    """The package name a `depends` entry refers to (`None` for virtual packages)."""
    m = _DEP_NAME_RE.match(dep)
    if m is None:
        return None
    name = m.group(1)
    if "::" in name:
        name = name.rpartition("::")[2]
    if not name or name.startswith("__"):
        return None
    return name.lower()


def dependency_names(records: Iterable[RepoDataRecord], field: str = "depends") -> set[str]:
    """Every package name the records depend on (or constrain, with `field="constrains"`),
    virtual packages left out."""
    deps: set[str] = set()
    for rec in records:
        deps.update(getattr(rec, field))
    names: set[str] = set()
    for dep in deps:
        name = dependency_name(dep)
        if name is not None:
            names.add(name)
    return names


RECORD_LIST = msgspec.msgpack.Decoder(list[RepoDataRecord])
