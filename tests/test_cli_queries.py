"""Read-only commands: info, search, repoquery, clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DEMO = (ROOT / "examples" / "demo-channel").as_uri()


def naja(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naja", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, **(env or {})),
    )


def test_info_json() -> None:
    out = naja("info", "--json", env={"CONDA_OVERRIDE_GLIBC": "2.99"})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "__glibc=2.99=0" in data["virtual packages"]
    assert data["naja version"]
    pure = naja("info", "--json", env={"NAJA_PURE_PYTHON": "1"})
    assert json.loads(pure.stdout)["solver engine"].startswith("python")


def test_search_spec_and_glob() -> None:
    out = naja("search", "numpy>=1.15", "-c", DEMO, "--platform", "linux-64", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["result"]
    assert result and all(r["name"] == "numpy" and r["version"].startswith("1.15") for r in result)
    out = naja("search", "*dateutil*", "-c", DEMO, "--platform", "linux-64", "--json")
    assert {r["name"] for r in json.loads(out.stdout)["result"]} == {"python-dateutil"}


def test_repoquery_depends_and_whoneeds() -> None:
    out = naja("repoquery", "depends", "pandas", "-c", DEMO, "--platform", "linux-64", "--json")
    deps = {d["name"] for d in json.loads(out.stdout)["depends"]}
    assert {"numpy", "python", "pytz", "python-dateutil"} <= deps
    out = naja("repoquery", "whoneeds", "pytz", "-c", DEMO, "--platform", "linux-64", "--json")
    assert "pandas" in {d["name"] for d in json.loads(out.stdout)["whoneeds"]}
    out = naja("repoquery", "depends", "pandsa", "-c", DEMO, "--platform", "linux-64")
    assert out.returncode == 2 and "did you mean pandas" in out.stderr


def test_clean_removes_only_caches(tmp_path: Path) -> None:
    pkgs = tmp_path / "cache" / "pkgs"
    (pkgs / "foo-1-0" / "info").mkdir(parents=True)
    (pkgs / "foo-1-0" / "info" / "repodata_record.json").write_text("{}")
    (pkgs / "foo-1-0.conda").write_bytes(b"x" * 100)
    (pkgs / "keep.txt").write_text("not a package")
    env = {"NAJA_CACHE_DIR": str(tmp_path / "cache")}
    out = naja("clean", "--tarballs", "--json", "--dry-run", env=env)
    assert json.loads(out.stdout)["removed"] == [str(pkgs / "foo-1-0.conda")]
    assert (pkgs / "foo-1-0.conda").exists()
    out = naja("clean", "-a", "-y", env=env)
    assert out.returncode == 0, out.stderr
    # (.naja-locks is the cache's own lock folder)
    assert sorted(p.name for p in pkgs.iterdir() if not p.name.startswith(".")) == ["keep.txt"]
