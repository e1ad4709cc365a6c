"""Channels: conda's parsing rules, tokens kept out of sight, bad input, and rattler agreement."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naja.errors import ParseError
from naja.specs.channel import Channel, ChannelConfig, parse_channels
from naja.specs.platform import Platform

CF = "https://conda.anaconda.org/conda-forge/"


@pytest.mark.parametrize(
    ("text", "name", "base_url", "platform"),
    [
        ("conda-forge", "conda-forge", CF, None),
        (" conda-forge ", "conda-forge", CF, None),
        ("conda-forge/", "conda-forge", CF, None),
        ("conda-forge/linux-64", "conda-forge", CF, "linux-64"),
        ("conda-forge/noarch", "conda-forge", CF, "noarch"),
        (
            "bioconda/label/dev",
            "bioconda/label/dev",
            "https://conda.anaconda.org/bioconda/label/dev/",
            None,
        ),
        ("https://conda.anaconda.org/conda-forge", "conda-forge", CF, None),
        ("https://conda.anaconda.org/conda-forge/osx-arm64/", "conda-forge", CF, "osx-arm64"),
        ("http://conda.anaconda.org/conda-forge", "conda-forge", "http" + CF[5:], None),
        (
            "https://repo.prefix.dev/conda-forge",
            "https://repo.prefix.dev/conda-forge",
            "https://repo.prefix.dev/conda-forge/",
            None,
        ),
        ("pkgs/main", "pkgs/main", "https://repo.anaconda.com/pkgs/main/", None),
        (
            "https://repo.anaconda.com/pkgs/r/win-64",
            "pkgs/r",
            "https://repo.anaconda.com/pkgs/r/",
            "win-64",
        ),
        ("file:///srv/chan", "file:///srv/chan", "file:///srv/chan/", None),
        ("file:///srv/chan/linux-64", "file:///srv/chan", "file:///srv/chan/", "linux-64"),
        ("/srv/chan", "file:///srv/chan", "file:///srv/chan/", None),
        ("/srv/my chan", "file:///srv/my%20chan", "file:///srv/my%20chan/", None),
        ("C:\\chans\\x", "file:///C:/chans/x", "file:///C:/chans/x/", None),
        (
            "oci://ghcr.io/channel-mirrors/conda-forge",
            "oci://ghcr.io/channel-mirrors/conda-forge",
            "oci://ghcr.io/channel-mirrors/conda-forge/",
            None,
        ),
        ("s3://bucket/channel", "s3://bucket/channel", "s3://bucket/channel/", None),
        ("http://localhost:8000/ch", "http://localhost:8000/ch", "http://localhost:8000/ch/", None),
        ("https://user:pw@host/ch", "https://host/ch", "https://user:pw@host/ch/", None),
    ],
)
def test_parse(text: str, name: str, base_url: str, platform: str | None) -> None:
    ch = Channel.parse(text)
    assert ch.name == name == ch.canonical_name
    assert ch.base_url == base_url
    assert ch.platform == (Platform(platform) if platform else None)
    assert ch.token is None


def test_relative_paths_use_root_dir(tmp_path, monkeypatch) -> None:
    cfg = ChannelConfig(root_dir="/srv/project")
    assert Channel.parse("./chan", cfg).base_url == "file:///srv/project/chan/"
    assert Channel.parse("../chan", cfg).base_url == "file:///srv/chan/"
    assert Channel.parse(".", cfg).base_url == "file:///srv/project/"
    monkeypatch.chdir(tmp_path)
    assert Channel.parse("./c").base_url == f"file://{tmp_path}/c/"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Channel.parse("~/c").base_url == f"file://{tmp_path}/c/"


def test_channel_alias_and_custom_channels() -> None:
    cfg = ChannelConfig(
        channel_alias="https://repo.prefix.dev/",
        custom_channels={"mine": "https://srv.example/conda", "a/b": "https://ab.example"},
        custom_multichannels={"both": ["conda-forge", "mine"]},
    )
    assert Channel.parse("conda-forge", cfg).base_url == "https://repo.prefix.dev/conda-forge/"
    # URLs under the alias are named by their path
    assert Channel.parse("https://repo.prefix.dev/bioconda", cfg).name == "bioconda"
    # ... but anaconda.org is no longer the alias, so its URLs keep their full name
    assert Channel.parse(CF, cfg).name == CF.rstrip("/")
    mine = Channel.parse("mine/label/dev", cfg)
    assert mine.base_url == "https://srv.example/conda/mine/label/dev/"
    assert mine.name == "mine/label/dev"
    assert Channel.parse("https://srv.example/conda/mine", cfg).name == "mine"
    assert Channel.parse("a/b/c", cfg).base_url == "https://ab.example/a/b/c/"
    assert [c.name for c in parse_channels(["both", "conda-forge"], cfg)] == [
        "conda-forge",
        "mine",
    ]


def test_defaults_expands_like_conda() -> None:
    cfg = ChannelConfig(
        default_channels=(
            "https://repo.anaconda.com/pkgs/main",
            "https://repo.anaconda.com/pkgs/r",
            "https://repo.anaconda.com/pkgs/msys2",
        )
    )
    assert [c.base_url for c in parse_channels("defaults", cfg)] == [
        "https://repo.anaconda.com/pkgs/main/",
        "https://repo.anaconda.com/pkgs/r/",
        "https://repo.anaconda.com/pkgs/msys2/",
    ]
    host = parse_channels(["defaults"])
    assert [c.name for c in host][:2] == ["pkgs/main", "pkgs/r"]
    with pytest.raises(ParseError, match="multichannel") as info:
        Channel.parse("defaults")
    assert info.value.hint and "parse_channels" in info.value.hint


def test_parse_channels_default_and_dedup() -> None:
    assert parse_channels([]) == [Channel.parse("conda-forge")]
    assert parse_channels([], use_default=False) == []
    chans = parse_channels(["conda-forge", CF, "conda-forge/linux-64", "bioconda"])
    assert [c.name for c in chans] == ["conda-forge", "bioconda"]


def test_tokens_are_split_and_hidden() -> None:
    ch = Channel.parse("https://conda.anaconda.org/t/tk-123-abc/conda-forge/linux-64")
    assert ch.token == "tk-123-abc"
    assert ch == Channel.parse("conda-forge")
    assert ch.base_url == CF and ch.name == "conda-forge"
    assert "tk-123" not in str(ch) and "tk-123" not in repr(ch)
    assert ch.url(with_token=True) == "https://conda.anaconda.org/t/tk-123-abc/conda-forge/"
    assert ch.platform_urls([], with_token=True) == [
        "https://conda.anaconda.org/t/tk-123-abc/conda-forge/linux-64/",
        "https://conda.anaconda.org/t/tk-123-abc/conda-forge/noarch/",
    ]
    # a token in the alias applies to every name under it
    cfg = ChannelConfig(channel_alias="https://private.example/t/tk-9/")
    priv = Channel.parse("stuff", cfg)
    assert priv.token == "tk-9" and priv.base_url == "https://private.example/stuff/"


@given(
    token=st.text(string.ascii_letters + string.digits + "-_", min_size=10, max_size=40),
    password=st.text(string.ascii_letters + string.digits + "-_.!$", min_size=10, max_size=40),
)
def test_random_secrets_never_shown(token: str, password: str) -> None:
    # Markers around the drawn text keep a secret from matching the URL's own words by chance.
    token, password = f"Tk{token}9z", f"Pw{password}7q"
    for text in (
        f"https://conda.anaconda.org/t/{token}/conda-forge",
        f"https://me:{password}@repo.example.com/t/{token}/ch/linux-64",
    ):
        ch = Channel.parse(text)
        for shown in (str(ch), repr(ch), ch.name):
            assert token not in shown and password not in shown


def test_platform_urls() -> None:
    ch = Channel.parse("conda-forge")
    assert ch.platform_url("linux-64") == CF + "linux-64/"
    assert ch.platform_urls(["linux-64", Platform.OSX_ARM64]) == [
        CF + "linux-64/",
        CF + "osx-arm64/",
        CF + "noarch/",
    ]
    assert ch.platform_urls(["linux-64"], with_noarch=False) == [CF + "linux-64/"]
    assert ch.platform_urls(["noarch"]) == [CF + "noarch/"]
    # a channel that names its platform reads only that one (and noarch), as in conda
    pinned = Channel.parse("conda-forge/osx-64")
    assert pinned.subdirs(["linux-64"]) == [Platform.OSX_64, Platform.NOARCH]
    with pytest.raises(ParseError):
        ch.platform_url("linux-65")


def test_equality_and_str() -> None:
    a = Channel.parse("conda-forge")
    assert a == Channel.parse("https://conda.anaconda.org/conda-forge/")
    assert len({a, Channel.parse(CF), Channel.parse("bioconda")}) == 2
    assert a != Channel.parse("http://conda.anaconda.org/conda-forge")
    assert str(a) == "https://conda.anaconda.org/conda-forge"
    assert str(Channel.parse("conda-forge/linux-64")) == CF + "linux-64"
    assert str(Channel.parse("https://u:secret@h/c")) == "https://u:********@h/c"
    assert a.scheme == "https" and not a.is_local
    assert Channel.parse("/srv/x").is_local


@pytest.mark.parametrize(
    ("text", "reason", "position"),
    [
        ("", "empty", 0),
        ("   ", "empty", 0),
        ("a//b", "empty segment", 2),
        ("conda-forge//", "empty segment", 12),
        ("/", "needs a folder", 0),
        ("my chan", "' ' cannot appear", 2),
        ("chan<1", "'<' cannot appear", 4),
        ("conda-forge::numpy", "'::'", 11),
        ("https://", "needs a host", 8),
        ("http://:80/x", "needs a host", 7),
        ("https://h:99999/x", "not a valid URL", 0),
        ("https://h/ch?x=1", "query", 12),
        ("https://h/ch#top", "fragment", 12),
        ("file://", "needs a folder", 0),
        ("linux-64", "only a platform", 0),
    ],
)
def test_bad_channels(text: str, reason: str, position: int) -> None:
    with pytest.raises(ParseError) as info:
        Channel.parse(text)
    err = info.value
    assert err.kind == "channel"
    assert reason in err.reason
    assert err.position == position


RATTLER_CASES = [
    "conda-forge",
    "bioconda",
    "bioconda/label/dev",
    "conda-forge/label/broken",
    "main",
    "robostack-staging",
    "https://conda.anaconda.org/conda-forge",
    "https://conda.anaconda.org/conda-forge/",
    "http://conda.anaconda.org/conda-forge",
    "https://conda.anaconda.org/conda-forge/label/dev",
    "https://repo.prefix.dev/conda-forge",
    "https://repo.prefix.dev/conda-forge/",
    "https://repo.anaconda.com/pkgs/main",
    "https://conda.anaconda.org/t/tk-123-456/conda-forge",
    "https://user:pw@private.example/channel",
    "http://localhost:8000/ch",
    "http://127.0.0.1:9999/a/b/c",
    "file:///tmp/chan",
    "file:///srv/my%20chan",
    "./chan",
    "../chan",
    "/abs/chan",
    "oci://ghcr.io/channel-mirrors/conda-forge",
    "s3://bucket/path/chan",
    "https://prefix.dev/some-channel/linux-64",
    "conda-forge/linux-64",
    "https://repo.prefix.dev/conda-forge/noarch/",
]


@pytest.mark.parametrize("alias", ["https://conda.anaconda.org/", "https://repo.prefix.dev/"])
def test_matches_rattler(alias: str) -> None:
    """Same base URLs and platform URLs as rattler, and the same names for alias channels.

    Where naja follows conda instead (trailing platform split off, token kept out of the base
    URL, full-URL names for non-alias channels) the comparison puts those parts back; see
    docs/differences.md.
    """
    import rattler
    from rattler.platform import Subdir

    root = "/srv/project"
    theirs_cfg = rattler.ChannelConfig(alias, root)
    ours_cfg = ChannelConfig(channel_alias=alias, root_dir=root, default_channels=())
    alias_host = alias.split("://")[1].rstrip("/")
    checked_names = 0
    for text in RATTLER_CASES:
        theirs = rattler.Channel(text, theirs_cfg)
        ours = Channel.parse(text, ours_cfg)
        full = ours.url(with_token=True)
        if ours.platform is not None:
            full += f"{ours.platform.value}/"
        assert full == theirs.base_url, text
        if ours.platform is None:
            got = ours.platform_url("linux-64", with_token=True)
            assert got == theirs._channel.platform_url(Subdir("linux-64")._inner), text
        under_alias = (
            "://" not in text and not text.startswith((".", "/"))
        ) or alias_host in text.replace("http://", "https://")
        if under_alias and ours.token is None and ours.platform is None:
            assert ours.name == theirs.name, text
            checked_names += 1
        elif theirs.name is not None and ours.platform is None and ours.token is None:
            # rattler names every other channel by its path; naja by its full URL
            assert ours.name.rstrip("/").endswith(theirs.name.lstrip("./")), text
    assert checked_names >= 6


@given(st.text(max_size=40))
def test_parse_only_ever_raises_parse_error(text: str) -> None:
    try:
        ch = Channel.parse(text, ChannelConfig(root_dir="/srv"))
    except ParseError as err:
        assert err.kind == "channel"
        return
    assert ch.base_url.endswith("/") and "://" in ch.base_url


_segment = st.from_regex(r"[a-z0-9][a-z0-9_\-]{0,8}", fullmatch=True)
_platform_suffix = st.sampled_from(["", "/linux-64", "/noarch", "/osx-arm64/"])
_host = st.sampled_from(
    ["conda.anaconda.org", "repo.prefix.dev", "localhost:8080", "127.0.0.1", "example.com"]
)


@st.composite
def channel_strings(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(_segment, min_size=1, max_size=3)))
    suffix = draw(_platform_suffix)
    kind = draw(st.sampled_from(["name", "url", "token-url", "file", "path"]))
    if kind == "name":
        return path + suffix.rstrip("/")
    if kind == "url":
        return f"{draw(st.sampled_from(['https', 'http']))}://{draw(_host)}/{path}{suffix}"
    if kind == "token-url":
        return f"https://{draw(_host)}/t/{draw(_segment)}/{path}{suffix}"
    if kind == "file":
        return f"file:///data/{path}{suffix}"
    return f"./{path}{suffix}"


@given(channel_strings())
def test_fuzz_base_urls_match_rattler(text: str) -> None:
    import rattler

    ours = Channel.parse(text, ChannelConfig(root_dir="/srv", default_channels=()))
    theirs = rattler.Channel(text, rattler.ChannelConfig(root_dir="/srv"))
    full = ours.url(with_token=True)
    if ours.platform is not None:
        full += f"{ours.platform.value}/"
    assert full == theirs.base_url
    if ours.platform is None and ours.token is None:
        if ours.base_url.startswith(("https://conda.anaconda.org/", "http://conda.anaconda.org/")):
            # under the alias both name the channel by its path
            assert ours.name == theirs.name
        else:
            # elsewhere naja names it by its full URL, which ends with rattler's path name
            assert ours.name.endswith(theirs.name.lstrip("./"))


def test_config_from_condarc_mapping_and_repr_hides_secrets() -> None:
    cfg = ChannelConfig.from_mapping(
        {
            "channel_alias": "https://u:hunter2@private.example/t/tk-77/",
            "custom_channels": {"mine": "https://x:pw9@srv.example/t/zz-1"},
            "custom_multichannels": {"stack": ["conda-forge", "mine"]},
            "default_channels": ["https://mirror.example/pkgs/main"],
            "channels": ["ignored"],
        },
        root_dir="/srv",
    )
    assert Channel.parse("stuff", cfg).base_url == "https://u:hunter2@private.example/stuff/"
    assert Channel.parse("mine", cfg).token == "zz-1"
    assert [c.name for c in parse_channels("defaults", cfg)] == ["pkgs/main"]
    assert [c.name for c in parse_channels("stack", cfg)] == ["conda-forge", "mine"]
    shown = repr(cfg)
    for secret in ("hunter2", "tk-77", "pw9", "zz-1"):
        assert secret not in shown
    with pytest.raises(ParseError, match="custom_multichannels"):
        ChannelConfig.from_mapping({"custom_multichannels": {"a": "not-a-list"}})
    with pytest.raises(ParseError, match="channel_alias"):
        ChannelConfig.from_mapping({"channel_alias": "conda.anaconda.org"})


def test_from_package_url() -> None:
    ch, fn = Channel.from_package_url(
        "https://conda.anaconda.org/t/tk-1/conda-forge/linux-64/numpy-1.26.4-py312h8753938_0.conda"
    )
    assert fn == "numpy-1.26.4-py312h8753938_0.conda"
    assert ch.name == "conda-forge" and ch.platform is Platform.LINUX_64 and ch.token == "tk-1"
    ch, fn = Channel.from_package_url("file:///srv/chan/noarch/six-1.16.0-pyh6c4a22f_0.tar.bz2")
    assert ch.base_url == "file:///srv/chan/" and ch.platform is Platform.NOARCH
    for bad in ("https://h/ch/numpy-1-0.conda", "https://h/ch/linux-64/", "numpy-1.0-0.conda"):
        with pytest.raises(ParseError) as info:
            Channel.from_package_url(bad)
        assert info.value.kind == "package URL"


def test_channels_pickle_with_their_token() -> None:
    import pickle

    ch = Channel.parse("https://conda.anaconda.org/t/tk-5/conda-forge/linux-64")
    back = pickle.loads(pickle.dumps(ch))
    assert back == ch and back.token == "tk-5" and back.platform is Platform.LINUX_64


def test_multichannels_may_name_multichannels() -> None:
    cfg = ChannelConfig(
        custom_multichannels={
            "all": ["defaults", "conda-forge"],
            "loop": ["loop2"],
            "loop2": ["loop"],
        },
        default_channels=("https://repo.anaconda.com/pkgs/main",),
    )
    assert [c.name for c in parse_channels("all", cfg)] == ["pkgs/main", "conda-forge"]
    with pytest.raises(ParseError, match="loop -> loop2 -> loop"):
        parse_channels(["loop"], cfg)


def test_configs_are_hashable_values() -> None:
    a = ChannelConfig(custom_channels={"m": "https://s/c"}, custom_multichannels={"x": ["m"]})
    b = ChannelConfig(custom_channels={"m": "https://s/c"}, custom_multichannels={"x": ("m",)})
    assert a == ChannelConfig(
        custom_channels={"m": "https://s/c"}, custom_multichannels={"x": ["m"]}
    )
    assert hash(a) == hash(b)
    assert len({a, ChannelConfig(), ChannelConfig(channel_alias="https://repo.prefix.dev/")}) == 3


def test_parsed_channels_are_shared_and_read_only(tmp_path, monkeypatch) -> None:
    a = Channel.parse("https://conda.anaconda.org/t/tk-2/conda-forge")
    assert Channel.parse("https://conda.anaconda.org/t/tk-2/conda-forge") is a
    with pytest.raises(AttributeError):
        a.token = "other"  # type: ignore[misc]
    # relative paths follow the working directory, so they are never served from the cache
    monkeypatch.chdir(tmp_path)
    first = Channel.parse("./c")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert Channel.parse("./c") != first
