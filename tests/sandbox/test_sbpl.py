"""The macOS sandbox-exec profile generated from a policy (text only; it cannot run here)."""

from __future__ import annotations

from pathlib import Path

from naja.sandbox.policy import Denied, SandboxPolicy
from naja.sandbox.sbpl import darwin_path, sandbox_exec_argv, sbpl_profile


def _policy(**changes: object) -> SandboxPolicy:
    base: dict[str, object] = {
        "prefix": Path("/Users/u/.naja/envs/app"),
        "cwd": Path("/tmp/project"),
        "home": Path("/Users/u"),
    }
    base.update(changes)
    return SandboxPolicy(**base)  # type: ignore[arg-type]


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_darwin_paths() -> None:
    assert darwin_path("/tmp/x") == "/private/tmp/x"
    assert darwin_path("/var/folders/ab") == "/private/var/folders/ab"
    assert darwin_path("/etc") == "/private/etc"
    assert darwin_path("/tmpfoo") == "/tmpfoo"
    assert darwin_path("/Users/u") == "/Users/u"


def test_default_profile() -> None:
    text = sbpl_profile(_policy())
    lines = _lines(text)
    assert lines[:2] == ["(version 1)", "(deny default)"]
    assert '(subpath "/usr")' in text and '(subpath "/private/etc")' in text
    assert (
        '(allow file-read* file-write* (subpath "/private/tmp") (subpath "/private/var/folders"))'
        in lines
    )
    assert '(deny file-read* file-write* (subpath "/Users/u"))' in lines  # home hidden
    home_rule = lines.index('(deny file-read* file-write* (subpath "/Users/u"))')
    prefix_rule = lines.index('(allow file-read* (subpath "/Users/u/.naja/envs/app"))')
    assert home_rule < prefix_rule  # the env inside the home stays readable
    assert '(allow file-read* (subpath "/private/tmp/project"))' in lines  # cwd resolved
    assert lines[-1] == "(allow network*)"
    assert text.endswith("\n")


def test_no_network() -> None:
    text = sbpl_profile(_policy(network=False))
    assert "(allow network*)" not in text
    assert "(allow network* (remote unix))" in text


def test_denied_under_readable_home_comes_later() -> None:
    policy = _policy(
        home_mode="ro",
        deny=(Denied(Path("/Users/u/.ssh"), True),),
        write=(Path("/tmp/out"),),
        cwd_mode="rw",
    )
    lines = _lines(sbpl_profile(policy))
    allow_home = lines.index('(allow file-read* (subpath "/Users/u"))')
    deny_ssh = lines.index('(deny file-read* file-write* (subpath "/Users/u/.ssh"))')
    assert allow_home < deny_ssh
    assert '(allow file-read* file-write* (subpath "/private/tmp/out"))' in lines
    assert '(allow file-read* file-write* (subpath "/private/tmp/project"))' in lines


def test_quoting() -> None:
    text = sbpl_profile(_policy(read=(Path('/data/we"ird\\name'),)))
    assert '(subpath "/data/we\\"ird\\\\name")' in text


def test_filesystem_off_allows_all_files() -> None:
    text = sbpl_profile(_policy(filesystem=False, network=False))
    assert '(allow file-read* file-write* (subpath "/"))' in text
    assert "(allow network*)" not in text


def test_argv() -> None:
    argv = sandbox_exec_argv(_policy(), ["/bin/echo", "hi"])
    assert argv[0] == "/usr/bin/sandbox-exec" and argv[1] == "-p"
    assert argv[2].startswith("(version 1)")
    assert argv[3:] == ["/bin/echo", "hi"]
