"""What a caller hands the solver (`SolveRequest`) and what it gets back (`Solution`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class ChannelPriority(StrEnum):
    """conda's `channel_priority` setting."""

    # A name found in a higher-priority channel hides that name in every lower one.
    STRICT = "strict"
    # All channels count, but a higher-priority channel's record beats any version elsewhere.
    FLEXIBLE = "flexible"
    # Channels are merged; only versions, builds and timestamps decide.
    DISABLED = "disabled"


class Job(StrEnum):
    """What the request asks for (micromamba's create/install, update, remove)."""

    INSTALL = "install"
    UPDATE = "update"
    REMOVE = "remove"


class RecordSource(Protocol):
    """One channel's records, looked up by package name (so loading can be lazy)."""

    def by_name(self, name: str) -> Sequence[Any]:
        """Every record of `name` in this channel (all subdirs), any order."""
        ...

    def names(self) -> Iterable[str]:
        """Every package name the channel has (used to suggest close names)."""
        ...


@dataclass(slots=True)
class SolveRequest:
    """A request to the solver.

    `channels` are in priority order, highest first; each is a sequence of records or a
    `RecordSource`. `virtual_packages` are `"__glibc=2.17=0"` strings or records. `installed`
    are the records already in the prefix; `pins` are match specs an installed package must
    keep matching. `specs` are the packages to install / update / remove depending on `job`.
    """

    specs: Sequence[Any]
    channels: Sequence[Sequence[Any] | RecordSource] = ()
    virtual_packages: Sequence[Any] = ()
    installed: Sequence[Any] = ()
    pins: Sequence[Any] = ()
    channel_priority: ChannelPriority | str = ChannelPriority.STRICT
    job: Job | str = Job.INSTALL
    update_all: bool = False
    force_reinstall: bool = False
    no_deps: bool = False
    only_deps: bool = False
    # Give up (raise) past this many conflicts; None means never.
    max_conflicts: int | None = None


@dataclass(slots=True)
class Solution:
    """The environment the request leads to, and how it differs from the installed one.

    `records` is the whole resulting environment (installed packages that stay included),
    sorted by name; `to_link` / `to_unlink` are the changes against `SolveRequest.installed`.
    """

    records: list[Any]
    to_link: list[Any] = field(default_factory=list)
    to_unlink: list[Any] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
