"""Environment files: environment.yml, explicit files and specs .txt, through `create -f`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naja.env.env_file import EnvFileError, read_env_file
from naja.env.explicit import record_from_url
from naja.errors import ParseError
from tests.conftest import SHARED
from tests.test_cli_lifecycle import CHANNEL, naja  # noqa: F401  (fixture)


def test_yaml_with_pip_and_channels(tmp_path: Path) -> None:
    f = tmp_path / "environment.yml"
    f.write_text(
        "name: sci\nchannels: [conda-forge, bioconda]\ndependencies:\n"
        "  - python=3.12\n  - numpy >=2\n  - pip:\n    - requests==2.32\n"
    )
    env = read_env_file(f)
    assert env.name == "sci"
    assert env.channels == ["conda-forge", "bioconda"]
    assert env.specs == ["python=3.12", "numpy >=2"]
    assert env.pip == ["requests==2.32"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\ndependencies:\n  - a\n  - [b\n", ":5:1:"),
        ("name: x\ndependencies: 3\n", ":2:"),
        ("name: x\ndependencies:\n  - a\n  - {x: 1}\n", ":4:"),
    ],
)
def test_bad_yaml_names_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    f = tmp_path / "env.yml"
    f.write_text(text)
    with pytest.raises(EnvFileError) as err:
        read_env_file(f)
    assert str(f) + where in str(err.value)


def test_explicit_file_from_the_corpus() -> None:
    env = read_env_file(
        SHARED / "corpora" / "lockfiles" / "explicit-envs" / "vs2015_runtime_win-64.txt"
    )
    records = [record_from_url(u) for u in env.explicit]
    assert [(r.name, r.subdir, r.md5) for r in records] == [
        ("vc", "win-64", "dc9507a39ab328597820486c729cd279"),
        ("vs2015_runtime", "win-64", "a98ea1e3abfdbbd201d60ff6b43ea7e4"),
    ]
    assert records[1].version == "14.16.27012" and records[1].build == "hf0eaf9b_3"


def test_bad_package_url() -> None:
    with pytest.raises(ParseError) as err:
        record_from_url("https://x.org/linux-64/notapackage.zip")
    assert "notapackage.zip" in str(err.value)


def test_create_from_yaml_then_from_its_explicit_export(naja, tmp_path: Path) -> None:  # noqa: F811
    f = tmp_path / "environment.yml"
    f.write_text(f"name: e5\nchannels: [{CHANNEL}]\ndependencies:\n  - dependent=2.0\n")
    naja("create", "-y", "-f", str(f), "--platform", "linux-64")
    explicit = naja("list", "-n", "e5", "--explicit", "--md5").stdout
    (tmp_path / "explicit.txt").write_text(explicit)
    naja("create", "-y", "-p", str(tmp_path / "copy"), "-f", str(tmp_path / "explicit.txt"))
    a = json.loads(naja("list", "-n", "e5", "--json").stdout)
    b = json.loads(naja("list", "-p", str(tmp_path / "copy"), "--json").stdout)
    assert [(e["name"], e["version"], e["build_string"]) for e in a] == [
        (e["name"], e["version"], e["build_string"]) for e in b
    ]


def test_export_lists_pip_installed_packages(naja, tmp_path: Path) -> None:  # noqa: F811
    naja("create", "-y", "-n", "pipenv", "-c", CHANNEL, "--platform", "linux-64", "dependency")
    prefix = tmp_path / "root" / "envs" / "pipenv"
    site = prefix / "lib" / "python3.11" / "site-packages"
    for name, version, installer in (
        ("requests", "2.32.3", "pip"),
        ("fast", "1.0", "uv"),
        ("numpy", "2.0", "conda"),
    ):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
        )
        (info / "INSTALLER").write_text(installer + "\n")
    out = naja("env", "export", "-n", "pipenv", "--from-history").stdout
    assert out.splitlines()[-3:] == ["  - pip:", "    - fast==1.0", "    - requests==2.32.3"]
    from naja.env.env_file import read_env_file

    (tmp_path / "exported.yml").write_text(out)
    assert read_env_file(tmp_path / "exported.yml").pip == ["fast==1.0", "requests==2.32.3"]


def test_install_from_a_file(naja, tmp_path: Path) -> None:  # noqa: F811
    naja("create", "-y", "-n", "grow", "-c", CHANNEL, "--platform", "linux-64", "dependency=1.0")
    f = tmp_path / "more.yml"
    f.write_text(f"channels: [{CHANNEL}]\ndependencies:\n  - dependent=1.0\n")
    naja("install", "-y", "-n", "grow", "-f", str(f), "--platform", "linux-64")
    listed = json.loads(naja("list", "-n", "grow", "--json").stdout)
    assert {(e["name"], e["version"]) for e in listed} == {("dependency", "1.0"), ("dependent", "1.0")}
