"""An environment's life through the CLI: create, install, update, list, export, remove."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED

CHANNEL = (SHARED / "corpora" / "packages" / "conda-tests" / "test-recipes").as_uri()


@pytest.fixture
def naja(tmp_path: Path):
    env = dict(
        os.environ, NAJA_ROOT_PREFIX=str(tmp_path / "root"), NAJA_CACHE_DIR=str(tmp_path / "cache")
    )

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-m", "naja", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        if ok:
            assert out.returncode == 0, out.stderr
        return out

    return run


def names(prefix: Path) -> dict[str, str]:
    found = {}
    for p in (prefix / "conda-meta").glob("*.json"):
        rec = json.loads(p.read_text())
        found[rec["name"]] = rec["version"]
    return found


def test_lifecycle(naja, tmp_path: Path) -> None:
    prefix = tmp_path / "root" / "envs" / "e1"
    common = ("-c", CHANNEL, "--platform", "linux-64")
    naja("create", "-y", "-n", "e1", *common, "dependent=1.0")
    assert names(prefix) == {"dependent": "1.0", "dependency": "1.0"}

    # Installing the newer dependent moves its dependency along.
    naja("install", "-y", "-n", "e1", *common, "dependent=2.0")
    assert names(prefix) == {"dependent": "2.0", "dependency": "2.0"}

    listed = json.loads(naja("list", "-n", "e1", "--json").stdout)
    assert {e["name"] for e in listed} == {"dependent", "dependency"}

    explicit = naja("list", "-n", "e1", "--explicit", "--md5").stdout.splitlines()
    assert "@EXPLICIT" in explicit
    assert any(
        line.endswith(".conda#" + line.rsplit("#", 1)[1])
        for line in explicit
        if "#" in line and "://" in line
    )

    export = naja("env", "export", "-n", "e1", "--from-history").stdout
    assert "dependent=2.0" in export and "dependency" not in export.split("dependencies:")[1]

    envs = json.loads(naja("env", "list", "--json").stdout)["envs"]
    assert str(prefix) in envs

    # Removing the dependency takes what needs it too.
    naja("remove", "-y", "-n", "e1", "dependency")
    assert names(prefix) == {}

    naja("remove", "-y", "-n", "e1", "--all")
    assert not prefix.exists()


def test_install_into_missing_env_is_clear(naja) -> None:
    out = naja("install", "-y", "-n", "nope", "-c", CHANNEL, "x", ok=False)
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_create_refuses_existing_env(naja, tmp_path: Path) -> None:
    naja("create", "-y", "-n", "e2", "-c", CHANNEL, "--platform", "linux-64", "dependency")
    out = naja(
        "create", "-y", "-n", "e2", "-c", CHANNEL, "--platform", "linux-64", "dependency", ok=False
    )
    assert out.returncode == 2 and "already exists" in out.stderr


def test_confirmation_needs_a_terminal(naja, tmp_path: Path) -> None:
    out = naja(
        "create",
        "-p",
        str(tmp_path / "e3"),
        "-c",
        CHANNEL,
        "--platform",
        "linux-64",
        "dependency",
        ok=False,
    )
    assert out.returncode == 2 and "pass -y" in out.stderr
    assert not (tmp_path / "e3").exists()


def test_quiet_prints_nothing_on_success(naja, tmp_path: Path) -> None:
    out = naja(
        "-q",
        "create",
        "-y",
        "-p",
        str(tmp_path / "q"),
        "-c",
        CHANNEL,
        "--platform",
        "linux-64",
        "dependency",
    )
    assert out.stdout == "" and out.stderr == ""
    assert names(tmp_path / "q") == {"dependency": "2.0"}


def test_update_named_and_all(naja, tmp_path: Path) -> None:
    prefix = tmp_path / "root" / "envs" / "up"
    common = ("-c", CHANNEL, "--platform", "linux-64")
    naja("create", "-y", "-n", "up", *common, "dependent=1.0")
    # Without a named target nothing moves; --all moves every package to its best version.
    out = naja("update", "-n", "up", *common, ok=False)
    assert out.returncode == 2 and "--all" in out.stderr
    naja("update", "-y", "-n", "up", *common, "--all")
    assert names(prefix) == {"dependent": "2.0", "dependency": "2.0"}
