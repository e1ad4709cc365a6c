"""`SubdirIndex`: one channel x subdir's records, looked up by package name.

Records may be in memory already, held as raw msgpack from the parsed cache (decoded per name
on first use), or in shards not fetched yet (fetched on first use). `records` gives every
record that is loaded or loadable without the network: a full index's every record, a sharded
index's records of the names fetched so far. `ChannelSource` puts a channel's subdirs
together as the solver's `RecordSource`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from typing import Any

import msgspec

from naja.repodata.parsed import decode_group
from naja.repodata.records import group_by_name
from naja.specs.channel import Channel
from naja.specs.records import RepoDataRecord

Fetcher = Callable[[str], list[RepoDataRecord]]


class SubdirIndex:
    """The records of one channel's subdir (see the module docstring)."""

    __slots__ = (
        "_all",
        "_complete",
        "_fetch",
        "_groups",
        "_names",
        "_raw",
        "_run_exports",
        "channel",
        "form",
        "subdir",
    )

    def __init__(
        self,
        channel: Channel,
        subdir: str,
        records: Sequence[RepoDataRecord] | None = None,
        *,
        groups: dict[str, list[RepoDataRecord]] | None = None,
        raw: Mapping[str, msgspec.Raw] | None = None,
        names: Iterable[str] | None = None,
        fetch: Fetcher | None = None,
        form: str = "memory",
        complete: bool = False,
    ) -> None:
        self.channel = channel
        self.subdir = subdir
        # How the index was obtained: "local", "json", "zst", "zck", "shards", "parsed-cache".
        self.form = form
        self._groups: dict[str, list[RepoDataRecord]] = (
            groups if groups is not None else group_by_name(records or ())
        )
        self._raw = raw
        # Every name the subdir has; a mapping or set is kept as given (a shard index has
        # tens of thousands of names: copying them costs more than the lookups it saves).
        self._names: Collection[str] | None = (
            names
            if names is None or isinstance(names, (Mapping, Set))
            else dict.fromkeys(names)
        )
        self._fetch = fetch
        # `fetch` serves every name from local data (a lazily read full index), so `records`
        # may decode them all.
        self._complete = complete
        self._all: list[RepoDataRecord] | None = list(records) if records is not None else None
        self._run_exports: Mapping[str, dict[str, Any]] | None = None

    def attach_run_exports(self, run_exports: Mapping[str, dict[str, Any]]) -> None:
        """Fill `run_exports` (from run_exports.json) on records lacking it, now and later."""
        self._run_exports = run_exports
        for group in self._groups.values():
            self._fill(group)

    def _fill(self, group: list[RepoDataRecord]) -> None:
        table = self._run_exports
        if table:
            for rec in group:
                if rec.run_exports is None and rec.fn in table:
                    rec.run_exports = table[rec.fn]

    @property
    def records(self) -> list[RepoDataRecord]:
        if self._all is None:
            if self._raw is not None:
                for name in self._raw:
                    self.by_name(name)
            elif self._complete:
                for name in self._names or ():
                    self.by_name(name)
            self._all = [rec for group in self._groups.values() for rec in group]
        return self._all

    def by_name(self, name: str) -> list[RepoDataRecord]:
        """Every record of package `name` (decoded or fetched on first request)."""
        group = self._groups.get(name)
        if group is not None:
            return group
        if self._raw is not None:
            blob = self._raw.get(name)
            group = decode_group(blob) if blob is not None else []
        elif self._fetch is not None and self._names is not None and name in self._names:
            group = self._fetch(name)
        else:
            return []
        self._fill(group)
        self._groups[name] = group
        self._all = None
        return group

    def names(self) -> list[str]:
        """Every package name the subdir has (a sharded one's too, fetched or not)."""
        if self._names is not None:
            return list(self._names)
        if self._raw is not None:
            return list(self._raw)
        return list(self._groups)

    def loaded_names(self) -> list[str]:
        return list(self._groups)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"SubdirIndex({self.channel}, {self.subdir!r}, form={self.form!r})"


class ChannelSource:
    """A channel's subdirs as one `RecordSource` (`by_name`, `names`) for the solver."""

    def __init__(self, channel: Channel, subdirs: Sequence[SubdirIndex]) -> None:
        self.channel = channel
        self.subdirs = list(subdirs)

    def by_name(self, name: str) -> list[RepoDataRecord]:
        if len(self.subdirs) == 1:
            return self.subdirs[0].by_name(name)
        out: list[RepoDataRecord] = []
        for sub in self.subdirs:
            out.extend(sub.by_name(name))
        return out

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for sub in self.subdirs:
            seen.update(dict.fromkeys(sub.names()))
        return list(seen)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for sub in self.subdirs:
            yield from sub.records

    def __len__(self) -> int:
        return sum(len(sub.records) for sub in self.subdirs)


def channel_sources(indexes: Sequence[SubdirIndex]) -> list[ChannelSource]:
    """One ChannelSource per channel, in the order the indexes came (channel priority)."""
    by_channel: dict[Channel, list[SubdirIndex]] = {}
    for index in indexes:
        by_channel.setdefault(index.channel, []).append(index)
    return [ChannelSource(ch, subs) for ch, subs in by_channel.items()]
