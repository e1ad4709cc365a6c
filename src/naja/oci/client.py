"""Talking to one registry: manifests and blobs over the distribution API, with its auth.

API requests go through a `Transport` (`naja.oci.transport`); package blobs are downloaded by
naja's download engine (`naja.oci.resolve` gives it the blob URL and the `Authorization`
header from `auth_headers`), so they are verified and resumable like any file. What a
registry said about auth (its challenge, the tokens it gave) is shared by every client for
the same registry and credential in the process (`client_for`).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

from naja.oci import blob_upload
from naja.oci.errors import OciAuthError, OciError, OciNotFound
from naja.oci.reference import OciChannel
from naja.oci.token import Challenge, Login, TokenCache, parse_challenge, scope_for
from naja.oci.transport import Reply, Transport

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_UNKNOWN = Challenge("unknown", {})


@dataclass
class AuthState:
    """What one registry said about auth, for one credential: its challenge and tokens."""

    challenge: Challenge | None = _UNKNOWN
    tokens: TokenCache = field(default_factory=TokenCache)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _registry_error(response: Reply) -> str:
    """The registry's own words (`{"errors": [{"code": ..., "message": ...}]}`), if any."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        return f": {first.get('code', '')} {first.get('message', '')}".rstrip()
    except Exception:
        return ""


class RegistryClient:
    """The distribution API of `channel.registry`, authenticated as `login` (or anonymously)."""

    def __init__(
        self,
        channel: OciChannel,
        login: Login | None,
        transport: Transport,
        state: AuthState | None = None,
    ) -> None:
        self.channel = channel
        self.login = login
        self.transport = transport
        self.state = state or AuthState()
        self.tokens = self.state.tokens

    # -- auth -----------------------------------------------------------------------------

    def _where(self, repository: str | None = None) -> str:
        return f"{self.channel.registry}/{repository}" if repository else self.channel.registry

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        content: bytes | Path | None = None,
    ) -> Reply:
        return self.transport.send(method, url, headers or {}, content)

    def challenge(self) -> Challenge | None:
        """How the registry wants to be authenticated (asked once: `GET /v2/`)."""
        state = self.state
        with state.lock:
            if state.challenge is _UNKNOWN:
                response = self._send("GET", f"{self.channel.base}/v2/")
                if response.status_code == 401:
                    state.challenge = parse_challenge(response.headers.get("www-authenticate"))
                else:
                    state.challenge = None
            return state.challenge

    def _token(self, challenge: Challenge, scope: str) -> str:
        login = self.login
        key = (self.channel.registry, scope, login.identity() if login else "")
        cached = self.tokens.get(key)
        if cached is not None:
            return cached
        if login is not None and login.kind == "bearer":
            # A registry token given as is (ghcr.io accepts a base64 PAT this way).
            return login.secret
        realm = challenge.realm
        if not realm:
            raise OciError(f"the registry {self.channel.registry} sent a challenge without a realm")
        params = {"scope": scope}
        if challenge.params.get("service"):
            params["service"] = challenge.params["service"]
        realm_url = urljoin(self.channel.base, realm)
        if login is not None and realm_url.startswith("http:") and not self.channel.plain_http:
            # A TLS registry pointing its token service at plain HTTP: never send a password
            # in the clear because a server said so.
            raise OciError(
                f"the registry {self.channel.registry} names a token service without TLS "
                f"({realm_url.split('?')[0]}); naja will not send credentials there",
                hint="fix the registry's token realm, or list it in NAJA_OCI_PLAIN_HTTP",
            )
        headers = {"Authorization": login.basic_header()} if login is not None else {}
        realm_url += ("&" if "?" in realm_url else "?") + urlencode(params)
        response = self._send("GET", realm_url, headers)
        if response.status_code in (401, 403):
            raise self._auth_error(response.status_code, scope.split(":")[1])
        if response.status_code != 200:
            raise OciError(
                f"the token service of {self.channel.registry} answered HTTP "
                f"{response.status_code}{_registry_error(response)}"
            )
        try:
            data = response.json()
            token = data.get("token") or data["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise OciError(f"the token service of {self.channel.registry} sent no token") from None
        self.tokens.put(key, token, data.get("expires_in"))
        return token

    def _auth_error(self, status: int, repository: str) -> OciAuthError:
        host = self.channel.registry
        if self.login is None:
            return OciAuthError(
                f"the registry {host} needs credentials for {self._where(repository)} "
                f"(HTTP {status})",
                hint=f"store them with `naja auth login {host} --username USER --password ...`",
            )
        who = f" (user {self.login.username!r})" if self.login.username else ""
        return OciAuthError(
            f"the registry {host} refused the credentials{who} for {self._where(repository)} "
            f"(HTTP {status})",
            hint=f"check the user, password or token stored for {host} (`naja auth list`), "
            "and that it may read (or push to) this repository",
        )

    def auth_headers(self, repository: str, actions: str = "pull") -> dict[str, str]:
        """The `Authorization` header for requests on `repository` (empty when none is due)."""
        challenge = self.challenge()
        if challenge is None:
            if self.login is not None and self.login.kind == "bearer":
                return {"Authorization": f"Bearer {self.login.secret}"}
            return {}
        if challenge.scheme == "basic":
            if self.login is None:
                return {}
            if self.login.kind == "bearer":
                return {"Authorization": f"Bearer {self.login.secret}"}
            return {"Authorization": self.login.basic_header()}
        token = self._token(challenge, scope_for(repository, actions))
        return {"Authorization": f"Bearer {token}"}

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        repository: str,
        actions: str = "pull",
        headers: dict[str, str] | None = None,
        content: bytes | Path | None = None,
    ) -> Reply:
        """One API request with auth; a 401 refreshes the challenge and token once."""
        url = urljoin(self.channel.base, path_or_url)
        response: Reply | None = None
        for attempt in range(2):
            sent_headers = {**self.auth_headers(repository, actions), **(headers or {})}
            response = self._send(method, url, sent_headers, content)
            if response.status_code != 401 or attempt:
                break
            # A stale token, or a registry whose auth we had not seen yet: ask again.
            with self.state.lock:
                self.state.challenge = parse_challenge(response.headers.get("www-authenticate"))
            key = (
                self.channel.registry,
                scope_for(repository, actions),
                self.login.identity() if self.login else "",
            )
            self.tokens.drop(key)
        assert response is not None
        if response.status_code in (401, 403):
            raise self._auth_error(response.status_code, repository)
        return response

    # -- manifests ------------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> tuple[dict[str, Any], bytes] | None:
        """The manifest (parsed, and its exact bytes) of `repository:reference`, or None."""
        response = self._manifest("GET", repository, reference, "read the manifest of")
        if response is None:
            return None
        try:
            return response.json(), response.content
        except ValueError:
            raise OciError(
                f"the manifest of {self._where(repository)}:{reference} is not JSON"
            ) from None

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest `repository:reference` points at (a HEAD), or None if it does not exist."""
        response = self._manifest("HEAD", repository, reference, "look up")
        if response is None:
            return None
        return response.headers.get("docker-content-digest") or ""

    def _manifest(
        self, method: str, repository: str, reference: str, doing: str
    ) -> Reply | None:
        """GET or HEAD a manifest: the 200 response, None for a 404, else an OciError."""
        response = self.request(
            method,
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(doing, f"{repository}:{reference}", response)
        return response

    def manifest_exists(self, repository: str, reference: str) -> bool:
        return self.manifest_digest(repository, reference) is not None

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            repository=repository,
            actions="pull,push",
            headers={"Content-Type": media_type},
            content=body,
        )
        if response.status_code not in (200, 201):
            raise self._error("push the manifest", f"{repository}:{reference}", response)
        return response.headers.get("docker-content-digest") or (
            "sha256:" + hashlib.sha256(body).hexdigest()
        )

    # -- blobs ----------------------------------------------------------------------------

    def blob_url(self, repository: str, digest: str) -> str:
        return f"{self.channel.base}/v2/{repository}/blobs/{digest}"

    def has_blob(self, repository: str, digest: str) -> bool:
        response = self.request(
            "HEAD",
            f"/v2/{repository}/blobs/{digest}",
            repository=repository,
            actions="pull,push",
        )
        return response.status_code == 200

    def get_blob(self, repository: str, digest: str) -> bytes:
        """A small blob (a config, an index), verified against its digest."""
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}", repository=repository)
        if response.status_code in (301, 302, 303, 307, 308):
            # Blob storage elsewhere (S3 behind the registry): no registry credentials there.
            location = response.headers.get("location") or ""
            response = self._send("GET", urljoin(self.channel.base, location))
        if response.status_code == 404:
            raise OciNotFound(f"blob {digest} is missing from {self._where(repository)}")
        if response.status_code != 200:
            raise self._error("download", f"{repository}@{digest}", response)
        data = response.content
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise OciError(
                f"blob {digest} of {self._where(repository)} has digest {actual}: corrupted",
                hint="the registry's copy is damaged; push the artifact again",
            )
        return data

    def open_upload(self, repository: str) -> str:
        """Open an upload session; its URL."""
        response = self.request(
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            repository=repository,
            actions="pull,push",
        )
        location = response.headers.get("location")
        if response.status_code != 202 or not location:
            raise self._error("start an upload to", repository, response)
        return urljoin(self.channel.base, location)

    def push_blob(self, repository: str, digest: str, content: bytes | Path) -> bool:
        """Upload one blob; False if the registry already had it. Big files go in resumable
        chunks (`naja.oci.blob_upload`), the rest in one POST + PUT."""
        if self.has_blob(repository, digest):
            return False
        upload = self.open_upload(repository)
        if isinstance(content, Path) and content.stat().st_size >= blob_upload.CHUNKED_MIN:
            blob_upload.upload_chunked(self, repository, upload, digest, content)
            return True
        upload += ("&" if "?" in upload else "?") + f"digest={digest}"
        response = self.request(
            "PUT",
            upload,
            repository=repository,
            actions="pull,push",
            headers={"Content-Type": "application/octet-stream"},
            content=content,
        )
        if response.status_code not in (201, 204):
            raise self._error("upload a blob to", repository, response)
        return True

    def _error(self, doing: str, what: str, response: Reply) -> OciError:
        return OciError(
            f"could not {doing} {self.channel.registry}/{what}: HTTP "
            f"{response.status_code}{_registry_error(response)}"
        )


_states: dict[tuple[str, str], AuthState] = {}
_states_lock = threading.Lock()


def login_for(url: str, provider: Any = None) -> Login | None:
    """naja.auth's credential for an `oci://` URL, as a registry login (None: anonymous)."""
    if provider is None:
        from naja.fetch.credentials import default_provider

        provider = default_provider()
    if provider is None:
        return None
    credential = provider.lookup(url)
    if credential is None:
        return None
    if credential.kind == "basic":
        return Login("basic", credential.username or "", credential.password or "")
    if credential.token:
        return Login("bearer", "", credential.token)
    return None


def client_for(channel: OciChannel, login: Login | None, transport: Transport) -> RegistryClient:
    """A client for this registry and credential, sharing what is known about its auth."""
    key = (channel.base, login.identity() if login else "")
    with _states_lock:
        state = _states.setdefault(key, AuthState())
    return RegistryClient(
        OciChannel(channel.registry, "", channel.plain_http), login, transport, state
    )
