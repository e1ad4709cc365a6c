"""End to end: `naja create --dry-run --json` against channels served by nginx."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.repodata.conftest import DEMO, log_length, requests_seen


def _dry_run(channel_url: str, cache, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    env = dict(os.environ, NAJA_CACHE_DIR=str(cache))
    out = subprocess.run(
        [sys.executable, "-m", "naja", "create", "--dry-run", "--json", "--override-channels",
         "-c", channel_url, "--platform", "linux-64", "-p", "/tmp/naja-never-created",
         *extra, "python=3.7", "numpy"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _links(result: dict) -> list[tuple[str, str, str]]:
    return sorted((e["name"], e["version"], e["build_string"]) for e in result["actions"]["LINK"])


@pytest.mark.parametrize("forms", [("json", "zst", "shards"), ("shards",)])
def test_dry_run_over_http_matches_the_local_channel(demo_server, tmp_path, forms) -> None:
    server, _ = demo_server(*forms)
    local = _dry_run(DEMO.as_uri(), tmp_path / "local-cache")
    remote = _dry_run(f"{server.url}/demo", tmp_path / "cache")
    assert _links(remote) == _links(local) and _links(local)
    assert all(e["channel"] == f"{server.url}/demo" for e in remote["actions"]["LINK"])
    # The second run is served from the cache (revalidated: no body transferred) ...
    n = log_length(server)
    again = _dry_run(f"{server.url}/demo", tmp_path / "cache")
    assert _links(again) == _links(local)
    assert all(status in (304, 404) for _, _, status in requests_seen(server, n))
    # ... and works offline with the server gone.
    server.stop()
    offline = _dry_run(f"{server.url}/demo", tmp_path / "cache", "--offline")
    assert _links(offline) == _links(local)


def test_offline_without_cache_says_what_is_missing(demo_server, tmp_path) -> None:
    server, _ = demo_server("json")
    env = dict(os.environ, NAJA_CACHE_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "naja", "create", "--dry-run", "--json", "--offline",
         "--override-channels", "-c", f"{server.url}/demo", "--platform", "linux-64",
         "-p", "/tmp/naja-never-created", "numpy"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "not in the cache" in out.stderr and "linux-64/repodata.json" in out.stderr
