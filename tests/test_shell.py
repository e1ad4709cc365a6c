"""Shell integration in real shells: activation, deactivation, init blocks, completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from naja.env.shells import BEGIN, END, render_changes, replace_block

NAJA = str(Path(sys.executable).parent / "naja")


@pytest.fixture
def env_root(tmp_path: Path) -> dict[str, str]:
    root = tmp_path / "root"
    for name in ("sci", "web"):
        prefix = root / "envs" / name
        (prefix / "conda-meta").mkdir(parents=True)
        (prefix / "bin").mkdir()
    act = root / "envs" / "sci" / "etc" / "conda" / "activate.d"
    act.mkdir(parents=True)
    (act / "x.sh").write_text('export SCI_HOME="$CONDA_PREFIX/share/sci"\n')
    deact = root / "envs" / "sci" / "etc" / "conda" / "deactivate.d"
    deact.mkdir(parents=True)
    (deact / "x.sh").write_text("unset SCI_HOME\n")
    path = f"{Path(NAJA).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return dict(os.environ, NAJA_ROOT_PREFIX=str(root), HOME=str(tmp_path), PATH=path)


def sh(shell: str, script: str, env: dict[str, str]) -> str:
    if shutil.which(shell) is None:
        pytest.fail(f"{shell} is not installed (./dev/system-deps installs it)")
    out = subprocess.run([shell, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_posix_activate_stack_deactivate(shell: str, env_root: dict[str, str]) -> None:
    root = env_root["NAJA_ROOT_PREFIX"]
    out = sh(
        shell,
        f'eval "$({NAJA} shell hook -s {shell})"\n'
        "naja activate sci\n"
        'echo "1 $CONDA_PREFIX $CONDA_SHLVL $SCI_HOME ${PATH%%:*}"\n'
        "naja activate web\n"
        'echo "2 $CONDA_PREFIX $CONDA_SHLVL $CONDA_PREFIX_1"\n'
        "naja deactivate\n"
        'echo "3 $CONDA_PREFIX $CONDA_SHLVL"\n'
        "naja deactivate\n"
        'echo "4 [$CONDA_PREFIX] $CONDA_SHLVL [$SCI_HOME]"\n',
        env_root,
    )
    sci, web = f"{root}/envs/sci", f"{root}/envs/web"
    lines = out.splitlines()
    assert lines[0] == f"1 {sci} 1 {sci}/share/sci {sci}/bin"
    assert lines[1] == f"2 {web} 2 {sci}"
    assert lines[2] == f"3 {sci} 1"
    assert lines[3] == "4 [] 0 []"


def test_fish_activate(env_root: dict[str, str]) -> None:
    root = env_root["NAJA_ROOT_PREFIX"]
    out = sh(
        "fish",
        f"{NAJA} shell hook -s fish | source\nnaja activate web\necho $CONDA_PREFIX $PATH[1]\n"
        "naja deactivate\necho done $CONDA_SHLVL\n",
        env_root,
    )
    assert out.splitlines() == [f"{root}/envs/web {root}/envs/web/bin", "done 0"]


def test_unknown_env_is_an_error(env_root: dict[str, str]) -> None:
    out = subprocess.run(
        [NAJA, "shell", "activate", "nope", "-s", "bash"],
        capture_output=True,
        text=True,
        env=env_root,
    )
    assert out.returncode == 2 and "does not exist" in out.stderr


def test_hook_json_gives_variables(env_root: dict[str, str]) -> None:
    import json

    out = subprocess.run(
        [NAJA, "shell", "hook", "--json", "-n", "sci"], capture_output=True, text=True, env=env_root
    )
    data = json.loads(out.stdout)
    assert data["set"]["CONDA_DEFAULT_ENV"] == "sci"
    assert data["set"]["SCI_HOME"].endswith("/envs/sci/share/sci")


def test_init_is_idempotent_and_deinit_removes(env_root: dict[str, str], tmp_path: Path) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("alias ll='ls -l'\n")
    for _ in range(2):
        subprocess.run(
            [NAJA, "shell", "init", "-s", "bash"], env=env_root, check=True, capture_output=True
        )
    text = rc.read_text()
    assert text.count(BEGIN) == 1 and text.startswith("alias ll")
    # A new interactive bash with that rc file gets `naja activate`.
    out = sh("bash", f"source {rc}\nnaja activate web && echo $CONDA_DEFAULT_ENV", env_root)
    assert out.strip() == "web"
    subprocess.run(
        [NAJA, "shell", "deinit", "-s", "bash"], env=env_root, check=True, capture_output=True
    )
    assert rc.read_text() == "alias ll='ls -l'\n"


def test_replace_block_round_trip() -> None:
    block = f"{BEGIN}\nx\n{END}\n"
    assert replace_block(replace_block("a\n", block), None) == "a\n"
    assert replace_block("a", block) == f"a\n{block}"


def test_render_quotes_safely() -> None:
    evil = "it's $(rm -rf ~) `x`"
    out = sh("bash", render_changes("bash", {"X": evil}, []) + 'printf %s "$X"', dict(os.environ))
    assert out == evil


def test_bash_completion_commands_and_env_names(env_root: dict[str, str]) -> None:
    script = (
        f'eval "$({NAJA} shell completion -s bash)"\n'
        "COMP_WORDS=(naja cre); COMP_CWORD=1; _naja_completion naja; echo ${COMPREPLY[@]}\n"
        "COMPREPLY=(); COMP_WORDS=(naja list -n s); COMP_CWORD=3; _naja_completion naja; echo ${COMPREPLY[@]}\n"
    )
    out = sh("bash", script, env_root).splitlines()
    assert out[0] == "create"
    assert out[1] == "sci"


def test_fish_completion(env_root: dict[str, str]) -> None:
    out = sh(
        "fish",
        f"{NAJA} shell completion -s fish | source\ncomplete -C 'naja list -n w'\n",
        env_root,
    )
    assert out.split()[0] == "web"


def test_xonsh_activate(env_root: dict[str, str]) -> None:
    xonsh = str(Path(sys.executable).parent / "xonsh")
    root = env_root["NAJA_ROOT_PREFIX"]
    script = (
        f"execx($({NAJA} shell hook -s xonsh)); naja activate web; print($CONDA_PREFIX); "
        "naja deactivate; print(${...}.get('CONDA_PREFIX', 'none'))"
    )
    out = subprocess.run([xonsh, "--no-rc", "-c", script], capture_output=True, text=True, env=env_root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [f"{root}/envs/web", "none"]


@pytest.mark.parametrize("shell", ["powershell", "cmd"])
def test_scripts_for_shells_not_on_this_machine(shell: str) -> None:
    # PowerShell and cmd do not run on Debian: check the generated text instead.
    text = render_changes(shell, {"CONDA_PREFIX": "C:\\envs\\it's"}, ["OLD"])
    if shell == "powershell":
        assert text == "Remove-Item Env:OLD -ErrorAction SilentlyContinue\n$Env:CONDA_PREFIX = 'C:\\envs\\it''s'\n"
    else:
        assert text == '@SET "OLD="\n@SET "CONDA_PREFIX=C:\\envs\\it\'s"\n'
