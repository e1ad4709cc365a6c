"""naja.env.activation: variables, conda-meta/state, activate.d scripts and their cache."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from naja.env import activation
from naja.env.activation import ActivationError, activate, activation_delta, path_entries


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "root" / "envs" / "app"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "bin").mkdir()
    return prefix


def _script(prefix: Path, name: str, body: str) -> Path:
    folder = prefix / "etc" / "conda" / "activate.d"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body)
    return path


def test_basic_variables(prefix: Path, tmp_path: Path) -> None:
    env = activate(prefix, {"PATH": "/usr/bin:/bin", "HOME": "/h"}, root=tmp_path / "root")
    assert env["PATH"] == f"{prefix}/bin:/usr/bin:/bin"
    assert env["CONDA_PREFIX"] == str(prefix)
    assert env["CONDA_DEFAULT_ENV"] == "app"
    assert env["CONDA_SHLVL"] == "1"
    assert env["CONDA_PROMPT_MODIFIER"] == "(app) "
    assert env["HOME"] == "/h"


def test_path_named_env_outside_root(tmp_path: Path) -> None:
    prefix = tmp_path / "elsewhere"
    (prefix / "conda-meta").mkdir(parents=True)
    env = activate(prefix, {"PATH": "/bin"}, root=tmp_path / "root")
    assert env["CONDA_DEFAULT_ENV"] == str(prefix)


def test_replaces_an_active_env(prefix: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    base = {"PATH": f"{old}/bin:/usr/bin", "CONDA_PREFIX": str(old), "CONDA_SHLVL": "1"}
    env = activate(prefix, base, root=tmp_path / "root")
    assert env["PATH"] == f"{prefix}/bin:/usr/bin"
    assert env["CONDA_SHLVL"] == "2"
    assert env["CONDA_PREFIX_1"] == str(old)


def test_windows_path_entries(tmp_path: Path) -> None:
    entries = path_entries(tmp_path, windows=True)
    assert entries[0] == str(tmp_path)
    assert str(tmp_path / "Library/bin") in entries and str(tmp_path / "Scripts") in entries


def test_state_env_vars(prefix: Path, tmp_path: Path) -> None:
    (prefix / "conda-meta" / "state").write_text(
        json.dumps({"env_vars": {"MY_VAR": "1", "OTHER": "x y"}})
    )
    env = activate(prefix, {"PATH": "/bin"}, root=tmp_path / "root")
    assert env["MY_VAR"] == "1" and env["OTHER"] == "x y"
    (prefix / "conda-meta" / "state").write_text("{broken")
    with pytest.raises(ActivationError, match="not valid JSON"):
        activate(prefix, {"PATH": "/bin"}, root=tmp_path / "root")


def test_activate_d_scripts(prefix: Path, tmp_path: Path) -> None:
    _script(
        prefix,
        "a.sh",
        'export FOO=bar\nexport PATH="/opt/tool/bin:$PATH"\nunset DROPME\necho noise\n',
    )
    _script(prefix, "b.sh", 'export FROM_A="$FOO-seen"\n')
    _script(prefix, "ignored.bat", "set X=1\n")
    base = {"PATH": "/usr/bin", "DROPME": "1", "HOME": str(tmp_path)}
    env = activate(prefix, base, root=tmp_path / "root")
    assert env["FOO"] == "bar"
    assert env["FROM_A"] == "bar-seen"
    assert env["PATH"] == f"/opt/tool/bin:{prefix}/bin:/usr/bin"
    assert "DROPME" not in env
    assert "X" not in env
    assert "SHLVL" not in env


def test_failing_script(prefix: Path, tmp_path: Path) -> None:
    _script(prefix, "bad.sh", "echo broken >&2; return 4\n")
    with pytest.raises(ActivationError, match="broken"):
        activate(prefix, {"PATH": "/usr/bin:/bin"}, root=tmp_path / "root")


def test_cache_skips_bash_and_follows_base(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _script(prefix, "a.sh", 'export PATH="/opt/x:$PATH"\nexport FOO=1\n')
    root = tmp_path / "root"
    first = activate(prefix, {"PATH": "/usr/bin"}, root=root)
    assert first["PATH"] == f"/opt/x:{prefix}/bin:/usr/bin"
    assert list((root / "cache" / "activation").glob("*.json"))

    calls: list[object] = []
    real_run = subprocess.run
    monkeypatch.setattr(
        activation.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k)
    )
    second = activate(prefix, {"PATH": "/sbin:/bin"}, root=root)
    assert calls == []  # served from the cache
    assert second["PATH"] == f"/opt/x:{prefix}/bin:/sbin:/bin"  # replayed on the new PATH
    assert second["FOO"] == "1"

    # Editing a script, or installing a package (conda-meta changes), runs the scripts again.
    script.write_text("export FOO=2\n")
    os.utime(script, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    assert activate(prefix, {"PATH": "/bin"}, root=root)["FOO"] == "2"
    assert len(calls) == 1
    (prefix / "conda-meta" / "pkg-1-0.json").write_text("{}")
    activate(prefix, {"PATH": "/bin"}, root=root)
    assert len(calls) == 2


def test_fingerprint_changes_with_state(prefix: Path) -> None:
    before = activation.fingerprint(prefix)
    (prefix / "conda-meta" / "state").write_text('{"env_vars": {}}')
    assert activation.fingerprint(prefix) != before


def test_fingerprint_sees_new_records_despite_equal_mtimes(prefix: Path) -> None:
    meta = prefix / "conda-meta"
    stamp = meta.stat().st_mtime_ns
    before = activation.fingerprint(prefix)
    (meta / "zlib-1.3-0.json").write_text("{}")
    os.utime(meta, ns=(stamp, stamp))
    assert activation.fingerprint(prefix) != before


def test_naja_run_uses_activation_scripts(tmp_path: Path) -> None:
    from tests.run.fakeenv import make_env

    env = make_env(tmp_path)
    _script(env.prefix, "tool.sh", "export TOOL_HOME=$CONDA_PREFIX/share/tool\n")
    out = env.naja("run", "-n", "demo", "--", "sh", "-c", "echo $TOOL_HOME")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{env.prefix}/share/tool"


def test_delta_lists_only_changes(prefix: Path, tmp_path: Path) -> None:
    _script(prefix, "a.sh", "export FOO=1\nunset GONE\n")
    base = {"PATH": "/bin", "HOME": "/h", "GONE": "x"}
    delta = activation_delta(prefix, base, root=tmp_path / "root")
    assert delta["PATH"] == f"{prefix}/bin:/bin"
    assert delta["FOO"] == "1" and delta["GONE"] is None
    assert "HOME" not in delta
