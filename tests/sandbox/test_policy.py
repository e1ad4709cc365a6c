"""SandboxPolicy and the bubblewrap command line built from it (pure, no bwrap needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from naja.sandbox.bwrap import ENV_RESET, bwrap_argv, sandbox_env
from naja.sandbox.errors import SandboxConfigError
from naja.sandbox.policy import Denied, SandboxPolicy, SystemLayout, make_policy, visible_inside

LAYOUT = SystemLayout(
    binds=("/usr", "/etc/ssl", "/etc/passwd"),
    symlinks=(("/bin", "usr/bin"), ("/lib", "usr/lib")),
    network_binds=("/etc/resolv.conf", "/etc/hosts"),
)


def _policy(**changes: object) -> SandboxPolicy:
    base: dict[str, object] = {
        "prefix": Path("/envs/app"),
        "cwd": Path("/work/project"),
        "home": Path("/home/u"),
        "system": LAYOUT,
    }
    base.update(changes)
    return SandboxPolicy(**base)  # type: ignore[arg-type]


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_default_argv_shape() -> None:
    argv = bwrap_argv(_policy(), ["/envs/app/bin/tool", "-x"], bwrap="/usr/bin/bwrap")
    assert argv[0] == "/usr/bin/bwrap"
    sep = argv.index("--")
    assert argv[sep + 1 :] == [*ENV_RESET, "/envs/app/bin/tool", "-x"]
    opts = argv[:sep]
    for flag in (
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--new-session",
    ):
        assert flag in opts
    assert "--unshare-net" not in opts
    assert opts[opts.index("--cap-drop") + 1] == "ALL"
    assert "/usr" in _pairs(opts, "--ro-bind-try")
    assert "/etc/resolv.conf" in _pairs(opts, "--ro-bind-try")  # network allowed
    assert _pairs(opts, "--symlink") == ["usr/bin", "usr/lib"]
    assert "/envs/app" in _pairs(opts, "--ro-bind")
    assert "/work/project" in _pairs(opts, "--ro-bind")
    assert "/home/u" in _pairs(opts, "--tmpfs")
    assert {"/tmp", "/dev/shm"} <= set(_pairs(opts, "--tmpfs"))
    assert _pairs(opts, "--proc") == ["/proc"] and _pairs(opts, "--dev") == ["/dev"]
    assert opts[opts.index("--chdir") + 1] == "/work/project"
    # Nothing of the host's home or root is bound.
    assert "/" not in _pairs(opts, "--bind") + _pairs(opts, "--ro-bind")
    assert "/home/u" not in _pairs(opts, "--bind") + _pairs(opts, "--ro-bind")


def test_no_network() -> None:
    argv = bwrap_argv(_policy(network=False), ["x"])
    assert "--unshare-net" in argv
    assert "/etc/resolv.conf" not in argv and "/etc/hosts" not in argv


def test_tty_keeps_the_session() -> None:
    assert "--new-session" not in bwrap_argv(_policy(new_session=False), ["x"])


def test_without_signal_reset() -> None:
    argv = bwrap_argv(_policy(), ["x"], reset_signals=False)
    assert argv[argv.index("--") + 1 :] == ["x"]


def test_home_modes() -> None:
    assert "/home/u" in _pairs(bwrap_argv(_policy(home_mode="ro"), ["x"]), "--ro-bind")
    assert "/home/u" in _pairs(bwrap_argv(_policy(home_mode="rw"), ["x"]), "--bind")


def test_write_and_read_paths_and_cwd_modes() -> None:
    argv = bwrap_argv(_policy(read=(Path("/data"),), write=(Path("/out"),), cwd_mode="rw"), ["x"])
    assert "/data" in _pairs(argv, "--ro-bind")
    assert {"/out", "/work/project"} <= set(_pairs(argv, "--bind"))
    argv = bwrap_argv(_policy(cwd_mode="none"), ["x"])
    assert "/work/project" not in _pairs(argv, "--ro-bind") + _pairs(argv, "--bind")


def test_denied_path_masked_after_its_allowed_parent() -> None:
    policy = _policy(
        home_mode="ro",
        deny=(Denied(Path("/home/u/.ssh"), True), Denied(Path("/home/u/.netrc"), False)),
        write=(Path("/home/u/.ssh/sub"),),
    )
    argv = bwrap_argv(policy, ["x"])
    home_bind = argv.index("/home/u")
    ssh_mask = argv.index("/home/u/.ssh")
    assert argv[ssh_mask - 3 : ssh_mask] == ["--perms", "0555", "--tmpfs"]
    remount = argv.index("--remount-ro")
    assert argv[remount + 1] == "/home/u/.ssh"
    assert remount > argv.index("/home/u/.ssh/sub")  # read-only once the inner mount exists
    assert home_bind < ssh_mask
    netrc = argv.index("/home/u/.netrc")
    assert argv[netrc - 2 : netrc] == ["--ro-bind", "/dev/null"]
    # A more specific allowed path inside the denied one is mounted after the mask.
    assert argv.index("/home/u/.ssh/sub") > ssh_mask


def test_prefix_inside_tmpfs_home_comes_after_it() -> None:
    argv = bwrap_argv(_policy(prefix=Path("/home/u/.naja/envs/app")), ["x"])
    assert argv.index("/home/u") < argv.index("/home/u/.naja/envs/app")


def test_network_only_mode_keeps_host_files() -> None:
    policy = _policy(filesystem=False, network=False, deny=(Denied(Path("/home/u/.ssh"), True),))
    argv = bwrap_argv(policy, ["x"])
    assert argv[1:4] == ["--bind", "/", "/"]
    assert "--unshare-net" in argv and "/usr" not in argv
    assert "/home/u/.ssh" in _pairs(argv, "--tmpfs")


def test_sandbox_env_points_tmpdir_inside() -> None:
    assert sandbox_env(_policy(), {"TMPDIR": "/var/tmp/x", "A": "1"}) == {
        "TMPDIR": "/tmp",
        "A": "1",
    }
    assert sandbox_env(_policy(filesystem=False), {"TMPDIR": "/x"}) == {"TMPDIR": "/x"}


def test_visible_inside() -> None:
    policy = _policy(deny=(Denied(Path("/envs/app/secret"), True),))
    assert visible_inside(policy, Path("/envs/app/bin/tool"))
    assert visible_inside(policy, Path("/usr/bin/env"))
    assert not visible_inside(policy, Path("/opt/other/tool"))
    assert not visible_inside(policy, Path("/envs/app/secret/x"))
    inner = _policy(
        deny=(Denied(Path("/envs/app/secret"), True),), read=(Path("/envs/app/secret/ok"),)
    )
    assert visible_inside(inner, Path("/envs/app/secret/ok/tool"))


def test_make_policy_resolves_and_denies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".aws").mkdir()
    (home / "notes").write_text("x")
    work = tmp_path / "work"
    work.mkdir()
    (work / "out").mkdir()
    policy = make_policy(
        prefix=tmp_path / "env",
        cwd=work,
        home=home,
        home_mode="ro",
        allow_write=["out", "."],
        allow_read=["~/.aws"],
        deny_read=["~/notes"],
        system=LAYOUT,
    )
    assert policy.write == (work / "out", work)
    assert policy.cwd_mode == "none"  # already writable
    denied = {d.path: d.is_dir for d in policy.deny}
    assert denied == {home / ".ssh": True, home / "notes": False}  # ~/.aws explicitly allowed
    assert policy.new_session is True


def test_make_policy_only_masks_visible_denies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    policy = make_policy(
        prefix=tmp_path / "env", cwd=work, home=home, system=LAYOUT, attached_tty=True
    )
    assert policy.deny == ()  # the home is an empty tmpfs: nothing shows through
    assert policy.new_session is False
    assert policy.cwd_mode == "ro"


def test_make_policy_cwd_that_contains_home_is_not_bound(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    policy = make_policy(prefix=tmp_path / "env", cwd=tmp_path, home=home, system=LAYOUT)
    assert policy.cwd_mode == "none"


def test_make_policy_rejects_missing_paths_and_modes(tmp_path: Path) -> None:
    with pytest.raises(SandboxConfigError, match="does not exist"):
        make_policy(
            prefix=tmp_path, cwd=tmp_path, home=tmp_path, allow_read=["nope"], system=LAYOUT
        )
    with pytest.raises(SandboxConfigError, match="unknown home mode"):
        make_policy(prefix=tmp_path, cwd=tmp_path, home=tmp_path, home_mode="open", system=LAYOUT)


def test_detected_layout_matches_this_host() -> None:
    layout = SystemLayout.detect()
    assert "/usr" in layout.binds
    for path, target in layout.symlinks:
        assert Path(path).is_symlink() and target


def test_home_at_root_is_never_mounted(tmp_path: Path) -> None:
    argv = bwrap_argv(_policy(home=Path("/")), ["x"])
    assert "/" not in _pairs(argv, "--tmpfs")
    with pytest.raises(SandboxConfigError, match="home directory is /"):
        make_policy(prefix=tmp_path, cwd=tmp_path, home=Path("/"), home_mode="ro", system=LAYOUT)
