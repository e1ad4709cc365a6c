"""Loads channel x subdir indexes in priority order (local `file://` channels read directly)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from naja.repodata.errors import ChannelNotFound
from naja.specs.channel import Channel
from naja.specs.platform import Platform
from naja.specs.records import RepoDataRecord
from naja.specs.repodata import load_repodata
from naja.specs.url import url_to_path


@dataclass(slots=True)
class SubdirIndex:
    """The records of one channel's subdir."""

    channel: Channel
    subdir: str
    records: list[RepoDataRecord]


def _read_local(directory: Path) -> bytes | None:
    zst = directory / "repodata.json.zst"
    if zst.is_file():
        import zstandard

        with zst.open("rb") as fh:
            return zstandard.ZstdDecompressor().stream_reader(fh).read()
    plain = directory / "repodata.json"
    if plain.is_file():
        return plain.read_bytes()
    return None


def load_indexes(
    channels: Sequence[Channel], platforms: Iterable[Platform | str], *, offline: bool = False
) -> list[SubdirIndex]:
    """One SubdirIndex per channel and subdir (the platforms plus noarch), channel order kept.

    A channel missing one of the subdirs contributes no records for it; a channel missing all
    of them is an error, since that is almost always a wrong URL.
    """
    wanted = list(platforms)
    out: list[SubdirIndex] = []
    for channel in channels:
        found: list[SubdirIndex] = []
        subdirs = channel.subdirs(wanted)
        for subdir in subdirs:
            if channel.scheme != "file":
                raise ChannelNotFound(
                    f"channel {channel} is not a local channel; remote channels are not supported yet",
                    hint="use a file:// channel or a local path",
                )
            directory = Path(url_to_path(channel.platform_url(subdir)))
            data = _read_local(directory)
            if data is None:
                continue
            records = load_repodata(
                data, channel=channel.canonical_name, subdir=subdir.value,
                base_url=channel.platform_url(subdir),
            )
            found.append(SubdirIndex(channel, subdir.value, records))
        if not found:
            names = ", ".join(s.value for s in subdirs)
            raise ChannelNotFound(
                f"channel {channel} has no repodata.json for any of {names}",
                hint="check the channel URL; a local channel needs <channel>/<subdir>/repodata.json "
                "(run `naja index DIR` to make one)",
            )
        out.extend(found)
    return out
