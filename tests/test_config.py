"""Configuration: files merged in precedence order, NAJA_*/CONDA_* variables, in-place edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from naja.config import load_config
from naja.config.errors import ConfigError


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), **extra}


def test_precedence_and_list_merging(tmp_path: Path) -> None:
    (tmp_path / ".condarc").write_text("channels: [defaults]\nchannel_priority: strict\n")
    (tmp_path / ".config" / "naja").mkdir(parents=True)
    (tmp_path / ".config" / "naja" / "config.yaml").write_text(
        "channels: [conda-forge]\nchannel_priority: flexible\n"
    )
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / ".condarc").write_text("channels: [bioconda]\n")
    cfg = load_config(env_for(tmp_path, NAJA_OFFLINE="yes"), prefix=prefix)
    assert cfg.get("channels") == ["bioconda", "conda-forge", "defaults"]
    assert cfg.get("channel_priority") == "flexible"
    assert cfg.get("offline") is True
    assert cfg.origin["channels"][-1] == str(prefix / ".condarc")


def test_env_variables_win_over_files(tmp_path: Path) -> None:
    (tmp_path / ".condarc").write_text("channel_priority: strict\n")
    cfg = load_config(env_for(tmp_path, CONDA_CHANNEL_PRIORITY="disabled"))
    assert cfg.get("channel_priority") == "disabled"
    cfg = load_config(
        env_for(tmp_path, CONDA_CHANNEL_PRIORITY="disabled", NAJA_CHANNEL_PRIORITY="flexible")
    )
    assert cfg.get("channel_priority") == "flexible"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("channels: [a\n", ".condarc:2:1: invalid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("always_yes: maybe\n", "must be true or false"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".condarc").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(env_for(tmp_path))
    assert message in str(err.value)


def naja(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **env_for(home))
    return subprocess.run(
        [sys.executable, "-m", "naja", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_cli_edits_keep_comments(tmp_path: Path) -> None:
    path = tmp_path / ".config" / "naja" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("# my settings\nchannels:\n  - defaults  # keep me\n")
    assert naja(tmp_path, "config", "prepend", "channels", "conda-forge").returncode == 0
    assert naja(tmp_path, "config", "set", "channel_priority", "flexible").returncode == 0
    text = path.read_text()
    assert "# my settings" in text and "# keep me" in text
    out = json.loads(naja(tmp_path, "config", "get", "channels", "--json").stdout)
    assert out["channels"] == ["conda-forge", "defaults"]
    assert naja(tmp_path, "config", "remove", "channels", "defaults").returncode == 0
    out = json.loads(naja(tmp_path, "config", "list", "--json").stdout)
    assert out["values"]["channels"] == ["conda-forge"]
    assert out["values"]["channel_priority"] == "flexible"


def test_cli_unknown_key_suggests(tmp_path: Path) -> None:
    out = naja(tmp_path, "config", "set", "chanels", "x")
    assert out.returncode == 2
    assert "did you mean channels" in out.stderr
