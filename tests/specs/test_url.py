"""URL helpers: redaction of every secret form, conda tokens, joining, file URLs."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naja.errors import ParseError
from naja.specs.url import (
    MASK,
    add_conda_token,
    join_url,
    path_to_url,
    redact_text,
    redact_url,
    split_conda_token,
    url_to_path,
)

SECRET_ALPHABET = string.ascii_letters + string.digits + "-_"
secrets = st.text(SECRET_ALPHABET, min_size=12, max_size=40)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://conda.anaconda.org/t/tk-123-456/conda-forge/linux-64",
            "https://conda.anaconda.org/t/********/conda-forge/linux-64",
        ),
        ("https://h/t/abc", "https://h/t/********"),
        ("https://h/t/abc?x=1", "https://h/t/********?x=1"),
        ("https://user:s3cret@host/ch", "https://user:********@host/ch"),
        ("https://user:@host/ch", "https://user:********@host/ch"),
        ("https://host/ch?token=abc&a=1", "https://host/ch?token=********&a=1"),
        ("https://host/ch?a=1&access_token=abc", "https://host/ch?a=1&access_token=********"),
        ("https://host/cb#access_token=abc&x=1", "https://host/cb#access_token=********&x=1"),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F2024"
            "&X-Amz-Signature=deadbeef&X-Amz-Security-Token=FwoG",
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=********"
            "&X-Amz-Signature=********&X-Amz-Security-Token=********",
        ),
        ("https://host/ch/linux-64/repodata.json", "https://host/ch/linux-64/repodata.json"),
        ("https://user@host/ch", "https://user@host/ch"),
        ("https://user:p@ss:w@host/ch", "https://user:********@host/ch"),
        ("s3://key:secret@bucket/ch", "s3://key:********@bucket/ch"),
        ("https://user:pw@host?x=1", "https://user:********@host?x=1"),
        ("oci://ghcr.io/ns/pkg@sha256:abc", "oci://ghcr.io/ns/pkg@sha256:abc"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_finds_urls_and_bare_tokens() -> None:
    text = "GET https://a:pw@h/t/xyz/c?token=q failed; mirror conda.anaconda.org/t/qq/foo"
    out = redact_text(text)
    assert "pw" not in out and "xyz" not in out and "=q" not in out and "/qq/" not in out
    assert out == (
        f"GET https://a:{MASK}@h/t/{MASK}/c?token={MASK} failed; "
        f"mirror conda.anaconda.org/t/{MASK}/foo"
    )


@given(secret=secrets, password=st.text(string.printable.strip() + "é", min_size=8, max_size=30))
def test_random_secret_never_survives_redaction(secret: str, password: str) -> None:
    # any password without the characters that end an authority (`/ ? #`) or blanks
    password = "".join(c for c in password if c not in "/?#\"'<>" and not c.isspace()) + "Zz9"
    # Markers around the drawn text keep a secret from matching the URL's own words by chance.
    secret = f"Sk{secret}8x"
    url = f"https://me:{password}@repo.example.com/channel/noarch"
    assert password not in redact_url(url)
    assert password not in redact_text(f"GET {url} -> 401")
    for url in (
        f"https://conda.anaconda.org/t/{secret}/conda-forge",
        f"https://me:{secret}@repo.example.com/channel/noarch",
        f"https://repo.example.com/ch?token={secret}",
        f"s3://bucket/ch/x.conda?X-Amz-Signature={secret}&X-Amz-Credential={secret}",
    ):
        assert secret not in redact_url(url)
        assert secret not in redact_text(f"error fetching {url}: 404")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://1.2.3.4/t/tk-123-456/path", ("https://1.2.3.4/path", "tk-123-456")),
        ("https://1.2.3.4/t/tk-123-456", ("https://1.2.3.4", "tk-123-456")),
        ("https://1.2.3.4/t/tk/path/t/other", ("https://1.2.3.4/path/t/other", "tk")),
        ("https://1.2.3.4/path", ("https://1.2.3.4/path", None)),
        ("https://1.2.3.4/chan/t/x", ("https://1.2.3.4/chan/t/x", None)),
        ("https://h/t/tk?x=1", ("https://h?x=1", "tk")),
    ],
)
def test_split_conda_token(url: str, expected: tuple[str, str | None]) -> None:
    assert split_conda_token(url) == expected


def test_add_conda_token_round_trips() -> None:
    url = add_conda_token("https://conda.anaconda.org/conda-forge/linux-64", "tk-1")
    assert url == "https://conda.anaconda.org/t/tk-1/conda-forge/linux-64"
    assert split_conda_token(url) == ("https://conda.anaconda.org/conda-forge/linux-64", "tk-1")
    # a second token replaces the first rather than stacking
    assert add_conda_token(url, "tk-2") == "https://conda.anaconda.org/t/tk-2/conda-forge/linux-64"
    assert add_conda_token(url, None) == "https://conda.anaconda.org/conda-forge/linux-64"


@pytest.mark.parametrize(
    ("base", "parts", "expected"),
    [
        ("https://h/a/", ("/b/", "c"), "https://h/a/b/c"),
        ("https://h/a", ("", "b"), "https://h/a/b"),
        ("https://h", (), "https://h"),
        ("file:///", ("x", "y"), "file:///x/y"),
    ],
)
def test_join_url(base: str, parts: tuple[str, ...], expected: str) -> None:
    assert join_url(base, *parts) == expected


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/tmp/a b/c#d%", "file:///tmp/a%20b/c%23d%25"),
        ("C:\\Users\\x y", "file:///C:/Users/x%20y"),
        ("C:/Users", "file:///C:/Users"),
    ],
)
def test_path_to_url(path: str, url: str) -> None:
    assert path_to_url(path) == url


def test_path_to_url_makes_relative_paths_absolute(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert path_to_url("./chan") == path_to_url(tmp_path / "chan")
    assert path_to_url("./chan").startswith("file:///")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("file:///tmp/a%20b/c%23d", "/tmp/a b/c#d"),
        ("file://localhost/tmp/x", "/tmp/x"),
        ("file:///C:/Users/x%20y", "C:/Users/x y"),
        ("file:///c|/x", "c:/x"),
        ("file://C:/x", "C:/x"),
        ("file://server/share/x", "//server/share/x"),
    ],
)
def test_url_to_path(url: str, path: str) -> None:
    assert url_to_path(url) == path


@given(st.text(string.ascii_letters + string.digits + " #%?&é-_.", min_size=1, max_size=20))
def test_path_url_round_trip(name: str) -> None:
    path = f"/srv/a{name}/x"  # the prefix keeps "." and ".." from being normalised away
    assert url_to_path(path_to_url(path)) == path


def test_url_to_path_rejects_non_file_urls() -> None:
    with pytest.raises(ParseError) as info:
        url_to_path("https://host/x")
    assert "file://" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-123 sent", f"Authorization: Bearer {MASK} sent"),
        (
            "headers={'Authorization': 'Basic dXNlcjpwdw==', 'User-Agent': 'naja'}",
            f"headers={{'Authorization': 'Basic {MASK}', 'User-Agent': 'naja'}}",
        ),
        ("authorization=token xyz123", f"authorization=token {MASK}"),
        # words that merely mention auth stay readable
        (
            "Basic authentication failed: token expired",
            "Basic authentication failed: token expired",
        ),
    ],
)
def test_redact_text_hides_auth_headers(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_undecodable_path_bytes_round_trip() -> None:
    # os.fsdecode(b"/srv/caf\xe9") on a UTF-8 system: the lone byte becomes a surrogate
    path = "/srv/caf\udce9/chan"
    url = path_to_url(path)
    assert url == "file:///srv/caf%E9/chan"
    assert url_to_path(url) == path
    assert path_to_url("/srv/café") == "file:///srv/caf%C3%A9"


def test_redact_text_keeps_surrounding_quotes() -> None:
    assert redact_text('url="https://h/t/abc" done') == f'url="https://h/t/{MASK}" done'
    assert (
        redact_text("see 'conda.anaconda.org/t/abc' ok") == f"see 'conda.anaconda.org/t/{MASK}' ok"
    )


def test_posix_path_with_a_colon_is_not_a_drive() -> None:
    assert path_to_url("/a:/x") == "file:///a:/x"
    # going back, a one-letter first segment with a colon is taken for a Windows drive
    assert url_to_path("file:///a:/x") == "a:/x"


@given(
    secret=secrets,
    before=st.text(" \"'<>()[]{},;=:", max_size=3),
    after=st.text(" \"'<>()[]{},;.:!?", max_size=3),
    form=st.sampled_from(
        [
            "https://conda.anaconda.org/t/{s}/conda-forge/noarch/repodata.json",
            "conda.anaconda.org/t/{s}/conda-forge",
            "https://u:{s}@repo.example.com/ch",
            "https://repo.example.com/ch?access_token={s}",
            "Authorization: Bearer {s}",
        ]
    ),
)
def test_secret_hidden_whatever_surrounds_it(
    secret: str, before: str, after: str, form: str
) -> None:
    secret = f"Sk{secret}8x"
    text = f"failed: {before}{form.format(s=secret)}{after} (retrying)"
    out = redact_text(text)
    assert secret not in out
    assert out.startswith("failed: ") and out.endswith(" (retrying)")
