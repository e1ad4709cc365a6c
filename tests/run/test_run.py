"""`naja run` attached: activation, exit codes, variables, working directory, streams, signals, TTY."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess

import pytest

from tests.run.fakeenv import FakeEnv


def test_runs_env_program_activated(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "--", "hello", "a b", "-x")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"hello from {fake_env.prefix} (demo)",
        "arg: a b",
        "arg: -x",
    ]


def test_command_without_double_dash(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "hello", "-x", "--cwd", "y")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1:] == ["arg: -x", "arg: --cwd", "arg: y"]


def test_activation_variables(fake_env: FakeEnv) -> None:
    out = fake_env.naja(
        "run", "-p", str(fake_env.prefix), "--", "sh", "-c", 'echo "$PATH|$CONDA_SHLVL"'
    )
    assert out.returncode == 0, out.stderr
    path, level = out.stdout.strip().split("|")
    assert path.split(":")[0] == str(fake_env.prefix / "bin")
    assert level == "1"


@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_exit_code_is_the_commands(fake_env: FakeEnv, code: int) -> None:
    out = fake_env.naja("run", "-n", "demo", "--", "sh", "-c", f"exit {code}")
    assert out.returncode == code


def test_killed_by_signal_looks_like_a_shell(fake_env: FakeEnv) -> None:
    # naja execs the command, so a shell calling it reports 128+N itself.
    cmd = shlex.join(fake_env.argv("run", "-n", "demo", "--", "sh", "-c", "kill -TERM $$"))
    out = subprocess.run(
        ["sh", "-c", f"{cmd}; echo status=$?"],
        capture_output=True,
        text=True,
        env=fake_env.environ,
        cwd=fake_env.work,
        timeout=60,
    )
    assert "status=143" in out.stdout


def test_command_not_found_is_127(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "--", "no-such-tool")
    assert out.returncode == 127
    assert "command 'no-such-tool' not found in environment demo" in out.stderr
    assert "naja install -n demo" in out.stderr
    assert "Traceback" not in out.stderr


def test_not_executable_is_126(fake_env: FakeEnv) -> None:
    (fake_env.work / "data.txt").write_text("x")
    out = fake_env.naja("run", "-n", "demo", "--", "./data.txt")
    assert out.returncode == 126
    assert "not an executable" in out.stderr


def test_exec_format_error_is_126(fake_env: FakeEnv) -> None:
    odd = fake_env.prefix / "bin" / "odd"
    odd.write_bytes(b"\x00\x01 not a program")
    odd.chmod(0o755)
    out = fake_env.naja("run", "-n", "demo", "--", "odd")
    assert out.returncode == 126
    assert "cannot run" in out.stderr and "Traceback" not in out.stderr


def test_missing_environment(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "nope", "--", "hello")
    assert out.returncode == 2
    assert "environment nope does not exist" in out.stderr
    assert "naja create -n nope" in out.stderr
    plain_dir = fake_env.tmp / "plain"
    plain_dir.mkdir()
    out = fake_env.naja("run", "-p", str(plain_dir), "--", "hello")
    assert out.returncode == 2 and "has no conda-meta/" in out.stderr


def test_env_flags_and_env_file(fake_env: FakeEnv) -> None:
    env_file = fake_env.work / "app.env"
    env_file.write_text(
        "# comment\n\nA=from-file\nB='quoted value'\nexport C=exported\nFROM_HOST\nOVER=file\n"
    )
    environ = {**fake_env.environ, "FROM_HOST": "host-value", "KEEP": "kept"}
    out = fake_env.naja(
        "run",
        "-n",
        "demo",
        "--env-file",
        str(env_file),
        "-e",
        "OVER=flag",
        "-e",
        "EMPTY=",
        "--",
        "sh",
        "-c",
        'echo "$A|$B|$C|$FROM_HOST|$OVER|${EMPTY-unset}|$KEEP"',
        env=environ,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "from-file|quoted value|exported|host-value|flag||kept"


def test_bad_env_assignment(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "-e", "1BAD=x", "--", "true")
    assert out.returncode == 2
    assert "invalid variable" in out.stderr


def test_clearenv_keeps_only_what_is_asked(fake_env: FakeEnv) -> None:
    environ = {**fake_env.environ, "LEAK": "x", "WANTED": "y"}
    out = fake_env.naja(
        "run",
        "-n",
        "demo",
        "--clearenv",
        "--keep-env",
        "WANTED",
        "--",
        "sh",
        "-c",
        'echo "${LEAK-none}|$WANTED|$HOME|$CONDA_PREFIX"',
        env=environ,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"none|y|{fake_env.home}|{fake_env.prefix}"


def test_cwd(fake_env: FakeEnv) -> None:
    target = fake_env.tmp / "elsewhere"
    target.mkdir()
    out = fake_env.naja(
        "run", "-n", "demo", "--cwd", str(target), "--", "sh", "-c", "pwd; echo $PWD"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(target), str(target)]
    out = fake_env.naja("run", "-n", "demo", "--cwd", str(fake_env.tmp / "missing"), "--", "pwd")
    assert out.returncode != 0


def test_attach_only_some_streams(fake_env: FakeEnv) -> None:
    script = "echo out; echo err >&2; cat"
    out = fake_env.naja(
        "run", "-n", "demo", "-a", "stdout", "--", "sh", "-c", script, input="typed\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "out\n"  # stdin came from /dev/null, stderr went there
    assert out.stderr == ""
    out = fake_env.naja(
        "run",
        "-n",
        "demo",
        "-a",
        "stdin",
        "-a",
        "stderr",
        "--",
        "sh",
        "-c",
        script,
        input="typed\n",
    )
    assert out.stdout == ""
    assert out.stderr == "err\n"


def test_stdin_passes_through(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "--", "sh", "-c", "tr a-z A-Z", input="piped\n")
    assert out.stdout == "PIPED\n"


def test_sigterm_reaches_the_command(fake_env: FakeEnv) -> None:
    proc = fake_env.start(
        "run",
        "-n",
        "demo",
        "--",
        "sh",
        "-c",
        "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "got-term" in out
    assert proc.returncode == 42


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_other_signals_reach_the_command(fake_env: FakeEnv, sig: signal.Signals) -> None:
    proc = fake_env.start(
        "run",
        "-n",
        "demo",
        "--",
        "sh",
        "-c",
        f"trap 'echo got-{sig.name}; exit 9' {sig.name[3:]}; echo ready; while :; do sleep 0.05; done",
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert f"got-{sig.name}" in out
    assert proc.returncode == 9


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux script")
def test_a_real_tty_when_attached(fake_env: FakeEnv) -> None:
    out = fake_env.naja_in_terminal(
        "run",
        "-n",
        "demo",
        "--",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo TTY-OK; (exec 3</dev/tty) 2>/dev/null && echo CTTY-OK",
    )
    assert "TTY-OK" in out.stdout
    assert "CTTY-OK" in out.stdout


def test_dry_run_shows_the_command(fake_env: FakeEnv) -> None:
    import json

    out = fake_env.naja("run", "-n", "demo", "--dry-run", "--", "hello")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["argv"] == [str(fake_env.prefix / "bin" / "hello")]
    assert data["sandbox"] is None
    assert data["env"]["CONDA_PREFIX"] == str(fake_env.prefix)


def test_no_python_pipe_quirks(fake_env: FakeEnv) -> None:
    # Python ignores SIGPIPE; the command must not inherit that (yes | head would spin or warn).
    out = fake_env.naja(
        "run", "-n", "demo", "--", "sh", "-c", "yes | head -n 2; echo done", timeout=20
    )
    assert out.stdout == "y\ny\ndone\n"
    assert out.stderr == ""
