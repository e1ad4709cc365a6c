"""Credentials: bearer, basic, conda /t/<token>/ — sent where they belong, never shown."""

from __future__ import annotations

import base64

import pytest

from naja.fetch import (
    Credential,
    Downloader,
    DownloadRequest,
    HttpStatusError,
    ProgressEvent,
    StaticCredentials,
)
from naja.fetch.credentials import apply_credential
from tests.fetch.conftest import fast_config, payload, sha256
from tests.servers.faulty import Fault, FaultyServer

SECRET = "s3cr3t-Token-0123456789"
DATA = payload(50_000, seed=5)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def run(server: FaultyServer, url: str, credentials, tmp_path, **kw):
    events: list[ProgressEvent] = []
    with Downloader(fast_config(), credentials=credentials, on_progress=events.append) as dl:
        result = dl.download(DownloadRequest(url, tmp_path / "f.conda", sha256=sha256(DATA), **kw))
    return result, events


def test_bearer_token_for_a_host(faulty, tmp_path) -> None:
    faulty.add("/ch/f.conda", DATA, auth=f"Bearer {SECRET}")
    creds = StaticCredentials({faulty.url: Credential("bearer", token=SECRET)})
    result, events = run(faulty, faulty.url + "/ch/f.conda", creds, tmp_path)
    assert result.ok
    assert all(SECRET not in repr(e) for e in events)


def test_longest_prefix_wins_per_path(faulty, tmp_path) -> None:
    faulty.add("/private/f.conda", DATA, auth=basic("ann", SECRET))
    creds = StaticCredentials(
        {
            faulty.url: Credential("bearer", token="wrong"),
            faulty.url + "/private": Credential("basic", username="ann", password=SECRET),
        }
    )
    assert run(faulty, faulty.url + "/private/f.conda", creds, tmp_path)[0].ok
    assert creds.lookup(faulty.url + "/public/x").token == "wrong"  # type: ignore[union-attr]
    assert creds.lookup("https://elsewhere.example/x") is None


def test_conda_token_goes_into_the_path_and_never_out(faulty, tmp_path) -> None:
    faulty.add(f"/t/{SECRET}/ch/noarch/f.conda", DATA)
    creds = StaticCredentials({"127.0.0.1": Credential("conda_token", token=SECRET)})
    result, events = run(faulty, faulty.url + "/ch/noarch/f.conda", creds, tmp_path)
    assert result.ok and SECRET not in (result.source_url or "")
    assert all(SECRET not in e.url for e in events)


def test_wrong_token_error_hides_it(faulty, tmp_path) -> None:
    faulty.add("/t/right/ch/f.conda", DATA)
    url = f"{faulty.url}/t/{SECRET}/ch/f.conda"
    with pytest.raises(HttpStatusError) as info:
        run(faulty, url, None, tmp_path)
    assert SECRET not in info.value.render() and "********" in info.value.render()
    assert "hint:" in info.value.render()


def test_user_and_password_in_the_url_become_basic_auth(faulty, tmp_path) -> None:
    faulty.add("/ch/f.conda", DATA, auth=basic("bob", SECRET))
    host = faulty.url.removeprefix("http://")
    result, _ = run(faulty, f"http://bob:{SECRET}@{host}/ch/f.conda", None, tmp_path)
    assert result.ok and SECRET not in (result.source_url or "")
    sent = faulty.requests_for("/ch/f.conda")[0]
    assert sent.headers["authorization"] == basic("bob", SECRET)


def test_401_names_credentials_in_the_hint(faulty, tmp_path) -> None:
    faulty.add("/ch/f.conda", DATA, auth="Bearer other")
    creds = StaticCredentials({faulty.url: Credential("bearer", token=SECRET)})
    with pytest.raises(HttpStatusError) as info:
        run(faulty, faulty.url + "/ch/f.conda", creds, tmp_path)
    assert info.value.status == 401 and "credentials" in info.value.render()
    assert SECRET not in info.value.render()
    assert len(faulty.requests_for("/ch/f.conda")) == 1


def test_redirect_to_another_host_drops_authorization(faulty, tmp_path) -> None:
    with FaultyServer() as other:
        other.add("/f.conda", DATA)
        faulty.add("/ch/f.conda", DATA)
        # "localhost" is another host name for the same machine: credentials must not follow.
        target = other.url.replace("127.0.0.1", "localhost") + "/f.conda"
        faulty.plan("/ch/f.conda", Fault("redirect", location=target))
        creds = StaticCredentials({faulty.url: Credential("bearer", token=SECRET)})
        assert run(faulty, faulty.url + "/ch/f.conda", creds, tmp_path)[0].ok
        assert faulty.requests_for("/ch/f.conda")[0].headers["authorization"]
        assert "authorization" not in other.requests_for("/f.conda")[0].headers


def test_credential_repr_hides_secrets() -> None:
    text = repr(Credential("basic", username="u", password=SECRET))
    assert SECRET not in text
    url, headers = apply_credential("https://h/x", {}, Credential("bearer", token=SECRET))
    assert headers["Authorization"] == f"Bearer {SECRET}" and url == "https://h/x"


def test_debug_logs_never_show_secrets(faulty, tmp_path, caplog) -> None:
    import logging

    faulty.add(f"/t/{SECRET}/ch/f.conda", DATA)
    faulty.plan(f"/t/{SECRET}/ch/f.conda", Fault("drop", after=100), Fault("status", status=503))
    creds = StaticCredentials({"127.0.0.1": Credential("conda_token", token=SECRET)})
    with caplog.at_level(logging.DEBUG, logger="naja.fetch"):
        result, _ = run(faulty, faulty.url + "/ch/f.conda", creds, tmp_path)
    assert result.ok
    assert "retrying" in caplog.text and SECRET not in caplog.text
