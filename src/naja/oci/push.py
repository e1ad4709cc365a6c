"""Pushing one conda package as an OCI artifact: the package, its info/ and its index.json.

Layers (CEP "OCI registries as conda channels"): the package file itself
(`application/vnd.conda.package.v1` for .tar.bz2, `.v2` for .conda), `info/` as a gzipped
tar (`application/vnd.conda.info.v1.tar+gzip`) and `info/index.json`
(`application/vnd.conda.info.index.v1+json`). The package blob's digest is the file's sha256,
so installers fetch it straight from the index's sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import zstandard

from naja.oci.client import RegistryClient
from naja.oci.errors import OciExistsError
from naja.oci.layout import (
    EMPTY_CONFIG,
    INDEX_JSON_TYPE,
    INFO_TYPE,
    MANIFEST_TYPE,
    PACKAGE_TYPES,
    TITLE,
    Layer,
    config_descriptor,
    manifest_bytes,
)
from naja.oci.reference import OciChannel, package_tag, split_package_filename


def _info_members(path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """The `info/` members of a .conda (its info-*.tar.zst) or a .tar.bz2, with file data."""
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []

    def take(tar: tarfile.TarFile) -> None:
        for member in tar:
            if not member.name.startswith("info/"):
                continue
            data = None
            if member.isfile():
                fh = tar.extractfile(member)
                data = fh.read() if fh is not None else b""
            members.append((member, data))

    if path.name.endswith(".conda"):
        with zipfile.ZipFile(path) as zf:
            inner = next(n for n in zf.namelist() if n.startswith("info-") and n.endswith(".zst"))
            with zf.open(inner) as raw:
                reader = zstandard.ZstdDecompressor().stream_reader(raw)
                with tarfile.open(fileobj=reader, mode="r|") as tar:
                    take(tar)
    else:
        with tarfile.open(path, mode="r|bz2") as tar:
            take(tar)
    return members


def info_layers(path: Path) -> tuple[bytes, bytes | None]:
    """The package's `info/` folder as a reproducible .tar.gz (mtime 0, sorted), and the
    bytes of its `info/index.json` (None if the package has none)."""
    raw = io.BytesIO()
    index_json = None
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as out:
        for member, data in sorted(_info_members(path), key=lambda m: m[0].name):
            info = tarfile.TarInfo(member.name)
            info.type, info.mode, info.linkname = member.type, member.mode, member.linkname
            info.size = len(data) if data is not None else 0
            out.addfile(info, io.BytesIO(data) if data is not None else None)
            if member.name == "info/index.json":
                index_json = data
    return gzip.compress(raw.getvalue(), mtime=0), index_json


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def refuse_existing(client: RegistryClient, channel: OciChannel, subdir: str, path: Path) -> None:
    """OciExistsError when the channel already has this package's tag."""
    name, version, build, _ = split_package_filename(path.name)
    repository = channel.repository(subdir, name)
    tag = package_tag(version, build)
    if client.manifest_exists(repository, tag):
        raise OciExistsError(
            f"{path.name} is already in {channel.url}/{subdir} ({channel.registry}/"
            f"{repository}:{tag})",
            hint="pass --force to replace it",
        )


def push_package(
    client: RegistryClient,
    channel: OciChannel,
    subdir: str,
    path: Path,
    record: dict[str, Any],
    *,
    force: bool = False,
) -> str:
    """Push `path` (whose repodata record is `record`) as `<subdir>/<name>:<version>-<build>`.

    Refuses (OciExistsError) when that tag exists, unless `force`. Returns the manifest digest.
    """
    name, version, build, ext = split_package_filename(path.name)
    repository = channel.repository(subdir, name)
    tag = package_tag(version, build)
    if not force:
        refuse_existing(client, channel, subdir, path)
    sha256 = record.get("sha256") or file_sha256(path)
    package_digest = f"sha256:{sha256}"
    info_tgz, index_json = info_layers(path)
    if index_json is None:
        index_json = json.dumps(
            {k: v for k, v in record.items() if k not in ("md5", "sha256", "size")},
            sort_keys=True,
        ).encode()
    extra = [
        Layer(INFO_TYPE, info_tgz, "info.tar.gz"),
        Layer(INDEX_JSON_TYPE, index_json, "index.json"),
    ]
    client.push_blob(repository, config_descriptor()["digest"], EMPTY_CONFIG)
    client.push_blob(repository, package_digest, path)
    for layer in extra:
        client.push_blob(repository, layer.digest, layer.data)
    layers = [
        {
            "mediaType": PACKAGE_TYPES[ext],
            "digest": package_digest,
            "size": path.stat().st_size,
            "annotations": {TITLE: path.name},
        },
        *(layer.descriptor() for layer in extra),
    ]
    return client.put_manifest(repository, tag, manifest_bytes(layers), MANIFEST_TYPE)
