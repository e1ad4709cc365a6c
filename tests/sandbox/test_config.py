"""Per-environment sandbox defaults and how flags combine with them; fail-closed decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from naja.sandbox.config import SandboxSettings, load_env_settings, merge_flags
from naja.sandbox.errors import SandboxConfigError, SandboxUnavailable
from naja.sandbox.launch import Wrapped, wrap


def test_no_config_means_no_sandbox(tmp_path: Path) -> None:
    assert load_env_settings(tmp_path) == SandboxSettings()


def test_condarc_section(tmp_path: Path) -> None:
    (tmp_path / ".condarc").write_text(
        "channels: [conda-forge]\nsandbox: {network: false, allow_write: [.]}\n"
    )
    settings = load_env_settings(tmp_path)
    assert settings.enabled and settings.filesystem and not settings.network
    assert settings.allow_write == (".",)


def test_condarc_without_section(tmp_path: Path) -> None:
    (tmp_path / ".condarc").write_text("channels: [conda-forge]\n")
    assert not load_env_settings(tmp_path).enabled


def test_sandbox_yaml_wins_over_condarc(tmp_path: Path) -> None:
    (tmp_path / ".condarc").write_text("sandbox:\n  network: false\n  home: ro\n")
    (tmp_path / ".naja").mkdir()
    (tmp_path / ".naja" / "sandbox.yaml").write_text(
        "network: true\ndeny-read: ~/private\nclearenv: true\n"
    )
    settings = load_env_settings(tmp_path)
    assert settings.network and settings.home == "ro" and settings.clearenv
    assert settings.deny_read == ("~/private",)
    assert len(settings.sources) == 2


def test_sandbox_yaml_can_disable(tmp_path: Path) -> None:
    (tmp_path / ".naja").mkdir()
    (tmp_path / ".naja" / "sandbox.yaml").write_text("sandbox: false\n")
    assert not load_env_settings(tmp_path).enabled


def test_bad_yaml_has_line_and_column(tmp_path: Path) -> None:
    (tmp_path / ".naja").mkdir()
    (tmp_path / ".naja" / "sandbox.yaml").write_text("network: false\nallow_write: [.\n")
    with pytest.raises(SandboxConfigError, match=r"line \d+, column \d+"):
        load_env_settings(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("network: maybe\n", "must be true or false"),
        ("home: open\n", "sandbox.home must be one of"),
        ("allow_write: {a: 1}\n", "list of paths"),
        ("colour: red\n", "unknown key sandbox.colour"),
        ("- a\n", "expected a mapping"),
    ],
)
def test_bad_values(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".naja").mkdir()
    (tmp_path / ".naja" / "sandbox.yaml").write_text(text)
    with pytest.raises(SandboxConfigError, match=message):
        load_env_settings(tmp_path)


def test_flags() -> None:
    none = SandboxSettings()
    assert not merge_flags(none).enabled
    assert merge_flags(none, sandbox=True).filesystem
    net_only = merge_flags(none, network=False)
    assert net_only.enabled and not net_only.filesystem and not net_only.network
    both = merge_flags(none, sandbox=True, network=False)
    assert both.filesystem and not both.network
    implied = merge_flags(none, allow_write=("out",))
    assert implied.enabled and implied.filesystem
    configured = SandboxSettings(enabled=True, network=False, allow_write=(".",))
    more = merge_flags(configured, allow_write=("out",), network=True)
    assert more.allow_write == (".", "out") and more.network
    off = merge_flags(configured, sandbox=False)
    assert not off.enabled
    with pytest.raises(SandboxConfigError):
        merge_flags(configured, sandbox=False, network=False)


def _wrap_enabled(tmp_path: Path, platform: str, environ: dict[str, str] | None = None) -> Wrapped:
    return wrap(
        SandboxSettings(enabled=True),
        ["x"],
        {},
        prefix=tmp_path,
        cwd=tmp_path,
        attached_tty=False,
        platform=platform,
        environ=environ,
    )


def test_wrap_unsupported_os_refuses(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="no sandbox backend for win32"):
        _wrap_enabled(tmp_path, "win32")


def test_wrap_missing_bwrap_refuses(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        _wrap_enabled(tmp_path, "linux", {"PATH": str(tmp_path)})
    with pytest.raises(SandboxUnavailable, match="NAJA_BWRAP"):
        _wrap_enabled(tmp_path, "linux", {"NAJA_BWRAP": str(tmp_path / "nope")})


def test_wrap_missing_sandbox_exec_refuses(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="sandbox-exec"):
        _wrap_enabled(tmp_path, "darwin", {"NAJA_SANDBOX_EXEC": str(tmp_path / "nope"), "PATH": ""})


def test_wrap_disabled_is_the_command(tmp_path: Path) -> None:
    wrapped = wrap(
        SandboxSettings(),
        ["/bin/true"],
        {"A": "1"},
        prefix=tmp_path,
        cwd=tmp_path,
        attached_tty=False,
    )
    assert wrapped.argv == ["/bin/true"] and wrapped.backend is None
