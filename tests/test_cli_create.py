"""`naja create` as a subprocess: the dry-run JSON contract and readable errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DEMO = ROOT / "examples" / "demo-channel"


def naja(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naja", *args], capture_output=True, text=True, timeout=120, env=env
    )


def dry_run(*specs: str) -> subprocess.CompletedProcess[str]:
    return naja(
        "create",
        "--dry-run",
        "--json",
        "--offline",
        "--override-channels",
        "-c",
        DEMO.as_uri(),
        "--platform",
        "linux-64",
        "-p",
        "/tmp/naja-never-created",
        *specs,
    )


def test_dry_run_json_contract() -> None:
    out = dry_run("python=3.7", "numpy")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["success"] is True
    link = {e["name"]: e for e in data["actions"]["LINK"]}
    assert link["python"]["version"].startswith("3.7")
    assert set(link["numpy"]) == {
        "name",
        "version",
        "build_string",
        "build_number",
        "channel",
        "subdir",
        "fn",
    }
    assert link["numpy"]["fn"].startswith("numpy-")
    assert data["actions"]["UNLINK"] == []
    assert data["timings"]["load_ms"] >= 0 and data["timings"]["solve_ms"] > 0
    assert not Path("/tmp/naja-never-created").exists()


def test_unsatisfiable_json() -> None:
    out = dry_run("numpy>=99")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["success"] is False
    assert "numpy" in data["error"]
    assert data["problems"]


def test_invalid_spec_points_at_it_without_traceback() -> None:
    out = dry_run("numpy[version=")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "numpy[version=" in out.stderr
    assert "^" in out.stderr


def test_missing_channel_is_one_clear_error(tmp_path: Path) -> None:
    out = naja(
        "create", "--dry-run", "--override-channels", "-c", (tmp_path / "nope").as_uri(), "x"
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "has no repodata.json" in out.stderr


def test_create_requires_a_target() -> None:
    out = naja("create", "-c", DEMO.as_uri(), "numpy")
    assert out.returncode == 2
    assert "-n NAME or -p PATH" in out.stderr
