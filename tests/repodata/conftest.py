"""Channel servers for the repodata tests: the same index in every form, over real nginx."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from naja.specs.channel import Channel
from tests.conftest import REPODATA, ROOT
from tests.repodata.channel_writer import write_channel
from tests.servers.nginx import NginxServer, nginx  # noqa: F401

DEMO = ROOT / "examples" / "demo-channel"
INDEX4 = REPODATA / "index4"
FORMS = {
    "json": ("json",),
    "zst": ("json", "zst"),
    "zck": ("json", "zck"),
    "shards": ("json", "shards"),
    "shards-only": ("shards",),
}
_LOG_RE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})')


def read_subdirs(source: Path) -> dict[str, bytes]:
    return {sub: (source / sub / "repodata.json").read_bytes() for sub in ("linux-64", "noarch")}


@pytest.fixture(scope="session")
def index4_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """index4 (linux-64 + noarch) written once per form: <root>/<form>/<subdir>/..."""
    root = tmp_path_factory.mktemp("index4-channels")
    subdirs = read_subdirs(INDEX4)
    for form, parts in FORMS.items():
        if "zck" in parts and shutil.which("zck") is None:
            continue
        write_channel(root / form, subdirs, parts)
    return root


@pytest.fixture(scope="session")
def index4_server(index4_root: Path):  # type: ignore[no-untyped-def]
    server = NginxServer(index4_root, access_log=True).start()
    yield server
    server.stop()


def requests_seen(server: NginxServer, since: int = 0) -> list[tuple[str, str, int]]:
    """(method, path, status) of every request logged after the first `since` lines."""
    path = Path(server.state_dir) / "access.log"
    # nginx writes the line just after the response: give it a moment.
    time.sleep(0.05)
    lines = path.read_text().splitlines() if path.exists() else []
    out = []
    for line in lines[since:]:
        m = _LOG_RE.search(line)
        if m:
            out.append((m["method"], m["path"], int(m["status"])))
    return out


def log_length(server: NginxServer) -> int:
    time.sleep(0.05)
    path = Path(server.state_dir) / "access.log"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def demo_server(
    nginx: Callable[..., NginxServer],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> Callable[..., tuple[NginxServer, Path]]:
    """A fresh writable copy of the demo channel in the given forms, served by its own nginx."""

    def make(*forms: str, extra: str = "") -> tuple[NginxServer, Path]:
        root = tmp_path / "www"
        write_channel(root / "demo", read_subdirs(DEMO), forms or ("json", "zst", "shards"))
        return nginx(root, access_log=True, extra=extra), root / "demo"

    return make


def channel(server: NginxServer, path: str) -> Channel:
    return Channel.parse(f"{server.url}/{path}")


def full_records(source: Path, subdir: str) -> dict[str, dict]:
    data = json.loads((source / subdir / "repodata.json").read_bytes())
    out = dict(data.get("packages") or {})
    out.update(data.get("packages.conda") or {})
    return out
