"""How registry API requests travel: reads on the download engine's connections, uploads by httpx.

Installs only read (challenge, token, manifests), so they reuse the engine's pool, proxies
and TLS settings and never import httpx (a quarter second of start-up); pushes need request
bodies, which the engine does not send, so they go through httpx.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from naja.oci.errors import OciError

if TYPE_CHECKING:
    from naja.fetch.downloader import Downloader

# API answers are small (manifests, tokens, indexes); this bounds a misbehaving server.
MAX_BODY = 256 << 20
CHUNK = 1 << 20
ATTEMPTS = 3


class HeaderLookup(Protocol):
    def get(self, name: str, default: str | None = None) -> str | None: ...


@dataclass(frozen=True)
class Reply:
    status_code: int
    headers: HeaderLookup
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | Path | None
    ) -> Reply: ...


def _unreachable(url: str, exc: BaseException) -> OciError:
    from naja.specs.url import redact_url

    host = url.split("/")[2] if url.count("/") >= 2 else url
    return OciError(
        f"cannot reach the registry {host} ({redact_url(url)}): {type(exc).__name__} {exc}",
        hint="check the registry address and your network (and NAJA_OCI_PLAIN_HTTP for a "
        "registry without TLS)",
    )


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


class HttpxTransport:
    def __init__(
        self, *, verify: bool | str = True, timeout: float = 60.0, user_agent: str = "naja"
    ):
        import httpx

        self._httpx = httpx
        self.user_agent = user_agent
        self.client = httpx.Client(
            verify=verify, timeout=timeout, transport=httpx.HTTPTransport(retries=2, verify=verify)
        )

    def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | Path | None
    ) -> Reply:
        sent = {"User-Agent": self.user_agent, **headers}
        body: Any = content
        if isinstance(content, Path):
            sent["Content-Length"] = str(content.stat().st_size)
            body = _file_chunks(content)
        try:
            response = self.client.request(method, url, headers=sent, content=body)
        except self._httpx.HTTPError as exc:
            raise _unreachable(url, exc) from None
        return Reply(response.status_code, response.headers, response.content)

    def close(self) -> None:
        self.client.close()


class EngineTransport:
    """GET and HEAD over a Downloader's connections; anything with a body goes to httpx."""

    def __init__(self, dl: Downloader) -> None:
        self.dl = dl
        self._fallback: HttpxTransport | None = None
        self._lock = threading.Lock()

    def send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | Path | None
    ) -> Reply:
        if content is not None or method not in ("GET", "HEAD"):
            return self._httpx().send(method, url, headers, content)
        from naja.fetch.http11 import ProtocolError

        sent = {"User-Agent": self.dl.config.user_agent, "Accept-Encoding": "identity", **headers}
        for attempt in range(ATTEMPTS):
            try:
                with self.dl.host_slot(url):
                    response = self.dl.send(url, sent, method)
                    try:
                        body = response.read(MAX_BODY)
                    finally:
                        response.close()
                return Reply(response.status, response.headers, body)
            except (OSError, ProtocolError) as exc:
                if attempt == ATTEMPTS - 1 or self.dl.sleep(0.2 * (attempt + 1)):
                    raise _unreachable(url, exc) from None
        raise AssertionError("unreachable")

    def _httpx(self) -> HttpxTransport:
        with self._lock:
            if self._fallback is None:
                config = self.dl.config
                verify: bool | str = config.ssl_verify
                if config.ssl_verify and config.ca_bundle is not None:
                    verify = str(config.ca_bundle)
                self._fallback = HttpxTransport(
                    verify=verify,
                    timeout=max(config.connect_timeout, config.read_timeout),
                    user_agent=config.user_agent,
                )
            return self._fallback
