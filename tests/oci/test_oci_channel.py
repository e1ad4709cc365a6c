"""OCI channels against a real distribution registry: upload, promote, install, failures."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx
import pytest

from naja.oci.reference import (
    OciChannel,
    mangle_name,
    package_tag,
    split_file_url,
    split_package_filename,
    unmangle_tag,
)
from naja.oci.token import parse_challenge
from tests.oci.helpers import CLOBBER, PACKAGES, create, installed, isolated_env, naja
from tests.servers.registry import registry  # noqa: F401

MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json"


def test_reference_mangling() -> None:
    assert package_tag("1.0+cuda!2=3", "py_0") == "1.0__p__cuda__e__2__eq__3-py_0"
    assert unmangle_tag("1.0__p__cuda-py_0") == "1.0+cuda-py_0"
    assert mangle_name("_libgcc_mutex") == "zzz_libgcc_mutex"
    assert mangle_name("numpy") == "numpy"
    assert split_package_filename("x-tra-1.2-h1_0.tar.bz2") == ("x-tra", "1.2", "h1_0", ".tar.bz2")
    channel, subdir, fn = split_file_url(
        "oci://ghcr.io/channel-mirrors/conda-forge/linux-64/a-1-0.conda"
    )
    assert (channel.registry, channel.namespace, subdir, fn) == (
        "ghcr.io",
        "channel-mirrors/conda-forge",
        "linux-64",
        "a-1-0.conda",
    )
    assert channel.repository("linux-64", "_openmp_mutex") == (
        "channel-mirrors/conda-forge/linux-64/zzz_openmp_mutex"
    )
    assert channel.base == "https://ghcr.io"
    assert OciChannel.parse("oci://127.0.0.1:5000/a").base == "http://127.0.0.1:5000"


def test_challenge_parsing() -> None:
    ch = parse_challenge(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'
    )
    assert ch is not None and ch.scheme == "bearer"
    assert ch.params == {
        "realm": "https://ghcr.io/token",
        "service": "ghcr.io",
        "scope": "repository:a/b:pull",
    }
    assert parse_challenge('Basic realm="naja-test"').scheme == "basic"  # type: ignore[union-attr]


def _manifest(base: str, repo: str, tag: str, auth: tuple[str, str] | None = None) -> dict:
    response = httpx.get(
        f"{base}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_ACCEPT}, auth=auth
    )
    response.raise_for_status()
    return response.json()


def test_round_trip_anonymous_with_staging(registry, tmp_path: Path) -> None:  # noqa: F811
    reg = registry()
    url = reg.oci_url("ns/chan")
    env = isolated_env(tmp_path / "home")
    up = naja("upload", "--to", url, *map(str, PACKAGES), env=env)
    assert up.returncode == 0, up.stderr
    assert "uploaded noarch/dependent-1.0-0.conda" in up.stdout
    assert f"index staged; publish: naja upload --to {url} --promote" in up.stdout

    # The layout: one artifact per package, with the package, info and index.json layers.
    manifest = _manifest(reg.http_url, "ns/chan/noarch/small-executable", "1.0-0")
    types = [layer["mediaType"] for layer in manifest["layers"]]
    assert types == [
        "application/vnd.conda.package.v2",
        "application/vnd.conda.info.v1.tar+gzip",
        "application/vnd.conda.info.index.v1+json",
    ]
    # A .tar.bz2 is a v1 package layer; the info layer is a tar.gz of info/.
    up = naja("upload", "--to", url, str(CLOBBER), env=env)
    assert up.returncode == 0, up.stderr
    manifest = _manifest(reg.http_url, "ns/chan/noarch/clobber-1", "0.1.0-h4616a5c_0")
    assert manifest["layers"][0]["mediaType"] == "application/vnd.conda.package.v1"
    info = httpx.get(
        f"{reg.http_url}/v2/ns/chan/noarch/clobber-1/blobs/{manifest['layers'][1]['digest']}"
    )
    with tarfile.open(fileobj=io.BytesIO(info.content), mode="r:gz") as tar:
        assert "info/index.json" in tar.getnames()
        index_json = tar.extractfile("info/index.json").read()  # type: ignore[union-attr]
    layer = manifest["layers"][2]
    assert layer["mediaType"] == "application/vnd.conda.info.index.v1+json"
    blob = httpx.get(f"{reg.http_url}/v2/ns/chan/noarch/clobber-1/blobs/{layer['digest']}")
    assert blob.content == index_json
    # Staged, not yet visible: there is no `latest` index.
    index = _manifest(reg.http_url, "ns/chan/noarch/repodata.json", "staging")
    assert [layer["mediaType"] for layer in index["layers"]] == [
        "application/vnd.conda.repodata.v1+json",
        "application/vnd.conda.repodata.v1+json+zst",
    ]
    missing = httpx.get(f"{reg.http_url}/v2/ns/chan/noarch/repodata.json/manifests/latest")
    assert missing.status_code == 404

    promoted = naja("upload", "--to", url, "--promote", env=env)
    assert promoted.returncode == 0, promoted.stderr
    assert "noarch" in promoted.stdout

    prefix = tmp_path / "env"
    out = create(prefix, url, "dependent", "small-executable", "clobber-1", env=env)
    assert out.returncode == 0, out.stderr
    assert {
        "dependent-1.0-0",
        "dependency-1.0-0",
        "small-executable-1.0-0",
        "clobber-1-0.1.0-h4616a5c_0",
    } <= installed(prefix)
    assert (prefix / "bin" / "small").is_file()

    # Everything is cached now: the registry is not needed any more.
    reg.stop()
    again = create(tmp_path / "env2", url, "--offline", "dependent", env=env)
    assert again.returncode == 0, again.stderr
    assert "dependent-1.0-0" in installed(tmp_path / "env2")


def test_round_trip_htpasswd_and_refused_overwrite(registry, tmp_path: Path) -> None:  # noqa: F811
    reg = registry(auth=("alice", "s3cret-Pa55"))
    url = reg.oci_url("team/chan")
    creds = {reg.host: {"BasicHTTP": {"username": "alice", "password": "s3cret-Pa55"}}}
    env = isolated_env(tmp_path / "home", creds)
    up = naja("upload", "--to", url, "--promote", *map(str, PACKAGES[:2]), env=env)
    assert up.returncode == 0, up.stderr

    # small-executable is new, dependent exists: refused as a whole, nothing pushed.
    again = naja("upload", "--to", url, str(PACKAGES[2]), str(PACKAGES[0]), env=env)
    assert again.returncode != 0
    assert "already in" in again.stderr and "--force" in again.stderr
    pushed = httpx.get(
        f"{reg.http_url}/v2/team/chan/noarch/small-executable/tags/list", auth=reg.auth
    )
    assert pushed.status_code == 404
    forced = naja("upload", "--to", url, "--force", "--promote", str(PACKAGES[0]), env=env)
    assert forced.returncode == 0, forced.stderr

    prefix = tmp_path / "env"
    out = create(prefix, url, "dependent", env=env)
    assert out.returncode == 0, out.stderr
    assert {"dependent-1.0-0", "dependency-1.0-0"} <= installed(prefix)


def test_wrong_credentials_are_a_clear_error_without_the_secret(
    registry,  # noqa: F811
    tmp_path: Path,
) -> None:
    reg = registry(auth=("alice", "right-password"))
    url = reg.oci_url("team/chan")
    wrong = {reg.host: {"BasicHTTP": {"username": "alice", "password": "Wr0ng-Secret-77"}}}
    env = isolated_env(tmp_path / "home", wrong)
    up = naja("upload", "--to", url, str(PACKAGES[1]), env=env)
    assert up.returncode != 0
    assert "refused the credentials" in up.stderr and "alice" in up.stderr
    assert "Wr0ng-Secret-77" not in up.stderr + up.stdout

    out = create(tmp_path / "env", url, "dependency", env=env)
    assert out.returncode != 0
    assert "refused the credentials" in out.stderr
    assert "Wr0ng-Secret-77" not in out.stderr + out.stdout

    anonymous = naja("upload", "--to", url, str(PACKAGES[1]), env=isolated_env(tmp_path / "h2"))
    assert anonymous.returncode != 0
    assert "needs credentials" in anonymous.stderr


def test_corrupted_blob_is_a_clear_error(registry, tmp_path: Path) -> None:  # noqa: F811
    reg = registry()
    url = reg.oci_url("ns/chan")
    env = isolated_env(tmp_path / "home")
    up = naja("upload", "--to", url, "--promote", str(PACKAGES[2]), env=env)
    assert up.returncode == 0, up.stderr
    manifest = _manifest(reg.http_url, "ns/chan/noarch/small-executable", "1.0-0")
    blob = reg.blob_path(manifest["layers"][0]["digest"])
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))

    out = create(tmp_path / "env", url, "small-executable", env=env)
    assert out.returncode != 0
    assert "sha256 mismatch" in out.stderr
    assert "small-executable" in out.stderr


@pytest.mark.parametrize("fn", ["repodata.json.zck", "repodata_shards.msgpack.zst"])
def test_forms_outside_the_layout_are_absent(registry, fn: str) -> None:  # noqa: F811
    from naja.fetch import Downloader
    from naja.repodata import http

    reg = registry()
    with Downloader() as dl:
        assert http.get(dl, reg.oci_url(f"ns/chan/noarch/{fn}")).status == 404


def test_token_flow_anonymous_pull_and_authenticated_push(registry, tmp_path: Path) -> None:  # noqa: F811
    """A registry with token auth (as ghcr.io): anyone gets pull tokens from the realm named
    in the challenge, the user's basic credentials get pull+push tokens."""
    reg = registry(auth=("alice", "t0ken-Pw"), token=True)
    url = reg.oci_url("ns/chan")
    creds = {reg.host: {"BasicHTTP": {"username": "alice", "password": "t0ken-Pw"}}}
    up = naja(
        "upload",
        "--to",
        url,
        "--promote",
        *map(str, PACKAGES),
        env=isolated_env(tmp_path / "alice", creds),
    )
    assert up.returncode == 0, up.stderr
    assert {"scope": "repository:ns/chan/noarch/dependent:pull,push", "subject": "alice"} in (
        reg.token_requests
    )

    anonymous = isolated_env(tmp_path / "anon")
    before = len(reg.token_requests)
    prefix = tmp_path / "env"
    out = create(prefix, url, "dependent", "small-executable", env=anonymous)
    assert out.returncode == 0, out.stderr
    assert (prefix / "bin" / "small").is_file()
    pulls = reg.token_requests[before:]
    assert {"scope": "repository:ns/chan/noarch/repodata.json:pull", "subject": ""} in pulls
    assert {"scope": "repository:ns/chan/noarch/small-executable:pull", "subject": ""} in pulls

    push = naja("upload", "--to", url, "--force", str(PACKAGES[0]), env=anonymous)
    assert push.returncode != 0 and "needs credentials" in push.stderr


def test_concurrent_upload_is_merged_not_lost(registry, monkeypatch) -> None:  # noqa: F811
    """Another upload that moves `staging` while this one pushes its packages is merged in."""
    import naja.upload.oci as upload_oci_module
    from naja.oci.client import client_for
    from naja.oci.layout import read_repodata
    from naja.oci.reference import OciChannel
    from naja.oci.transport import HttpxTransport

    reg = registry()
    url = reg.oci_url("ns/chan")
    upload_oci_module.upload_oci(url, [PACKAGES[1]])
    real_push = upload_oci_module.push_package
    raced = []

    def push_and_race(*args, **kwargs):  # type: ignore[no-untyped-def]
        digest = real_push(*args, **kwargs)
        if not raced:
            raced.append(True)
            # The "other" uploader finishes while we are between reading and writing.
            monkeypatch.setattr(upload_oci_module, "push_package", real_push)
            upload_oci_module.upload_oci(url, [PACKAGES[2]])
        return digest

    monkeypatch.setattr(upload_oci_module, "push_package", push_and_race)
    upload_oci_module.upload_oci(url, [PACKAGES[0]])
    channel = OciChannel.parse(url)
    got = read_repodata(client_for(channel, None, HttpxTransport()), channel, "noarch", "staging")
    assert got is not None
    assert set(got[0]["packages.conda"]) == {p.name for p in PACKAGES}


_FAULTY_BASE: list[str] = []


def _fake_resolver(dl, url, *, sha256=None):  # type: ignore[no-untyped-def]
    from naja.fetch.schemes import Resolved

    # Like oci:// and s3://: a different HTTP URL than the canonical one, made per attempt.
    return Resolved(_FAULTY_BASE[0] + "/" + url.split("/", 3)[3])


def test_scheme_downloads_resume_across_runs(monkeypatch, tmp_path: Path) -> None:
    """A cut transfer of a resolved-scheme URL leaves a `.part` that the next run continues
    (its `.part.json` names the canonical URL, not the per-attempt HTTP one)."""
    import hashlib
    import os

    from naja.fetch import (
        Downloader,
        DownloadError,
        DownloadRequest,
        FetchConfig,
        RetryPolicy,
        schemes,
    )
    from tests.servers.faulty import Fault, FaultyServer

    server = FaultyServer().start()
    try:
        data = os.urandom(6 << 20)
        sha = hashlib.sha256(data).hexdigest()
        server.add("/blobs/big-1.0-0.conda", data)
        server.plan("/blobs/big-1.0-0.conda", Fault("drop", after=5 << 20))
        monkeypatch.setitem(schemes.RESOLVERS, "oci", f"{__name__}:_fake_resolver")
        _FAULTY_BASE[:] = [server.url]
        url = "oci://registry.example/blobs/big-1.0-0.conda"
        target = tmp_path / "big-1.0-0.conda"
        one_try = FetchConfig(retry=RetryPolicy(attempts=1))
        with Downloader(one_try) as dl, pytest.raises(DownloadError):
            dl.download(DownloadRequest(url, target, sha256=sha))
        assert (tmp_path / "big-1.0-0.conda.part").stat().st_size == 5 << 20
        with Downloader() as dl:
            result = dl.download(DownloadRequest(url, target, sha256=sha))
        assert result.resumed_bytes == 5 << 20
        assert target.read_bytes() == data
    finally:
        _FAULTY_BASE.clear()
        server.stop()


def test_chunked_blob_upload_resumes_after_lost_answers(
    registry,  # noqa: F811
    monkeypatch,
    tmp_path: Path,
) -> None:
    """A big blob goes up in chunks; after a lost answer the registry is asked how far it got:
    the distribution registry forgets a session whose answer was lost (new session from 0),
    and continues one whose chunk never arrived."""
    import hashlib
    import os

    from naja.oci import blob_upload
    from naja.oci.client import client_for
    from naja.oci.errors import OciError
    from naja.oci.reference import OciChannel
    from naja.oci.transport import HttpxTransport

    monkeypatch.setattr(blob_upload, "CHUNKED_MIN", 1 << 20)
    monkeypatch.setattr(blob_upload, "CHUNK_SIZE", 1 << 20)
    reg = registry()
    data = os.urandom((3 << 20) + 12345)
    sha = hashlib.sha256(data).hexdigest()
    path = tmp_path / "big-1.0-0.conda"
    path.write_bytes(data)

    class LossyTransport(HttpxTransport):
        patches = 0

        def send(self, method, url, headers, content):  # type: ignore[no-untyped-def]
            if method == "PATCH":
                LossyTransport.patches += 1
                if LossyTransport.patches == 2:
                    super().send(method, url, headers, content)
                    raise OciError("connection cut after the chunk was sent")
                if LossyTransport.patches == 3:
                    raise OciError("connection cut before the chunk was sent")
            return super().send(method, url, headers, content)

    channel = OciChannel.parse(reg.oci_url("ns/chan"))
    client = client_for(channel, None, LossyTransport())
    assert client.push_blob("ns/chan/noarch/big", f"sha256:{sha}", path)
    # chunk 1, chunk 2 (answer lost: new session), chunk 1 (not sent), then chunks 1-4.
    assert LossyTransport.patches == 7
    got = httpx.get(f"{reg.http_url}/v2/ns/chan/noarch/big/blobs/sha256:{sha}")
    assert got.content == data


class _ScriptedTransport:
    """Answers from a table: (method, url prefix) -> Reply; records what was sent."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, dict[str, str], bytes]]):
        self.answers = answers
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def send(self, method, url, headers, content):  # type: ignore[no-untyped-def]
        from naja.oci.transport import Reply

        self.sent.append((method, url, headers))
        for (m, prefix), (status, hdrs, body) in self.answers.items():
            if m == method and url.startswith(prefix):
                return Reply(status, httpx.Headers(hdrs), body)
        return Reply(404, httpx.Headers({}), b"")


def test_credentials_never_go_to_a_plain_http_token_service() -> None:
    from naja.oci.client import RegistryClient
    from naja.oci.errors import OciError
    from naja.oci.token import Login

    challenge = 'Bearer realm="http://tokens.example/token",service="reg"'
    transport = _ScriptedTransport(
        {("GET", "https://reg.example/v2/"): (401, {"www-authenticate": challenge}, b"")}
    )
    client = RegistryClient(
        OciChannel.parse("oci://reg.example/ns"), Login("basic", "alice", "pw-42"), transport
    )
    with pytest.raises(OciError, match="without TLS"):
        client.auth_headers("ns/noarch/x")
    assert all("tokens.example" not in url for _, url, _ in transport.sent)


def test_bearer_token_flow_caches_per_scope() -> None:
    from naja.oci.client import RegistryClient

    challenge = 'Bearer realm="https://reg.example/token",service="reg"'
    transport = _ScriptedTransport(
        {
            ("GET", "https://reg.example/v2/"): (401, {"www-authenticate": challenge}, b""),
            ("GET", "https://reg.example/token"): (200, {}, b'{"token": "t-1", "expires_in": 300}'),
        }
    )
    client = RegistryClient(OciChannel.parse("oci://reg.example/ns"), None, transport)
    assert client.auth_headers("ns/noarch/x") == {"Authorization": "Bearer t-1"}
    assert client.auth_headers("ns/noarch/x") == {"Authorization": "Bearer t-1"}
    client.auth_headers("ns/noarch/y", "pull,push")
    token_urls = [url for _, url, _ in transport.sent if "/token" in url]
    assert token_urls == [
        "https://reg.example/token?scope=repository%3Ans%2Fnoarch%2Fx%3Apull&service=reg",
        "https://reg.example/token?scope=repository%3Ans%2Fnoarch%2Fy%3Apull%2Cpush&service=reg",
    ]


def test_mangled_names_and_tags_round_trip(registry, tmp_path: Path) -> None:  # noqa: F811
    """A name starting with `_` and a version with `+` land where conda-forge's mirror puts
    them (`zzz` prefix, `__p__`), and install back under their own names."""
    from tests.oci.helpers import make_conda

    pkg = make_conda(tmp_path, "_naja_mutex", "1.0+cuda", "0", {"share/naja-mutex.txt": b"hi\n"})
    reg = registry()
    url = reg.oci_url("ns/chan")
    env = isolated_env(tmp_path / "home")
    up = naja("upload", "--to", url, "--promote", str(pkg), env=env)
    assert up.returncode == 0, up.stderr
    manifest = _manifest(reg.http_url, "ns/chan/noarch/zzz_naja_mutex", "1.0__p__cuda-0")
    assert manifest["layers"][0]["annotations"]["org.opencontainers.image.title"] == pkg.name
    prefix = tmp_path / "env"
    out = create(prefix, url, "_naja_mutex", env=env)
    assert out.returncode == 0, out.stderr
    assert (prefix / "share" / "naja-mutex.txt").read_bytes() == b"hi\n"
    # Without a sha256 (old indexes) the resolver reads the package's manifest by its tag.
    from naja.fetch import Downloader, DownloadRequest

    with Downloader() as dl:
        got = dl.download(DownloadRequest(f"{url}/noarch/{pkg.name}", tmp_path / "dl" / pkg.name))
    assert got.path.read_bytes() == pkg.read_bytes()


def _token_resolver(dl, url, *, sha256=None):  # type: ignore[no-untyped-def]
    from naja.fetch.schemes import Resolved

    return Resolved(
        _FAULTY_BASE[0] + "/" + url.split("/", 3)[3],
        {"Authorization": "Bearer registry-tok", "x-amz-security-token": "session-tok"},
    )


@pytest.mark.parametrize("what", ["index", "package"])
def test_resolver_tokens_stay_on_their_host(monkeypatch, tmp_path: Path, what: str) -> None:
    """A blob that redirects elsewhere (ghcr.io's CDN) gets no registry token there."""
    from naja.fetch import Downloader, DownloadRequest, schemes
    from naja.repodata import http
    from tests.servers.faulty import Fault, FaultyServer

    server = FaultyServer().start()
    try:
        elsewhere = server.url.replace("127.0.0.1", "localhost")
        server.add("/cdn/blob", b"{}")
        server.add("/ns/noarch/repodata.json", b"")
        server.add("/ns/noarch/x-1-0.conda", b"")
        for path in ("/ns/noarch/repodata.json", "/ns/noarch/x-1-0.conda"):
            server.plan(path, Fault("redirect", location=f"{elsewhere}/cdn/blob"))
        monkeypatch.setitem(schemes.RESOLVERS, "oci", f"{__name__}:_token_resolver")
        _FAULTY_BASE[:] = [server.url]
        with Downloader() as dl:
            if what == "index":
                assert http.get(dl, "oci://reg/ns/noarch/repodata.json").body == b"{}"
            else:
                dl.download(DownloadRequest("oci://reg/ns/noarch/x-1-0.conda", tmp_path / "x"))
        first, second = server.requests[0], server.requests[1]
        assert first.headers.get("authorization") == "Bearer registry-tok"
        assert second.path == "/cdn/blob" and "authorization" not in second.headers
        assert "x-amz-security-token" not in second.headers
    finally:
        _FAULTY_BASE.clear()
        server.stop()
