"""`naja run -d`, `naja ps`, `naja stop`: detached runs, their logs and their exit status."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.run.fakeenv import FakeEnv, wait_for


def _ps(env: FakeEnv, *args: str) -> list[dict[str, object]]:
    out = env.naja("ps", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _detach(env: FakeEnv, *args: str) -> str:
    out = env.naja("run", "-n", "demo", "-d", *args)
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    assert len(run_id) == 12
    return run_id


def test_detach_ps_stop(fake_env: FakeEnv) -> None:
    run_id = _detach(
        fake_env,
        "--label",
        "web",
        "--label",
        "team=a",
        "--",
        "sh",
        "-c",
        "trap 'echo stopping; exit 0' TERM; echo started; while :; do sleep 0.05; done",
    )
    log = fake_env.root / "run" / f"{run_id}.log"
    wait_for(lambda: "started" in log.read_text(), what="the log")
    [entry] = _ps(fake_env)
    assert entry["id"] == run_id
    assert entry["status"] == "running" and entry["running"] is True
    assert entry["labels"] == ["web", "team=a"]
    assert entry["command"] == ["sh", "-c", entry["command"][2]]
    assert isinstance(entry["pid"], int)
    os.kill(entry["pid"], 0)  # a real, live process
    assert _ps(fake_env, "--label", "web") and not _ps(fake_env, "--label", "other")

    table = fake_env.naja("ps").stdout
    assert run_id in table and "running" in table and "web,team=a" in table

    out = fake_env.naja("stop", run_id[:6])
    assert out.returncode == 0, out.stderr
    [entry] = _ps(fake_env)
    assert entry["status"] == "exited (0)"
    assert "stopping" in log.read_text()
    assert _ps(fake_env, "--running") == []
    again = fake_env.naja("stop", run_id)
    assert again.returncode == 0 and "not running" in again.stdout


def test_detached_exit_code_is_recorded(fake_env: FakeEnv) -> None:
    run_id = _detach(fake_env, "--", "sh", "-c", "echo bye; exit 3")
    wait_for(lambda: _ps(fake_env)[0]["status"] == "exited (3)", what="exit 3")
    assert (fake_env.root / "run" / f"{run_id}.log").read_text() == "bye\n"


def test_stop_escalates_to_sigkill(fake_env: FakeEnv) -> None:
    run_id = _detach(fake_env, "--", "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done")
    wait_for(lambda: _ps(fake_env)[0]["status"] == "running", what="running")
    out = fake_env.naja("stop", "--time", "0.5", run_id)
    assert out.returncode == 0, out.stderr
    assert _ps(fake_env)[0]["status"] == f"exited ({128 + signal.SIGKILL})"


def test_stop_with_another_signal(fake_env: FakeEnv) -> None:
    run_id = _detach(fake_env, "--", "sh", "-c", "while :; do sleep 0.05; done")
    wait_for(lambda: _ps(fake_env)[0]["status"] == "running", what="running")
    assert fake_env.naja("stop", "-s", "INT", run_id).returncode == 0
    assert _ps(fake_env)[0]["status"] == f"exited ({128 + signal.SIGINT})"


def test_detached_survives_the_caller_and_keeps_env(fake_env: FakeEnv) -> None:
    run_id = _detach(
        fake_env, "-e", "GREETING=hi", "--", "sh", "-c", 'echo "$GREETING $CONDA_DEFAULT_ENV"'
    )
    log = fake_env.root / "run" / f"{run_id}.log"
    wait_for(lambda: log.exists() and log.read_text() == "hi demo\n", what="the log")


def test_unknown_ids_and_signals(fake_env: FakeEnv) -> None:
    out = fake_env.naja("stop", "deadbeef")
    assert out.returncode != 0 and "no detached run" in out.stderr
    run_id = _detach(fake_env, "--", "true")
    out = fake_env.naja("stop", "-s", "NOPE", run_id)
    assert out.returncode == 2 and "unknown signal" in out.stderr
    assert fake_env.naja("ps").returncode == 0


def test_attach_and_detach_conflict(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "-d", "-a", "stdout", "--", "true")
    assert out.returncode == 2


def test_empty_ps(fake_env: FakeEnv, tmp_path: Path) -> None:
    assert _ps(fake_env) == []
    assert "no detached runs" in fake_env.naja("ps").stdout


def test_lost_when_monitor_and_command_die(fake_env: FakeEnv) -> None:
    _detach(fake_env, "--", "sh", "-c", "while :; do sleep 0.05; done")
    [entry] = wait_for(
        lambda: [e for e in _ps(fake_env) if e["status"] == "running"], what="running"
    )
    os.kill(entry["monitor_pid"], signal.SIGKILL)
    os.killpg(entry["pid"], signal.SIGKILL)
    wait_for(lambda: _ps(fake_env)[0]["status"] == "lost", what="the run to be reported lost")
    out = fake_env.naja("stop", entry["id"])
    assert out.returncode == 0 and "not running (lost)" in out.stdout


def test_stop_when_only_the_monitor_died(fake_env: FakeEnv) -> None:
    _detach(fake_env, "--", "sh", "-c", "while :; do sleep 0.05; done")
    [entry] = wait_for(
        lambda: [e for e in _ps(fake_env) if e["status"] == "running"], what="running"
    )
    os.kill(entry["monitor_pid"], signal.SIGKILL)
    assert fake_env.naja("stop", entry["id"]).returncode == 0
    wait_for(lambda: _ps(fake_env)[0]["status"] == "lost", what="the command to be gone")


def test_prune_forgets_finished_runs(fake_env: FakeEnv) -> None:
    done_id = _detach(fake_env, "--", "true")
    live_id = _detach(fake_env, "--", "sh", "-c", "while :; do sleep 0.05; done")
    wait_for(
        lambda: (
            {e["id"]: e["status"] for e in _ps(fake_env)}
            == {done_id: "exited (0)", live_id: "running"}
        ),
        what="one finished, one running",
    )
    listed = _ps(fake_env, "--prune")
    assert len(listed) == 2  # listed once more, then forgotten
    assert [e["id"] for e in _ps(fake_env)] == [live_id]
    assert not (fake_env.root / "run" / f"{done_id}.log").exists()
    assert fake_env.naja("stop", "-t", "2", live_id).returncode == 0
