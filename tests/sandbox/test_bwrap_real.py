"""`naja run --sandbox` with real bubblewrap: what the command can and cannot see and do."""

from __future__ import annotations

import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.run.fakeenv import FakeEnv, wait_for


@pytest.fixture(autouse=True)
def _needs_bwrap() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap is not installed (run dev/system-deps, or apt-get install bubblewrap)"
        )


@pytest.fixture
def server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1 that records what each connection sends."""
    received: list[bytes] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                received.append(conn.recv(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], received
    done.set()
    thread.join(5)
    sock.close()


def _sh(
    world: FakeEnv, script: str, *flags: str, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return world.naja("run", "-n", "demo", *flags, "--", "sh", "-c", script, **kwargs)


def test_env_programs_run(fake_env: FakeEnv) -> None:
    out = fake_env.naja("run", "-n", "demo", "--sandbox", "--", "hello", "x")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"hello from {fake_env.prefix} (demo)", "arg: x"]


def test_home_is_not_readable(fake_env: FakeEnv) -> None:
    secret = fake_env.home / "secret.txt"
    out = _sh(fake_env, f"cat {secret}; ls -A $HOME | wc -l", "--sandbox")
    assert "TOP-SECRET" not in out.stdout
    assert "No such file" in out.stderr
    assert out.stdout.strip() == "0"  # an empty home of its own
    # The same command outside the sandbox does read it (the test is meaningful).
    assert "TOP-SECRET" in _sh(fake_env, f"cat {secret}").stdout


def test_writes_outside_allowed_paths_fail(fake_env: FakeEnv) -> None:
    scratch = f"/tmp/naja-scratch-{uuid.uuid4().hex}"
    script = (
        "touch $CONDA_PREFIX/new 2>/dev/null && echo prefix-writable;"
        "touch ./here 2>/dev/null && echo cwd-writable;"
        "touch /usr/evil 2>/dev/null && echo usr-writable;"
        f"touch {scratch} && echo tmp-writable"
    )
    out = _sh(fake_env, script, "--sandbox")
    assert out.stdout.split() == ["tmp-writable"]
    assert not (fake_env.prefix / "new").exists() and not (fake_env.work / "here").exists()
    assert not Path(scratch).exists()  # the sandbox's /tmp is its own


def test_allow_write_makes_a_path_writable(fake_env: FakeEnv) -> None:
    out_dir = fake_env.tmp / "out"
    out_dir.mkdir()
    out = _sh(
        fake_env,
        f"echo data > {out_dir}/result && echo cwd > ./cwd-file",
        "--allow-write",
        str(out_dir),
        "--allow-write",
        ".",
    )
    assert out.returncode == 0, out.stderr
    assert (out_dir / "result").read_text() == "data\n"
    assert (fake_env.work / "cwd-file").read_text() == "cwd\n"


def test_allow_read(fake_env: FakeEnv) -> None:
    data = fake_env.tmp / "data"
    data.mkdir()
    (data / "in.txt").write_text("input\n")
    assert "input" not in _sh(fake_env, f"cat {data}/in.txt", "--sandbox").stdout
    out = _sh(fake_env, f"cat {data}/in.txt; touch {data}/x", "--allow-read", str(data))
    assert out.stdout == "input\n"
    assert not (data / "x").exists()


def test_denied_path_stays_denied_under_allowed_parent(fake_env: FakeEnv) -> None:
    ssh = fake_env.home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_text("PRIVATE-KEY\n")
    (fake_env.home / "notes.txt").write_text("public notes\n")
    data = fake_env.tmp / "data"
    (data / "private").mkdir(parents=True)
    (data / "private" / "p.txt").write_text("PRIVATE-DATA\n")
    (data / "token").write_text("PRIVATE-TOKEN\n")
    (data / "public.txt").write_text("public data\n")
    script = (
        f"cat $HOME/notes.txt {data}/public.txt; cat $HOME/.ssh/id_ed25519 {data}/private/p.txt {data}/token;"
        f"touch {data}/private/new"
    )
    out = _sh(
        fake_env,
        script,
        "--home",
        "ro",
        "--allow-write",
        str(data),
        "--deny-read",
        str(data / "private"),
        "--deny-read",
        str(data / "token"),
    )
    assert "public notes" in out.stdout and "public data" in out.stdout
    assert "PRIVATE" not in out.stdout
    assert not (data / "private" / "new").exists()
    # --home rw exposes the home but still not ~/.ssh (a default deny).
    out = _sh(fake_env, "cat $HOME/.ssh/id_ed25519; echo rw > $HOME/written", "--home", "rw")
    assert "PRIVATE" not in out.stdout
    assert (fake_env.home / "written").read_text() == "rw\n"


def test_allowed_file_inside_a_default_deny(fake_env: FakeEnv) -> None:
    ssh = fake_env.home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_text("PRIVATE-KEY\n")
    (ssh / "known_hosts").write_text("github.com ssh-ed25519 AAAA\n")
    out = _sh(
        fake_env,
        "cat $HOME/.ssh/known_hosts; cat $HOME/.ssh/id_ed25519; ls -A $HOME/.ssh; touch $HOME/.ssh/new",
        "--home",
        "ro",
        "--allow-read",
        "~/.ssh/known_hosts",
    )
    assert "github.com" in out.stdout
    assert "PRIVATE" not in out.stdout
    assert "id_ed25519" not in out.stdout
    assert not (ssh / "new").exists()


def test_network_switch(fake_env: FakeEnv, server: tuple[int, list[bytes]]) -> None:
    port, received = server
    connect = f"echo ping-$1 > /dev/tcp/127.0.0.1/{port} && echo connected"
    base = ["run", "-n", "demo"]
    ok = fake_env.naja(*base, "--sandbox", "--", "bash", "-c", connect, "_", "a")
    assert ok.returncode == 0, ok.stderr
    assert "connected" in ok.stdout
    wait_for(lambda: b"ping-a\n" in received, what="the server to get ping-a")

    blocked = fake_env.naja(
        *base, "--sandbox", "--no-network", "--", "bash", "-c", connect, "_", "b"
    )
    assert blocked.returncode != 0
    assert "connected" not in blocked.stdout
    only_net = fake_env.naja(
        *base, "--no-network", "--", "bash", "-c", connect + "; cat $HOME/secret.txt", "_", "c"
    )
    assert "connected" not in only_net.stdout
    assert "TOP-SECRET" in only_net.stdout  # network isolation alone leaves files alone
    assert b"ping-b\n" not in received and b"ping-c\n" not in received


def test_own_pid_namespace(fake_env: FakeEnv) -> None:
    import os

    out = _sh(
        fake_env,
        f"echo $$; ls /proc | grep -c '^[0-9]*$'; test -e /proc/{os.getpid()}/cmdline && cat /proc/{os.getpid()}/cmdline",
        "--sandbox",
    )
    pid, count, *rest = out.stdout.split("\n")
    assert int(pid) <= 3
    assert int(count) <= 5
    assert "pytest" not in "".join(rest)


def test_exit_codes_propagate(fake_env: FakeEnv) -> None:
    assert _sh(fake_env, "exit 7", "--sandbox").returncode == 7
    assert _sh(fake_env, "exit 0", "--sandbox").returncode == 0
    assert _sh(fake_env, "kill -TERM $$", "--sandbox").returncode == 128 + signal.SIGTERM
    assert _sh(fake_env, "kill -KILL $$", "--sandbox").returncode == 128 + signal.SIGKILL


def test_sigterm_reaches_the_sandboxed_command(fake_env: FakeEnv) -> None:
    script = "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done"
    proc = fake_env.start("run", "-n", "demo", "--sandbox", "--", "sh", "-c", script)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "got-term" in out, err
    assert proc.returncode == 42


def test_untrapped_sigterm_gives_143(fake_env: FakeEnv) -> None:
    proc = fake_env.start(
        "run", "-n", "demo", "--sandbox", "--", "sh", "-c", "echo ready; exec sleep 30"
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM


def test_stdin_passes_through(fake_env: FakeEnv) -> None:
    out = _sh(fake_env, "tr a-z A-Z", "--sandbox", input="piped\n")
    assert out.stdout == "PIPED\n"


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux script")
def test_tty_inside_the_sandbox(fake_env: FakeEnv) -> None:
    out = fake_env.naja_in_terminal(
        "run",
        "-n",
        "demo",
        "--sandbox",
        "--",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo TTY-OK; (exec 3</dev/tty) 2>/dev/null && echo CTTY-OK; exit 5",
    )
    assert "TTY-OK" in out.stdout
    assert "CTTY-OK" in out.stdout  # no --new-session: the terminal stays the controlling one
    assert out.returncode == 5


def test_config_sandboxes_without_flags(fake_env: FakeEnv, server: tuple[int, list[bytes]]) -> None:
    port, _received = server
    (fake_env.prefix / ".condarc").write_text("sandbox: {network: false, allow_write: [.]}\n")
    script = f"cat $HOME/secret.txt; echo ok > ./made; echo x > /dev/tcp/127.0.0.1/{port} && echo connected"
    out = fake_env.naja("run", "-n", "demo", "--", "bash", "-c", script)
    assert "TOP-SECRET" not in out.stdout and "connected" not in out.stdout
    assert (fake_env.work / "made").read_text() == "ok\n"
    # --no-sandbox turns the environment's default off.
    out = fake_env.naja("run", "-n", "demo", "--no-sandbox", "--", "bash", "-c", script)
    assert "TOP-SECRET" in out.stdout and "connected" in out.stdout


def test_sandbox_yaml(fake_env: FakeEnv) -> None:
    (fake_env.prefix / ".naja").mkdir()
    (fake_env.prefix / ".naja" / "sandbox.yaml").write_text("home: tmpfs\n")
    out = _sh(fake_env, "cat $HOME/secret.txt")
    assert "TOP-SECRET" not in out.stdout


def test_fail_closed_without_bwrap(fake_env: FakeEnv) -> None:
    marker = fake_env.tmp / "ran"
    env = {**fake_env.environ, "NAJA_BWRAP": str(fake_env.tmp / "no-bwrap")}
    out = _sh(fake_env, f"touch {marker}", "--sandbox", env=env)
    assert out.returncode == 125
    assert "cannot sandbox" in out.stderr and "hint:" in out.stderr
    assert not marker.exists()
    env = {**fake_env.environ, "PATH": "/nonexistent"}
    out = fake_env.naja(
        "run", "-n", "demo", "--no-network", "--", str(fake_env.prefix / "bin" / "hello"), env=env
    )
    assert out.returncode == 125
    assert "bubblewrap (bwrap) is not installed" in out.stderr
    assert "apt-get install bubblewrap" in out.stderr
    assert "hello from" not in out.stdout


def test_fail_closed_when_namespaces_are_refused(fake_env: FakeEnv) -> None:
    fake = fake_env.tmp / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    marker = fake_env.tmp / "ran"
    out = _sh(
        fake_env, f"touch {marker}", "--sandbox", env={**fake_env.environ, "NAJA_BWRAP": str(fake)}
    )
    assert out.returncode == 125
    assert "No permissions" in out.stderr and "user namespaces" in out.stderr
    assert not marker.exists()


def test_program_outside_the_sandbox(fake_env: FakeEnv) -> None:
    tool = fake_env.tmp / "tools" / "mytool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho tool ran\n")
    tool.chmod(0o755)
    out = fake_env.naja("run", "-n", "demo", "--sandbox", "--", str(tool))
    assert out.returncode == 127 and "outside the sandbox" in out.stderr
    out = fake_env.naja(
        "run", "-n", "demo", "--sandbox", "--allow-read", str(tool.parent), "--", str(tool)
    )
    assert out.stdout == "tool ran\n"


def test_detached_sandboxed_run_stops(fake_env: FakeEnv) -> None:
    import json

    out = fake_env.naja(
        "run",
        "-n",
        "demo",
        "-d",
        "--sandbox",
        "--",
        "sh",
        "-c",
        "trap 'echo bye; exit 3' TERM; echo up; while :; do sleep 0.05; done",
    )
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    log = fake_env.root / "run" / f"{run_id}.log"
    wait_for(lambda: "up" in log.read_text(), what="the sandboxed command to start")
    assert fake_env.naja("stop", run_id).returncode == 0
    [entry] = json.loads(fake_env.naja("ps", "--json").stdout)
    assert entry["status"] == "exited (3)" and entry["sandboxed"] is True
    assert "bye" in log.read_text()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("sandbox", [True, False])
def test_ctrl_c_at_a_terminal(fake_env: FakeEnv, sandbox: bool) -> None:
    """Ctrl-C reaches the command once and does not tear down the sandbox around it."""
    socket_name = f"naja-test-{uuid.uuid4().hex[:8]}"
    status = fake_env.tmp / "status"
    flags = ["--sandbox"] if sandbox else []
    naja = shlex.join(
        fake_env.argv(
            "run",
            "-n",
            "demo",
            *flags,
            "--",
            "sh",
            "-c",
            "trap 'echo got-INT; exit 4' INT; echo ready; while :; do sleep 0.05; done",
        )
    )
    env_prefix = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in fake_env.environ.items()
        if k in ("HOME", "NAJA_ROOT_PREFIX", "PATH")
    )
    shell_cmd = f"cd {shlex.quote(str(fake_env.work))}; env {env_prefix} {naja}; echo $? > {status}; sleep 30"
    tmux = ["tmux", "-L", socket_name]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "100", "-y", "20", shell_cmd], check=True, timeout=10
    )
    try:

        def pane() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=10
            ).stdout

        wait_for(lambda: "ready" in pane(), timeout=20, what="the command to start")
        subprocess.run([*tmux, "send-keys", "C-c"], check=True, timeout=10)
        wait_for(status.exists, timeout=20, what="naja to exit")
        wait_for(lambda: status.read_text().strip(), timeout=5, what="the status")
        assert status.read_text().strip() == "4"
        assert pane().count("got-INT") == 1
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP, signal.SIGQUIT])
def test_other_signals_reach_the_sandboxed_command(fake_env: FakeEnv, sig: signal.Signals) -> None:
    script = f"trap 'echo got-{sig.name}; exit 9' {sig.name[3:]}; echo ready; while :; do sleep 0.05; done"
    proc = fake_env.start("run", "-n", "demo", "--sandbox", "--", "sh", "-c", script)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert f"got-{sig.name}" in out, err
    assert proc.returncode == 9


def test_env_inside_the_home(tmp_path: Path) -> None:
    """The usual layout: the root prefix (~/.naja) lives in the home the sandbox hides."""
    from tests.run.fakeenv import make_env

    world = make_env(tmp_path)
    root = world.home / ".naja"
    (root / "envs").mkdir(parents=True)
    world.prefix.rename(root / "envs" / "demo")
    world.environ["NAJA_ROOT_PREFIX"] = str(root)
    out = world.naja(
        "run",
        "-n",
        "demo",
        "--sandbox",
        "--",
        "sh",
        "-c",
        "hello; cat $HOME/secret.txt; ls -A $HOME",
    )
    assert f"hello from {root / 'envs' / 'demo'} (demo)" in out.stdout
    assert "TOP-SECRET" not in out.stdout
    assert out.stdout.splitlines()[-1] == ".naja"  # only the path down to the environment


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_job_control_at_a_terminal(fake_env: FakeEnv) -> None:
    """Ctrl-Z stops the sandboxed command with naja, `fg` resumes both, Ctrl-C ends it (130)."""
    socket_name = f"naja-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket_name]
    ticks = fake_env.work / "ticks"
    naja = shlex.join(
        fake_env.argv(
            "run",
            "-n",
            "demo",
            "--sandbox",
            "--allow-write",
            ".",
            "--",
            "sh",
            "-c",
            "while :; do echo x >> ticks; sleep 0.1; done",
        )
    )
    exports = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in fake_env.environ.items()
        if k in ("HOME", "NAJA_ROOT_PREFIX", "PATH")
    )
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "150", "-y", "20", "bash --norc --noprofile -i"],
        check=True,
        timeout=10,
    )
    try:

        def send(*keys: str) -> None:
            subprocess.run([*tmux, "send-keys", *keys], check=True, timeout=10)

        def pane() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=10
            ).stdout

        def count() -> int:
            return len(ticks.read_text().splitlines()) if ticks.exists() else 0

        send(f"cd {shlex.quote(str(fake_env.work))}; export {exports}", "Enter")
        send(naja, "Enter")
        wait_for(lambda: count() >= 3, timeout=20, what="the command to run")
        send("C-z")
        wait_for(lambda: "Stopped" in pane(), timeout=10, what="the job to stop")
        stopped = count()
        time.sleep(0.6)
        assert count() <= stopped + 1  # nothing runs while stopped
        send("fg", "Enter")
        wait_for(lambda: count() >= stopped + 3, timeout=10, what="the job to resume")
        send("C-c")
        send("echo status=$?", "Enter")
        wait_for(lambda: "status=130" in pane(), timeout=10, what="exit status 130")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=10)
