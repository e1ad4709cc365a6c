"""Record helpers shared by every index form: the shard record type, grouping by name, and
the package names records depend on.

Filling in where records came from (`fn`, `url`, `channel`, `subdir`; `.tar.bz2` twins of
`.conda`s dropped; shard hashes as hex) is `naja.specs.repodata.finish_records`.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable
from typing import Any

import msgspec

from naja.specs.records import RepoDataRecord


class ShardRecord(RepoDataRecord, kw_only=True, gc=False):
    """A record as a CEP-16 shard stores it: md5 and sha256 as bytes (hex in older writers)."""

    md5: Any = None
    sha256: Any = None


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


# Cached: the same few thousand dependency strings recur across every record of a channel.
@functools.lru_cache(maxsize=1 << 16)
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
    deps: set[str] = set().union(*map(operator.attrgetter(field), records))
    names = set(map(dependency_name, deps))
    names.discard(None)
    return names  # type: ignore[return-value]


RECORD_LIST = msgspec.msgpack.Decoder(list[RepoDataRecord])
