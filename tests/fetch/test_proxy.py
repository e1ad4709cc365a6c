"""Proxies: HTTP through a forward proxy, HTTPS through CONNECT, NO_PROXY, env, auth."""

from __future__ import annotations

import base64

import pytest

from naja.fetch import Downloader, DownloadRequest, NetworkError
from naja.fetch.proxy import bypassed, select_proxy
from tests.fetch.conftest import fast_config, payload, sha256
from tests.fetch.proxy import ForwardProxy

DATA = payload(200_000, seed=11)


@pytest.fixture
def site(nginx, tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "p.conda").write_bytes(DATA)
    return nginx(root)


@pytest.fixture
def proxy():
    with ForwardProxy() as p:
        yield p


def fetch(url: str, target, **config):
    with Downloader(fast_config(**config)) as dl:
        return dl.download(DownloadRequest(url, target, sha256=sha256(DATA)))


def test_http_through_the_configured_proxy(site, proxy, tmp_path) -> None:
    result = fetch(f"{site.url}/p.conda", tmp_path / "a", proxies={"http": proxy.url})
    assert result.ok
    assert proxy.seen == [(f"GET {site.url}/p.conda", None)]


def test_https_through_a_connect_tunnel(site, proxy, tmp_path) -> None:
    result = fetch(
        f"{site.https_url}/p.conda",
        tmp_path / "a",
        proxies={"https": proxy.url},
        ca_bundle=site.ca_cert,
    )
    assert result.ok
    assert proxy.seen[0][0] == f"CONNECT 127.0.0.1:{site.tls_port}"


def test_environment_proxy_and_no_proxy(site, proxy, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert fetch(f"{site.url}/p.conda", tmp_path / "a", trust_env=True).ok
    assert len(proxy.seen) == 1
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert fetch(f"{site.url}/p.conda", tmp_path / "b", trust_env=True).ok
    assert len(proxy.seen) == 1
    # trust_env off: the environment is ignored.
    monkeypatch.delenv("NO_PROXY")
    assert fetch(f"{site.url}/p.conda", tmp_path / "c", trust_env=False).ok
    assert len(proxy.seen) == 1


def test_proxy_credentials(site, tmp_path) -> None:
    auth = "Basic " + base64.b64encode(b"pat:pw0rd").decode()
    with ForwardProxy(auth=auth) as proxy:
        host = proxy.url.removeprefix("http://")
        ok = fetch(
            f"{site.url}/p.conda", tmp_path / "a", proxies={"http": f"http://pat:pw0rd@{host}"}
        )
        assert ok.ok and proxy.seen[-1][1] == auth
        with pytest.raises(NetworkError) as info:
            fetch(
                f"{site.https_url}/p.conda",
                tmp_path / "b",
                proxies={"https": proxy.url},
                ca_bundle=site.ca_cert,
            )
        assert "proxy" in str(info.value)


def test_proxy_selection_rules() -> None:
    proxies = {"https://special.example": "http://p2", "https": "http://p1"}
    assert select_proxy("https://special.example/x", proxies, trust_env=False) == "http://p2"
    assert select_proxy("https://other.example/x", proxies, trust_env=False) == "http://p1"
    assert select_proxy("http://other.example/x", proxies, trust_env=False) is None
    assert select_proxy("https://a.corp.example/x", proxies, no_proxy=".corp.example") is None
    assert bypassed("conda.corp", "*") and not bypassed("conda.org", "corp")
