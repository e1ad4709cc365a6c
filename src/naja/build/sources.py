"""Fetches a recipe's sources into the work directory: local paths, URLs (checked against
their sha256/md5, cached, unpacked) and local git repositories; then applies patches."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from naja.build.build_errors import BuildError
from naja.build.patching import apply_patch

_ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tar", ".zip")


def _copy_tree(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        target = dest / entry.name
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, target, follow_symlinks=False)


def _safe_extract(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise BuildError(f"{archive.name}: unsafe path {name!r} in the source archive")
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")  # rejects absolute paths, .. and escaping links
    # A single top-level folder is the source root, as in conda-build/rattler-build.
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        inner = entries[0]
        for child in list(inner.iterdir()):
            child.rename(dest / child.name)
        inner.rmdir()


def _fetch_url(src: dict[str, Any], cache: Path) -> Path:
    urls = src["url"] if isinstance(src["url"], list) else [src["url"]]
    sha256, md5 = src.get("sha256"), src.get("md5")
    if not (sha256 or md5):
        raise BuildError(
            f"source {urls[0]} has no sha256 or md5", hint="add `sha256:` to the source"
        )
    name = src.get("file_name") or urls[0].rstrip("/").rsplit("/", 1)[-1]
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{(sha256 or md5)[:12]}_{name}"
    if not target.exists():
        from naja.fetch import Downloader, DownloadRequest

        with Downloader() as dl:
            dl.download(DownloadRequest(url=urls[0], target=target, sha256=sha256, md5=md5))
    algo, want = ("sha256", sha256) if sha256 else ("md5", md5)
    with target.open("rb") as fh:
        got = hashlib.file_digest(fh, algo).hexdigest()
    if got != want:
        target.unlink()
        raise BuildError(f"{name}: {algo} is {got}, the recipe says {want}")
    return target


def fetch_sources(sources: list[dict[str, Any]], recipe_dir: Path, work: Path, cache: Path) -> None:
    """Put every source into `work` (or its `target_directory`) and apply its patches."""
    work.mkdir(parents=True, exist_ok=True)
    for src in sources:
        dest = work / src.get("target_directory", "")
        if "path" in src:
            path = (recipe_dir / src["path"]).resolve()
            if not path.exists():
                raise BuildError(
                    f"source path {src['path']} does not exist (relative to {recipe_dir})"
                )
            if path.is_dir():
                _copy_tree(path, dest)
            else:
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest / (src.get("file_name") or path.name))
        elif "url" in src:
            archive = _fetch_url(src, cache)
            if archive.name.endswith(_ARCHIVES) and not src.get("file_name"):
                _safe_extract(archive, dest)
            else:
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(
                    archive, dest / (src.get("file_name") or archive.name.split("_", 1)[1])
                )
        elif "git" in src:
            repo = src["git"]
            if "://" in repo and not repo.startswith("file://"):
                raise BuildError(f"git source {repo}: only local repositories work without network")
            cmd = ["git", "clone", "--quiet", repo.removeprefix("file://"), str(dest)]
            rev = src.get("tag") or src.get("branch") or src.get("rev")
            if subprocess.run(cmd, capture_output=True).returncode != 0:
                raise BuildError(f"git clone of {repo} failed")
            if (
                rev
                and subprocess.run(
                    ["git", "-C", str(dest), "checkout", "--quiet", str(rev)], capture_output=True
                ).returncode
            ):
                raise BuildError(f"git source {repo}: no revision {rev}")
        else:
            raise BuildError(f"unknown source kind: {sorted(src)}")
        for patch in src.get("patches", []) or []:
            apply_patch(recipe_dir / patch, dest)
