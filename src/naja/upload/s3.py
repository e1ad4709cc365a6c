"""`naja upload --to s3://bucket/channel PKG...`: upload packages, then rewrite the index.

Per subdir: read the current `repodata.json` (and its ETag), refuse packages already there
(unless `force`), PUT the package files (`If-None-Match: *`), then build every index file
with `naja.index` and write them so that readers only ever see complete states:
content-addressed shards first (new names, never overwritten), then `repodata.json` under
`If-Match` of the ETag read at the start — the commit point, which fails if another uploader
got there first (the merge is then redone on the new index) — then `repodata.json.zst` and the
shard index. Every object PUT is itself atomic in S3.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from naja.index.writer import REPODATA, REPODATA_ZST, SHARD_INDEX, SHARDS_DIR, build_subdir_index
from naja.s3.client import PreconditionFailed, S3Client
from naja.s3.errors import S3ConflictError, S3Error, S3ExistsError
from naja.s3.settings import S3Location, settings_for
from naja.upload.packages import LocalPackage, read_packages

# Index rewrites retried when another uploader commits in between.
COMMIT_ATTEMPTS = 5


def _read_index(client: S3Client, sub: S3Location) -> tuple[dict[str, dict[str, Any]], str | None]:
    got = client.get(sub.child(REPODATA))
    if got is None:
        return {}, None
    try:
        data = json.loads(got[0])
    except ValueError:
        raise S3Error(
            f"{sub.child(REPODATA).url} is not valid JSON",
            hint="repair or delete it; the next upload writes a new one",
        ) from None
    records = {**(data.get("packages") or {}), **(data.get("packages.conda") or {})}
    return records, got[1]


def _put_packages(
    client: S3Client, sub: S3Location, local: list[LocalPackage], known: set[str], force: bool
) -> None:
    if not force:
        # All checked before any is written, so a refused upload leaves nothing behind. The
        # HEAD also covers stores that ignore If-None-Match (older S3-compatible servers).
        for pkg in local:
            if pkg.filename in known:
                raise S3ExistsError(
                    f"{pkg.filename} is already in {sub.url}", hint="pass --force to replace it"
                )
            if client.head(sub.child(pkg.filename)) is not None:
                raise S3ExistsError(
                    f"{pkg.filename} is already in {sub.url} (not in its index yet)",
                    hint="pass --force to replace and index it",
                )
    for pkg in local:
        try:
            # S3 checks the body against x-amz-content-sha256: a corrupted upload is refused.
            client.put(
                sub.child(pkg.filename),
                pkg.path,
                payload_sha256=pkg.record["sha256"],
                if_none_match=not force,
            )
        except PreconditionFailed:
            raise S3ExistsError(
                f"{pkg.filename} appeared in {sub.url} during this upload",
                hint="another upload is writing the same package; check it, or pass --force",
            ) from None


def _write_index(
    client: S3Client, sub: S3Location, subdir: str, records: dict[str, Any], etag: str | None
) -> None:
    index = build_subdir_index(subdir, records)
    for digest, data in index.shards.items():
        # Content-addressed: a shard already there holds the same bytes.
        with contextlib.suppress(PreconditionFailed):
            client.put(sub.child(SHARDS_DIR, f"{digest}.msgpack.zst"), data, if_none_match=True)
    client.put(
        sub.child(REPODATA),
        index.repodata,
        content_type="application/json",
        if_match=etag,
        if_none_match=etag is None,
    )
    client.put(sub.child(REPODATA_ZST), index.repodata_zst, content_type="application/zstd")
    client.put(sub.child(SHARD_INDEX), index.shard_index, content_type="application/zstd")


def upload_s3(
    target: str,
    packages: list[Path],
    *,
    token: str | None = None,
    force: bool = False,
    **_: Any,
) -> list[dict[str, Any]]:
    """Upload `packages` to the S3 channel `target` and rewrite the touched subdirs' indexes.

    `token` is unused: credentials come from naja.auth (`s3://bucket`) or the AWS chain.
    """
    root = S3Location.parse(target)
    client = S3Client(settings_for(root))
    results: list[dict[str, Any]] = []
    try:
        for subdir, local in read_packages(packages).items():
            sub = root.child(subdir)
            records, etag = _read_index(client, sub)
            _put_packages(client, sub, local, set(records), force)
            for attempt in range(COMMIT_ATTEMPTS):
                for pkg in local:
                    records[pkg.filename] = pkg.record
                try:
                    _write_index(client, sub, subdir, records, etag)
                    break
                except PreconditionFailed:
                    if attempt == COMMIT_ATTEMPTS - 1:
                        raise S3ConflictError(
                            f"{sub.child(REPODATA).url} kept changing while this upload rewrote it",
                            hint="the packages are uploaded; run the upload again with --force "
                            "to index them",
                        ) from None
                    records, etag = _read_index(client, sub)
            results.extend(
                {"channel": root.url.rstrip("/"), "subdir": subdir, "filename": p.filename}
                for p in local
            )
    finally:
        client.close()
    return results
