"""The solver's view of the channels: records looked up by name, channel priority applied.

Channels arrive as record sequences or `RecordSource`s in priority order. A sequence is
grouped by name once; a `RecordSource` is asked per name, so only names the search reaches
are ever loaded. Virtual packages and installed records join as extra candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from naja.solve.request import ChannelPriority, RecordSource
from naja.specs.records import PackageRecord


class ListSource:
    """A `RecordSource` over an in-memory list of records."""

    __slots__ = ("_by_name",)

    def __init__(self, records: Iterable[Any]) -> None:
        by_name: dict[str, list[Any]] = {}
        for rec in records:
            lst = by_name.get(rec.name)
            if lst is None:
                by_name[rec.name] = [rec]
            else:
                lst.append(rec)
        self._by_name = by_name

    def by_name(self, name: str) -> Sequence[Any]:
        return self._by_name.get(name, ())

    def names(self) -> Iterable[str]:
        return self._by_name.keys()


def as_source(channel: Sequence[Any] | RecordSource) -> RecordSource:
    if hasattr(channel, "by_name"):
        return channel  # type: ignore[return-value]
    return ListSource(channel)  # type: ignore[arg-type]


def virtual_record(item: Any) -> Any:
    """A virtual package as a record: `"__glibc=2.17=0"` or anything with name/version."""
    if isinstance(item, str):
        parts = item.split("=")
        version = parts[1] if len(parts) > 1 and parts[1] else "0"
        build = parts[2] if len(parts) > 2 and parts[2] else "0"
        return PackageRecord(name=parts[0], version=version, build=build, channel="@virtual")
    if isinstance(item, PackageRecord):
        return item
    return PackageRecord(
        name=str(item.name),
        version=str(item.version),
        build=str(getattr(item, "build", None) or getattr(item, "build_string", "") or "0"),
        channel="@virtual",
    )


class Candidate:
    """One record the solver may pick, with where it comes from."""

    __slots__ = ("channel_rank", "installed", "record", "virtual")

    def __init__(self, record: Any, channel_rank: int, installed: bool, virtual: bool) -> None:
        self.record = record
        self.channel_rank = channel_rank
        self.installed = installed
        self.virtual = virtual


class Index:
    """Candidates per package name, as the solver will see them."""

    __slots__ = ("_installed", "_sources", "_virtual", "priority")

    def __init__(
        self,
        channels: Sequence[Sequence[Any] | RecordSource],
        virtual_packages: Sequence[Any] = (),
        installed: Sequence[Any] = (),
        priority: ChannelPriority = ChannelPriority.STRICT,
    ) -> None:
        self._sources = [as_source(c) for c in channels]
        self._virtual: dict[str, list[Any]] = {}
        for item in virtual_packages:
            rec = virtual_record(item)
            self._virtual.setdefault(rec.name, []).append(rec)
        self._installed: dict[str, Any] = {rec.name: rec for rec in installed}
        self.priority = priority

    def is_virtual(self, name: str) -> bool:
        return name.startswith("__")

    def candidates(self, name: str) -> list[Candidate]:
        """Every record of `name` the solver may choose from, unordered."""
        if self.is_virtual(name):
            # Virtual packages describe the machine: only what was detected can be "installed".
            return [Candidate(r, 0, True, True) for r in self._virtual.get(name, ())]
        out: list[Candidate] = []
        for rank, src in enumerate(self._sources):
            recs = src.by_name(name)
            if not recs:
                continue
            out.extend(Candidate(r, rank, False, False) for r in recs)
            if self.priority is ChannelPriority.STRICT:
                break
        inst = self._installed.get(name)
        if inst is not None:
            for cand in out:
                r = cand.record
                if r.version == inst.version and r.build == inst.build:
                    cand.installed = True
                    break
            else:
                # Installed but gone from the channels: still a valid choice (it is there).
                out.append(Candidate(inst, len(self._sources), True, False))
        return out

    def virtual_names(self) -> list[str]:
        return list(self._virtual)

    def installed(self) -> dict[str, Any]:
        return self._installed

    def all_names(self) -> set[str]:
        names: set[str] = set(self._virtual) | set(self._installed)
        for src in self._sources:
            names.update(src.names())
        return names
