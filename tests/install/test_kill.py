"""kill -9 and Ctrl-C at random points of a real transaction in a child process: after the next
naja run (`recover`), the prefix is exactly the old environment or exactly the new one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from naja.install import PackageCache, install, installed_records, recover
from tests.conftest import ROOT
from tests.install.pkgmaker import PLACEHOLDER, Pkg, channel_records, make_channel
from tests.install.test_transaction import consistent, snapshot

RUNS = 24


def _files(tag: str, n: int) -> dict[str, bytes]:
    return {f"lib/{tag}/f{i:04d}.txt": f"{tag} {i}\n".encode() for i in range(n)}


@pytest.fixture(scope="module")
def kill_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("killch")
    pkgs = [
        # old set: oldx is upgraded to newx (shared paths), oldy is replaced by newy
        Pkg("oldx", files={**_files("x", 400), "share/shared.txt": b"old"}),
        Pkg("oldy", files=_files("y", 300)),
        Pkg("newx", files={**_files("x", 400), "share/shared.txt": b"new"}),
        Pkg("newz", files={**_files("z", 400), "bin/.newz-post-link.sh": b"true\n",
                           **{f"etc/z{i}.conf": f"prefix={PLACEHOLDER}\n".encode() for i in range(20)}},
            prefix_files={f"etc/z{i}.conf": "text" for i in range(20)}),
        Pkg("newy", files={**_files("y", 300), "lib/y/extra": b"1"}),
    ]
    return make_channel(root, pkgs)


def _start(prefix: Path, cache: Path, channel: Path, mode: str = "warm") -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.install.tx_worker", str(prefix), str(cache), str(channel), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )


def test_kill_at_random_points(tmp_path: Path, kill_channel: Path) -> None:
    recs = channel_records(kill_channel)
    cache_dir = tmp_path / "pkgs"
    cache = PackageCache([cache_dir])
    old = [recs["oldx"], recs["oldy"]]
    new_names = {"newx-1.0", "newy-1.0", "newz-1.0"}
    old_names = {"oldx-1.0", "oldy-1.0"}

    # Calibrate: how long does the install take in the child, with and without a warm cache?
    duration = {}
    for mode in ("warm", "cold"):
        prefix = tmp_path / f"calib-{mode}"
        install(prefix, old, cache=cache)
        p = _start(prefix, cache_dir if mode == "warm" else tmp_path / "calib-pkgs", kill_channel, mode)
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        duration[mode] = float(out.split()[-1])
        assert consistent(prefix) == new_names

    rng = random.Random(1234)
    outcomes = {"old": 0, "new": 0}
    for run in range(RUNS):
        prefix = tmp_path / f"run{run}"
        install(prefix, old, cache=cache)
        before = snapshot(prefix)
        # Odd runs are cold: the kill may land while packages are still being extracted (into
        # a cache of their own, which the next run then has to cope with).
        mode = "cold" if run % 2 else "warm"
        run_cache = cache_dir if mode == "warm" else tmp_path / f"pkgs-{run}"
        p = _start(prefix, run_cache, kill_channel, mode)
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "go"
        # Random points, plus both ends for sure: at once, and after the install finished.
        delay = rng.uniform(0, duration[mode] * 1.2)
        if run == 0:
            delay = 0.0
        elif run == RUNS - 2:
            delay = duration[mode] * 3 + 0.5
        time.sleep(delay)
        # Every fourth run is a Ctrl-C (the process rolls back itself), the rest kill -9.
        p.send_signal(signal.SIGINT if run % 4 == 3 else signal.SIGKILL)
        p.communicate(timeout=60)
        recover(prefix)  # what the next naja run does first
        state = consistent(prefix)
        assert state in (old_names, new_names), state
        if state == old_names:
            assert snapshot(prefix) == before
            outcomes["old"] += 1
        else:
            assert (prefix / "share/shared.txt").read_bytes() == b"new"
            outcomes["new"] += 1
        # and the prefix stays usable: the next transaction goes through
        stale = [r for r in installed_records(prefix) if r.name.startswith("old")]
        install(prefix, [recs["newx"], recs["newy"], recs["newz"]], stale, cache=PackageCache([run_cache]))
        assert consistent(prefix) == new_names
    # The random points must have hit both sides of the commit at least once.
    print(f"install warm {duration['warm']:.3f}s cold {duration['cold']:.3f}s; outcomes {outcomes}")
    assert outcomes["old"] and outcomes["new"], outcomes
