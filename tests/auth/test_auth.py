"""Credentials: the real Secret Service, the fallback stores, lookup rules, imports, no leaks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from naja.auth import AuthEntry, AuthProvider
from naja.auth.errors import AuthError
from naja.auth.keys import match_score, normalize_key
from naja.auth.stores.encrypted_file import EncryptedFileStore
from naja.auth.stores.plain_file import PlainFileStore
from tests.conftest import ROOT
from tests.servers.keyring_session import KeyringSession

NAJA = str(Path(sys.executable).parent / "naja")
SECRET = "s3cr3t-T0KEN-do-not-print"


def naja(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NAJA, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    h = tmp_path / "home"
    h.mkdir()
    return dict(
        os.environ,
        HOME=str(h),
        XDG_CONFIG_HOME=str(h / ".config"),
        NAJA_CACHE_DIR=str(tmp_path / "cache"),
        NAJA_ROOT_PREFIX=str(tmp_path / "root"),
        DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent",
    )


@pytest.fixture(scope="module")
def keyring_env(tmp_path_factory: pytest.TempPathFactory):
    session = KeyringSession(tmp_path_factory.mktemp("kr")).start()
    yield session.env
    session.stop()


def test_keys_and_matching() -> None:
    assert normalize_key("https://Prefix.DEV/org/") == "prefix.dev/org"
    assert normalize_key("s3://bucket/path") == "s3://bucket/path"
    url = "https://ghcr.io/org-a/channel/linux-64/repodata.json"
    assert match_score("ghcr.io/org-a", url) > match_score("ghcr.io", url)
    assert match_score("ghcr.io/org-b", url) is None
    assert match_score("*.example.org", "https://repo.example.org/x") is not None
    assert match_score("*.example.org", "https://example.com/x") is None


def test_longest_match_wins_and_env_overrides(tmp_path: Path) -> None:
    store = PlainFileStore(tmp_path / "auth.json")
    store.set("ghcr.io", AuthEntry("bearer", token="host-wide"))
    store.set("ghcr.io/org-a", AuthEntry("bearer", token="org-a"))
    store.set("*.example.org", AuthEntry("basic", username="u", password="p"))
    p = AuthProvider(environ={}, store=store)
    assert p.entry_for("https://ghcr.io/org-a/x/repodata.json").token == "org-a"
    assert p.entry_for("https://ghcr.io/org-b/x").token == "host-wide"
    assert p.entry_for("https://repo.example.org/c").username == "u"
    assert p.entry_for("https://other.org/c") is None
    env = {"NAJA_AUTH_GHCR_IO": "conda:from-env"}
    assert (
        AuthProvider(environ=env, store=store).entry_for("https://ghcr.io/org-a/x").kind
        == "conda_token"
    )
    blob = json.dumps({"other.org": {"BearerToken": "json-token"}})
    assert (
        AuthProvider(environ={"NAJA_AUTH_JSON": blob}, store=store)
        .entry_for("https://other.org/c")
        .token
        == "json-token"
    )


def test_plain_file_requires_0600(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    PlainFileStore(path).set("a.org", AuthEntry("bearer", token=SECRET))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(AuthError) as err:
        PlainFileStore(path).get("a.org")
    assert "chmod 600" in str(err.value)


def test_encrypted_file_needs_the_right_key(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path / "c.enc", tmp_path / "k", passphrase="one")
    store.set("a.org", AuthEntry("bearer", token=SECRET))
    assert SECRET.encode() not in (tmp_path / "c.enc").read_bytes()
    assert stat.S_IMODE((tmp_path / "c.enc").stat().st_mode) == 0o600
    assert (
        EncryptedFileStore(tmp_path / "c.enc", tmp_path / "k", passphrase="one").get("a.org").token
        == SECRET
    )
    with pytest.raises(AuthError) as err:
        EncryptedFileStore(tmp_path / "c.enc", tmp_path / "k", passphrase="two").get("a.org")
    assert "wrong key" in str(err.value) and SECRET not in str(err.value)


def test_cli_falls_back_to_encrypted_file_without_dbus(home: dict[str, str]) -> None:
    out = naja(home, "auth", "status")
    assert out.returncode == 0, out.stderr
    assert "encrypted file" in out.stdout and "keyring" in out.stdout
    assert out.stderr == ""  # no warnings flood
    assert naja(home, "auth", "login", "prefix.dev", "--token", stdin=SECRET + "\n").returncode == 0
    listed = json.loads(naja(home, "auth", "list", "--json").stdout)
    assert listed["credentials"] == [{"host": "prefix.dev", "kind": "bearer", "username": None}]
    key = Path(home["XDG_CONFIG_HOME"]) / "naja" / "auth.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_real_secret_service_round_trip(keyring_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(keyring_env)
    status = naja(env, "auth", "status")
    assert "OS keyring (SecretService)" in status.stdout, status.stdout + status.stderr
    assert (
        naja(
            env,
            "auth",
            "login",
            "repo.example.org/team",
            "--username",
            "me",
            stdin="pw-" + SECRET + "\n",
        ).returncode
        == 0
    )
    # The secret is in the keyring (read back through secretstorage directly), not in any file.
    code = (
        "import keyring, json, os\n"
        "v = keyring.get_keyring().get_password('naja', 'repo.example.org/team')\n"
        "print(json.loads(v)['BasicHTTP']['username']); os._exit(0)"
    )
    read = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert read.stdout.strip() == "me", read.stderr
    for path in Path(env["HOME"], ".config").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace")
    assert "repo.example.org/team" in naja(env, "auth", "list").stdout
    assert naja(env, "auth", "logout", "repo.example.org/team").returncode == 0
    read = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert read.returncode != 0  # gone from the keyring


def test_migrate_imports_rattler_mamba_netrc(home: dict[str, str]) -> None:
    h = Path(home["HOME"])
    (h / ".rattler").mkdir()
    (h / ".rattler" / "credentials.json").write_text(
        json.dumps({"prefix.dev": {"BearerToken": "r-tok"}})
    )
    (h / ".mamba" / "auth").mkdir(parents=True)
    (h / ".mamba" / "auth" / "authentication.json").write_text(
        json.dumps({"repo.mamba.pm": {"type": "CondaToken", "token": "m-tok"}})
    )
    (h / ".netrc").write_text("machine files.example.org login alice password n-pass\n")
    os.chmod(h / ".netrc", 0o600)
    out = naja(home, "auth", "migrate")
    assert out.returncode == 0, out.stderr
    listed = {
        c["host"]: c["kind"]
        for c in json.loads(naja(home, "auth", "list", "--json").stdout)["credentials"]
    }
    assert listed == {
        "prefix.dev": "bearer",
        "repo.mamba.pm": "conda_token",
        "files.example.org": "basic",
    }
    for word in ("r-tok", "m-tok", "n-pass"):
        assert word not in out.stdout + out.stderr


class _ChannelFiles(BaseHTTPRequestHandler):
    """Serves files of `root`: 401 unless `authorized`, 404 for what is not there."""

    root: Path

    def authorized(self) -> str | None:
        """The channel-relative path asked for, or None when the credential is missing."""
        raise NotImplementedError

    def do_GET(self) -> None:
        rel = self.authorized()
        if rel is None:
            self.send_response(401)
            self.end_headers()
            return
        path = self.root / rel.split("?")[0]
        if not path.is_file():
            self.send_response(404)
            self.end_headers()
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _TokenChannel(_ChannelFiles):
    def authorized(self) -> str | None:
        if self.headers.get("Authorization") != f"Bearer {SECRET}":
            return None
        return self.path.lstrip("/")


@pytest.fixture
def private_channel():
    handler = type("H", (_TokenChannel,), {"root": ROOT / "examples"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/demo-channel"
    server.shutdown()


def test_stored_token_reaches_the_server_and_never_the_output(
    home: dict[str, str], private_channel: str
) -> None:
    args = (
        "create",
        "--dry-run",
        "--json",
        "-c",
        private_channel,
        "--platform",
        "linux-64",
        "numpy",
    )
    denied = naja(home, *args)
    assert denied.returncode != 0
    assert "401" in denied.stderr or "auth" in denied.stderr.lower()
    assert naja(home, "auth", "login", "127.0.0.1", "--token", stdin=SECRET + "\n").returncode == 0
    # The leak sweep: every command with the credential configured, all output and files checked.
    runs = [
        naja(home, *args),
        naja(home, "auth", "list"),
        naja(home, "auth", "list", "--json"),
        naja(home, "auth", "status", "--json"),
        naja(home, "info", "--json"),
        naja(home, "config", "list", "--show-sources"),
        naja(home, "search", "numpy", "-c", private_channel, "--platform", "linux-64", "--json"),
        naja(
            home,
            "create",
            "--dry-run",
            "-c",
            private_channel,
            "--platform",
            "linux-64",
            "numpy",
            "-vvv",
        ),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert json.loads(runs[0].stdout)["success"] is True
    for run in runs:
        assert SECRET not in run.stdout + run.stderr
    for base in (Path(home["HOME"]), Path(home["NAJA_CACHE_DIR"])):
        for path in base.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


class _PathTokenChannel(_ChannelFiles):
    """Serves a channel only under /t/<SECRET>/ (anaconda.org-style tokens)."""

    def authorized(self) -> str | None:
        prefix = f"/t/{SECRET}/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None


def test_conda_token_in_channel_url_reaches_package_downloads(home: dict[str, str], tmp_path: Path) -> None:
    from tests.conftest import SHARED

    handler = type("H", (_PathTokenChannel,), {"root": SHARED / "corpora" / "packages" / "conda-tests"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channel = f"http://127.0.0.1:{server.server_address[1]}/t/{SECRET}/test-recipes"
        prefix = tmp_path / "env"
        run = naja(home, "create", "-y", "-p", str(prefix), "-c", channel, "--platform", "linux-64", "dependent")
        assert run.returncode == 0, run.stderr
        assert SECRET not in run.stdout + run.stderr
        assert (prefix / "conda-meta").is_dir()
        for path in prefix.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
    finally:
        server.shutdown()


LOOKUP = """
import sys
from naja.auth import AuthProvider
entry = AuthProvider().entry_for("https://prefix.dev/conda-forge/noarch/repodata.json")
print(entry.kind if entry else None, "keyring" in sys.modules)
"""


def test_lookup_opens_no_store_before_one_was_written(home: dict[str, str]) -> None:
    # Nothing stored yet: a lookup must not pay for importing the keyring and asking D-Bus.
    env = {k: v for k, v in home.items() if not k.startswith("NAJA_AUTH")}
    fresh = subprocess.run([sys.executable, "-c", LOOKUP], env=env, capture_output=True, text=True)
    assert fresh.stdout.split() == ["None", "False"], fresh.stderr
    # Once something is stored (here the encrypted file, D-Bus being absent), it is found.
    assert naja(env, "auth", "login", "prefix.dev", "--token", stdin=SECRET + "\n").returncode == 0
    stored = subprocess.run([sys.executable, "-c", LOOKUP], env=env, capture_output=True, text=True)
    assert stored.stdout.split()[0] == "bearer", stored.stderr
