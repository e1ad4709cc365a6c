"""The conda layout on a registry: media types, and each subdir's repodata artifact.

A subdir's index is the artifact `<namespace>/<subdir>/repodata.json`, tag `latest`, with a
`repodata.json` layer (`application/vnd.conda.repodata.v1+json`) and its zstd form
(`...+json+zst`). Every index naja pushes is also tagged with its UTC time
(`YYYY.MM.DD.HH.MM.SS`, as the CEP says) and with `staging`; `promote` points `latest` at
`staging`, so a batch of uploads becomes visible to installers at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from naja.oci.client import RegistryClient
from naja.oci.errors import OciError
from naja.oci.reference import OciChannel

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
# An empty config (OCI 1.1's artifact convention): conda artifacts carry no image config.
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
PACKAGE_TYPES = {
    ".tar.bz2": "application/vnd.conda.package.v1",
    ".conda": "application/vnd.conda.package.v2",
}
INFO_TYPE = "application/vnd.conda.info.v1.tar+gzip"
INDEX_JSON_TYPE = "application/vnd.conda.info.index.v1+json"
REPODATA_TYPE = "application/vnd.conda.repodata.v1+json"
REPODATA_ZST_TYPE = "application/vnd.conda.repodata.v1+json+zst"
LATEST = "latest"
STAGING = "staging"
TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class Layer:
    media_type: str
    data: bytes
    title: str | None = None

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
        }
        if self.title:
            out["annotations"] = {TITLE: self.title}
        return out


def config_descriptor() -> dict[str, Any]:
    return {
        "mediaType": EMPTY_CONFIG_TYPE,
        "digest": "sha256:" + hashlib.sha256(EMPTY_CONFIG).hexdigest(),
        "size": len(EMPTY_CONFIG),
    }


def manifest_bytes(
    layers: list[dict[str, Any]], annotations: dict[str, str] | None = None
) -> bytes:
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": config_descriptor(),
        "layers": layers,
    }
    if annotations:
        manifest["annotations"] = annotations
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def find_layer(manifest: dict[str, Any], media_type: str) -> dict[str, Any] | None:
    for layer in manifest.get("layers") or []:
        if isinstance(layer, dict) and layer.get("mediaType") == media_type:
            return layer
    return None


def timestamp_tag(now: float | None = None) -> str:
    return time.strftime("%Y.%m.%d.%H.%M.%S", time.gmtime(now))


def read_repodata(
    client: RegistryClient, channel: OciChannel, subdir: str, reference: str
) -> tuple[dict[str, Any], str] | None:
    """The subdir's repodata.json under `reference` (a tag) and the digest of the manifest
    it came from, or None if there is none."""
    repository = channel.repodata_repository(subdir)
    got = client.get_manifest(repository, reference)
    if got is None:
        return None
    digest = "sha256:" + hashlib.sha256(got[1]).hexdigest()
    layer = find_layer(got[0], REPODATA_TYPE)
    if layer is None:
        raise OciError(
            f"{channel.registry}/{repository}:{reference} has no {REPODATA_TYPE} layer",
            hint="the artifact was not written by a conda tool; push the channel index again",
        )
    try:
        data = json.loads(client.get_blob(repository, layer["digest"]))
    except ValueError:
        raise OciError(f"{channel.registry}/{repository}:{reference} is not valid JSON") from None
    if not isinstance(data, dict):
        raise OciError(f"{channel.registry}/{repository}:{reference} is not a repodata object")
    return data, digest


def push_repodata(
    client: RegistryClient,
    channel: OciChannel,
    subdir: str,
    repodata: bytes,
    repodata_zst: bytes,
    tags: list[str],
) -> str:
    """Push one index artifact under every tag in `tags`; returns its manifest digest."""
    repository = channel.repodata_repository(subdir)
    layers = [
        Layer(REPODATA_TYPE, repodata, "repodata.json"),
        Layer(REPODATA_ZST_TYPE, repodata_zst, "repodata.json.zst"),
    ]
    client.push_blob(repository, config_descriptor()["digest"], EMPTY_CONFIG)
    for layer in layers:
        client.push_blob(repository, layer.digest, layer.data)
    body = manifest_bytes([layer.descriptor() for layer in layers])
    digest = ""
    for tag in tags:
        digest = client.put_manifest(repository, tag, body, MANIFEST_TYPE)
    return digest


def promote(client: RegistryClient, channel: OciChannel, subdir: str) -> bool:
    """Point `latest` at the `staging` index of `subdir`; False when there is no staging."""
    repository = channel.repodata_repository(subdir)
    got = client.get_manifest(repository, STAGING)
    if got is None:
        return False
    client.put_manifest(repository, LATEST, got[1], got[0].get("mediaType") or MANIFEST_TYPE)
    return True
