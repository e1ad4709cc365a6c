"""Running naja against a test registry or bucket with an isolated home, caches and auth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SHARED

NOARCH = SHARED / "corpora" / "packages" / "conda-tests" / "test-recipes" / "noarch"
# dependent needs dependency; small-executable brings real files (bin/small).
PACKAGES = [
    NOARCH / "dependent-1.0-0.conda",
    NOARCH / "dependency-1.0-0.conda",
    NOARCH / "small-executable-1.0-0.conda",
]
# A .tar.bz2 package (noarch: generic).
CLOBBER = (
    SHARED
    / "corpora"
    / "packages"
    / "rattler-tests"
    / "clobber"
    / "clobber-1-0.1.0-h4616a5c_0.tar.bz2"
)


def isolated_env(home: Path, auth: dict | None = None, extra: dict | None = None) -> dict:
    """os.environ with a private HOME, caches and credential file (no keyring, no ~/.aws)."""
    home.mkdir(parents=True, exist_ok=True)
    auth_file = home / "credentials.json"
    auth_file.write_text(json.dumps(auth or {}))
    auth_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NAJA_AUTH"))}
    env.update(
        HOME=str(home),
        NAJA_CACHE_DIR=str(home / "cache"),
        NAJA_PKGS_DIRS=str(home / "pkgs"),
        NAJA_AUTH_FILE=str(auth_file),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
    )
    env.update(extra or {})
    return env


def naja(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "naja", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def create(prefix: Path, channel: str, *specs: str, env: dict) -> subprocess.CompletedProcess[str]:
    return naja(
        "create", "-y", "-p", str(prefix), "--override-channels", "-c", channel, *specs, env=env
    )


def installed(prefix: Path) -> set[str]:
    return {p.stem for p in (prefix / "conda-meta").glob("*.json")}


def make_conda(
    directory: Path, name: str, version: str, build: str, files: dict[str, bytes]
) -> Path:
    """A minimal noarch .conda package holding `files` (paths relative to the prefix)."""
    import hashlib
    import io
    import tarfile
    import zipfile

    import zstandard

    def tar_zst(members: dict[str, bytes]) -> bytes:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            for path, data in sorted(members.items()):
                info = tarfile.TarInfo(path)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return zstandard.ZstdCompressor().compress(raw.getvalue())

    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": [],
        "noarch": "generic",
        "subdir": "noarch",
        "license": "BSD-3-Clause",
    }
    paths = {
        "paths": [
            {
                "_path": p,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(d).hexdigest(),
                "size_in_bytes": len(d),
            }
            for p, d in sorted(files.items())
        ],
        "paths_version": 1,
    }
    info = {
        "info/index.json": json.dumps(index).encode(),
        "info/paths.json": json.dumps(paths).encode(),
        "info/files": "\n".join(sorted(files)).encode() + b"\n",
    }
    stem = f"{name}-{version}-{build}"
    path = directory / f"{stem}.conda"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr(f"info-{stem}.tar.zst", tar_zst(info))
        zf.writestr(f"pkg-{stem}.tar.zst", tar_zst(files))
    return path
