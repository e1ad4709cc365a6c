"""Channels: turning what a user types (`conda-forge`, a URL, a folder) into where packages live.

Parsing follows conda:

* a name (`conda-forge`, `bioconda/label/dev`) is looked up in `custom_channels`, else put under
  `channel_alias` (default `https://conda.anaconda.org/`);
* `pkgs/main`, `pkgs/r` and `pkgs/msys2` live on `https://repo.anaconda.com`, and the multichannel
  `defaults` expands to them (use `parse_channels`, as one name there means several channels);
* a URL (`https://`, `http://`, `file://`, `oci://`, `s3://`, ...) is kept as it is, and a path
  (`./chan`, `/abs/chan`, `~/chan`, `C:\\chan`) becomes a `file://` URL;
* a trailing known platform (`.../conda-forge/linux-64`) is split off as the channel's subdir, and
  a conda token (`/t/<token>/`) is split off and kept apart: it is never part of `base_url`,
  `str()` or `repr()`, only of the URLs asked for `with_token=True`.

`name` is conda's canonical name: the path for channels under the alias or a custom channel
(`conda-forge`, `pkgs/main`), the full URL (without credentials) for any other.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from naja.errors import ParseError
from naja.specs.platform import Platform
from naja.specs.url import join_url, path_to_url, redact_url, split_conda_token

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"
DEFAULT_CHANNEL = "conda-forge"
DEFAULTS_NAME = "defaults"
ANACONDA_REPO = "https://repo.anaconda.com"


def _default_channels() -> tuple[str, ...]:
    # conda adds msys2 to `defaults` only on Windows hosts.
    chans = (f"{ANACONDA_REPO}/pkgs/main", f"{ANACONDA_REPO}/pkgs/r")
    if sys.platform == "win32":
        chans += (f"{ANACONDA_REPO}/pkgs/msys2",)
    return chans


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """How channel names resolve to URLs (conda's `channel_alias`, `custom_channels`, ...).

    `custom_channels` maps a channel name to the location it lives under (the name is appended:
    `{"mine": "https://srv/conda"}` makes `mine` mean `https://srv/conda/mine`).
    `custom_multichannels` maps a name to the channels it expands to. `root_dir` anchors relative
    paths (default: the working directory at parse time). A config is read once when made:
    build a new one rather than changing its mappings afterwards.
    """

    channel_alias: str = DEFAULT_CHANNEL_ALIAS
    custom_channels: Mapping[str, str] = field(default_factory=dict)
    custom_multichannels: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_channels: Sequence[str] = field(default_factory=_default_channels)
    root_dir: str | None = None
    # Derived once (parsing a channel consults them every time).
    _multi: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _locations: dict[str, str] = field(init=False, repr=False, compare=False)
    _alias: tuple[str, str | None] = field(init=False, repr=False, compare=False)
    _alias_location: str = field(init=False, repr=False, compare=False)
    _custom_locations: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)
    _key: tuple[object, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        multi = {DEFAULTS_NAME: tuple(self.default_channels)}
        multi.update({k: tuple(v) for k, v in self.custom_multichannels.items()})
        locations: dict[str, str] = {}
        for url in self.default_channels:
            base, _token = split_conda_token(url.rstrip("/"))
            parts = urlsplit(base)
            path = parts.path.strip("/")
            # `https://repo.anaconda.com/pkgs/main` -> name `pkgs/main` at the server root.
            if path:
                locations[path] = f"{parts.scheme}://{parts.netloc}"
        locations.update({k.strip("/"): v.rstrip("/") for k, v in self.custom_channels.items()})
        object.__setattr__(self, "_multi", multi)
        object.__setattr__(self, "_locations", locations)
        object.__setattr__(self, "_alias", split_conda_token(self.channel_alias))
        # Locations as canonical names compare them: no scheme, credentials or token.
        object.__setattr__(self, "_alias_location", _location(self._alias[0]))
        custom = tuple(
            (name, f"{_location(split_conda_token(loc)[0])}/{name}")
            for name, loc in locations.items()
        )
        object.__setattr__(self, "_custom_locations", custom)
        key = (
            self.channel_alias,
            tuple(sorted(self.custom_channels.items())),
            tuple(sorted((k, tuple(v)) for k, v in self.custom_multichannels.items())),
            tuple(self.default_channels),
            self.root_dir,
        )
        object.__setattr__(self, "_key", key)

    def __hash__(self) -> int:
        # Hashable although it holds mappings, so a config can key a cache.
        return hash(self._key)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, object], *, root_dir: str | None = None
    ) -> ChannelConfig:
        """A config from condarc-style settings (`channel_alias`, `custom_channels`,
        `custom_multichannels`, `default_channels`); other keys are ignored."""
        kwargs: dict[str, object] = {"root_dir": root_dir}
        alias = data.get("channel_alias")
        if alias is not None:
            if not isinstance(alias, str) or not _SCHEME_RE.match(alias.strip()):
                raise ParseError(
                    "channel_alias",
                    str(alias),
                    "expected a URL such as https://conda.anaconda.org/",
                )
            kwargs["channel_alias"] = alias.strip()
        custom = data.get("custom_channels")
        if custom is not None:
            if not isinstance(custom, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in custom.items()
            ):
                raise ParseError(
                    "custom_channels", str(custom), "expected a mapping of channel name to URL"
                )
            kwargs["custom_channels"] = dict(custom)
        multi = data.get("custom_multichannels")
        if multi is not None:
            if not isinstance(multi, Mapping) or not all(
                isinstance(k, str) and _is_str_list(v) for k, v in multi.items()
            ):
                raise ParseError(
                    "custom_multichannels", str(multi), "expected a mapping of name to channel list"
                )
            kwargs["custom_multichannels"] = {k: tuple(v) for k, v in multi.items()}
        defaults = data.get("default_channels")
        if defaults is not None:
            if not _is_str_list(defaults):
                raise ParseError("default_channels", str(defaults), "expected a list of URLs")
            kwargs["default_channels"] = tuple(defaults)
        return cls(**kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        # Locations may carry tokens or passwords (`https://u:pw@srv/t/tk/`): never print them.
        custom = {k: redact_url(v) for k, v in self.custom_channels.items()}
        return (
            f"ChannelConfig(channel_alias={redact_url(self.channel_alias)!r}, "
            f"custom_channels={custom!r}, "
            f"custom_multichannels={dict(self.custom_multichannels)!r}, "
            f"default_channels={[redact_url(u) for u in self.default_channels]!r}, "
            f"root_dir={self.root_dir!r})"
        )

    def multichannels(self) -> dict[str, tuple[str, ...]]:
        """Every multichannel name (`defaults` included) with the channel strings it stands for."""
        return dict(self._multi)

    def channel_locations(self) -> dict[str, str]:
        """Every custom channel name with its location, the `defaults` members included."""
        return dict(self._locations)


def _is_str_list(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_BLANK_RE = re.compile(r"\s")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_WIN_PATH_RE = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")
# Characters a channel name segment may hold (anaconda.org names, labels, custom names).
_NAME_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.+\-@%=~]+")


def _is_path(text: str) -> bool:
    return (
        text.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or text in (".", "..")
        or bool(_WIN_PATH_RE.match(text))
    )


def _location(url: str) -> str:
    """`url` without scheme, credentials and trailing slash: what conda compares locations by."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{host}{parts.path}".rstrip("/")


def _strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return url.replace(parts.netloc, host, 1)


def _split_platform(path: str) -> tuple[str, Platform | None]:
    """Split a known platform off the end of a `/`-separated path."""
    head, _, last = path.rstrip("/").rpartition("/")
    platform = Platform.get(last)
    if platform is None:
        return path.rstrip("/"), None
    return head, platform


_DEFAULT_CONFIG = ChannelConfig()


class Channel:
    """A conda channel: where its packages live and how conda names it.

    Equal (and hashed) by `base_url`, so `conda-forge` and
    `https://conda.anaconda.org/conda-forge/linux-64` are the same channel.
    """

    # Read-only once made: parsed channels are cached and shared.
    __slots__ = ("_base_url", "_name", "_platform", "_token")

    def __init__(
        self,
        base_url: str,
        name: str,
        *,
        token: str | None = None,
        platform: Platform | None = None,
    ) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._name = name
        self._token = token
        self._platform = platform

    # -- parsing -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, config: ChannelConfig | None = None) -> Channel:
        """The one channel `text` names; a multichannel such as `defaults` is an error here."""
        cfg = config or _DEFAULT_CONFIG
        if _is_path(text.strip(" \t\r\n")):
            # Relative paths depend on the working directory: never cached.
            return cls._parse(text, cfg)
        return _parse_cached(text, cfg)

    @classmethod
    def _parse(cls, text: str, cfg: ChannelConfig) -> Channel:
        raw = text
        # Only real blanks: str.strip() would also eat the ASCII separators \x1c-\x1f.
        text = text.strip(" \t\r\n")
        if not text:
            raise ParseError("channel", raw, "a channel cannot be empty", 0)
        control = _CONTROL_RE.search(text)
        if control is not None:
            pos = raw.index(text) + control.start()
            raise ParseError("channel", raw, "control characters cannot appear in a channel", pos)
        if "::" in text:
            pos = raw.index("::")
            raise ParseError(
                "channel",
                raw,
                "'::' separates a channel from a package in a match spec, not inside a channel",
                pos,
                hint=f"use the channel {raw[:pos].strip()!r} here",
            )
        if _SCHEME_RE.match(text):
            return cls._from_url(text, raw, cfg)
        if _is_path(text):
            return cls._from_path(text, raw, cfg)
        return cls._from_name(text, raw, cfg)

    @classmethod
    def _from_name(cls, text: str, raw: str, cfg: ChannelConfig) -> Channel:
        offset = raw.index(text)
        # `conda-forge/` is a harmless spelling of `conda-forge`.
        text = text[:-1] if text.endswith("/") and len(text) > 1 else text
        pos = 0
        for segment in text.split("/"):
            if not segment:
                raise ParseError(
                    "channel",
                    raw,
                    "empty segment in the channel name ('//')",
                    offset + pos,
                )
            m = _NAME_SEGMENT_RE.match(segment)
            end = m.end() if m else 0
            if end != len(segment):
                bad = segment[end]
                raise ParseError(
                    "channel",
                    raw,
                    f"{bad!r} cannot appear in a channel name",
                    offset + pos + end,
                    hint="local channels are written as paths (./chan, /abs/chan) or file:// URLs",
                )
            pos += len(segment) + 1
        if text in cfg._multi:
            raise ParseError(
                "channel",
                raw,
                f"{text!r} is a multichannel that stands for several channels",
                offset,
                hint="expand it with naja.specs.channel.parse_channels",
            )
        name, platform = _split_platform(text)
        if not name:
            raise ParseError("channel", raw, "a channel name cannot be only a platform", offset)
        locations = cfg._locations
        segments = name.split("/")
        # The longest custom channel that is a prefix of the name wins, as in conda.
        for n in range(len(segments), 0, -1):
            key = "/".join(segments[:n])
            if key in locations:
                base, token = split_conda_token(locations[key])
                return cls(join_url(base, name), name, token=token, platform=platform)
        alias, token = cfg._alias
        return cls(join_url(alias, name), name, token=token, platform=platform)

    @classmethod
    def _from_path(cls, text: str, raw: str, cfg: ChannelConfig) -> Channel:
        if _WIN_PATH_RE.match(text):
            url = path_to_url(text)
        else:
            path = os.path.expanduser(text)
            if not os.path.isabs(path):
                path = os.path.join(cfg.root_dir or os.getcwd(), path)
            url = path_to_url(os.path.normpath(path))
        return cls._from_url(url, raw, cfg)

    @classmethod
    def _from_url(cls, url: str, raw: str, cfg: ChannelConfig) -> Channel:
        offset = raw.index(url) if url in raw else 0
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ParseError("channel", raw, f"not a valid URL: {exc}", offset) from None
        scheme = parts.scheme.lower()
        if parts.query or parts.fragment:
            pos = url.find("?") if parts.query else url.find("#")
            raise ParseError(
                "channel", raw, "a channel URL cannot have a query or a fragment", offset + pos
            )
        host = parts.hostname or ""
        if scheme != "file" and not host:
            raise ParseError(
                "channel", raw, f"a {scheme}:// channel URL needs a host", offset + len(scheme) + 3
            )
        blank = _BLANK_RE.search(host)
        if blank is not None:
            pos = _BLANK_RE.search(url).start()  # type: ignore[union-attr]
            raise ParseError("channel", raw, "a URL cannot contain blanks", offset + pos)
        if scheme == "file" and not parts.path.strip("/"):
            raise ParseError("channel", raw, "a file:// channel URL needs a folder", offset)
        # A `/t/x/` folder of a local channel is just a folder; tokens are for servers.
        clean, token = (url, None) if scheme == "file" else split_conda_token(url)
        clean_parts = urlsplit(clean)
        path, platform = _split_platform(clean_parts.path)
        base = f"{scheme}://{clean_parts.netloc}{path}"
        return cls(base, cls._canonical_name(base, cfg), token=token, platform=platform)

    @classmethod
    def from_package_url(cls, url: str, config: ChannelConfig | None = None) -> tuple[Channel, str]:
        """Split a package URL (`<channel>/<subdir>/<file>.conda`) into its channel and file name.

        The channel comes back with its `platform` set to the package's subdir, as conda reads
        the lines of an explicit environment file.
        """
        text = url.strip(" \t\r\n")
        head, _, filename = text.rstrip("/").rpartition("/")
        if not filename.endswith((".conda", ".tar.bz2")) or not head:
            raise ParseError(
                "package URL",
                url,
                "expected <channel>/<subdir>/<name>-<version>-<build>.conda or .tar.bz2",
                len(url) - len(filename) if filename else 0,
            )
        channel = cls.parse(head, config)
        if channel.platform is None:
            raise ParseError(
                "package URL",
                url,
                "the folder holding the package is not a known platform subdir",
                max(0, len(head) - len(head.rpartition("/")[2])),
            )
        return channel, filename

    @staticmethod
    def _canonical_name(base: str, cfg: ChannelConfig) -> str:
        location = _location(base)
        alias_location = cfg._alias_location
        if location.startswith(alias_location + "/") and not base.startswith("file:"):
            return location[len(alias_location) + 1 :]
        for name, full in cfg._custom_locations:
            if location == full or location.startswith(full + "/"):
                return name + location[len(full) :]
        return _strip_credentials(base).rstrip("/")

    # -- properties ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """conda's canonical name: `conda-forge`, `pkgs/main`, or the full URL for others."""
        return self._name

    @property
    def token(self) -> str | None:
        """The conda token (`/t/<token>/`) the channel was given with, kept out of every URL."""
        return self._token

    @property
    def platform(self) -> Platform | None:
        """The subdir the channel string named (`conda-forge/linux-64`), else `None`."""
        return self._platform

    @property
    def canonical_name(self) -> str:
        return self._name

    @property
    def base_url(self) -> str:
        """The channel's root URL, ending in `/`, without token or platform (may hold user:pw)."""
        return self._base_url

    @property
    def scheme(self) -> str:
        return self._base_url.partition("://")[0]

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    def url(self, *, with_token: bool = False) -> str:
        """`base_url`, with the conda token put back in when asked (for requests, not for logs)."""
        if with_token and self.token:
            parts = urlsplit(self._base_url)
            return f"{parts.scheme}://{parts.netloc}/t/{self.token}{parts.path or '/'}"
        return self._base_url

    def platform_url(self, subdir: Platform | str, *, with_token: bool = False) -> str:
        """The URL of one subdir of this channel, ending in `/` (`.../linux-64/`)."""
        sub = subdir if isinstance(subdir, Platform) else Platform.parse(subdir)
        return f"{self.url(with_token=with_token)}{sub.value}/"

    def subdirs(
        self, platforms: Iterable[Platform | str], *, with_noarch: bool = True
    ) -> list[Platform]:
        """The subdirs to read for `platforms`: the channel's own platform if it names one."""
        if self.platform is not None:
            wanted = [self.platform]
        else:
            wanted = [p if isinstance(p, Platform) else Platform.parse(p) for p in platforms]
        if with_noarch:
            wanted.append(Platform.NOARCH)
        return list(dict.fromkeys(wanted))

    def platform_urls(
        self,
        platforms: Iterable[Platform | str],
        *,
        with_noarch: bool = True,
        with_token: bool = False,
    ) -> list[str]:
        """The subdir URLs to read, in the order of `subdirs(platforms, with_noarch=...)`."""
        return [
            self.platform_url(p, with_token=with_token)
            for p in self.subdirs(platforms, with_noarch=with_noarch)
        ]

    # -- identity ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Channel):
            return NotImplemented
        return self._base_url == other._base_url

    def __hash__(self) -> int:
        return hash(self._base_url)

    def __str__(self) -> str:
        url = self._base_url if self.platform is None else f"{self._base_url}{self.platform}/"
        return redact_url(url.rstrip("/"))

    def __repr__(self) -> str:
        extra = f", platform={self.platform.value!r}" if self.platform else ""
        if self.token:
            extra += ", token='********'"
        return (
            f"Channel({redact_url(self._name)!r}, base_url={redact_url(self._base_url)!r}{extra})"
        )


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str, cfg: ChannelConfig) -> Channel:
    # ParseErrors are not cached (lru_cache only keeps returned values).
    return Channel._parse(text, cfg)


def parse_channels(
    texts: str | Iterable[str],
    config: ChannelConfig | None = None,
    *,
    use_default: bool = True,
) -> list[Channel]:
    """Channels for what a user listed, multichannels (`defaults`, custom ones) expanded.

    Duplicates are dropped, keeping the first place a channel appears. An empty list means
    naja's default channel, `conda-forge`, unless `use_default` is false.
    """
    cfg = config or _DEFAULT_CONFIG
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items and use_default:
        items = [DEFAULT_CHANNEL]
    multi = cfg._multi
    out: dict[Channel, None] = {}

    def add(item: str, expanding: tuple[str, ...]) -> None:
        key = item.strip(" \t\r\n")
        if key not in multi:
            out.setdefault(Channel.parse(item, cfg), None)
            return
        if key in expanding:
            # `a: [b]`, `b: [a]` in a condarc would otherwise never end.
            chain = " -> ".join((*expanding, key))
            raise ParseError("channel", item, f"multichannels refer to each other: {chain}", 0)
        for member in multi[key]:
            add(member, (*expanding, key))

    for item in items:
        add(item, ())
    return list(out)
