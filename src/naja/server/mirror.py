"""Mirror channels: a job copies an upstream channel's packages into a hosted channel.

Unlike a proxy, a mirror holds every package before anyone asks for it; each one is
downloaded, checked against upstream's sha256 and validated like an upload, then the subdir is
re-indexed once. Packages upstream removed are kept (retention). Job status is kept in storage
so that any worker can report it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import httpx
from fastapi import HTTPException
from sqlalchemy import select

from naja.server.models import PackageFile
from naja.server.uploads import ingest, temp_dir

DEFAULT_SUBDIRS = ("noarch", "linux-64")


def _job_key(job: str) -> str:
    return f"_jobs/{job}.json"


def job_status(state, job: str) -> dict | None:
    raw = state.storage.get_bytes(_job_key(job))
    return json.loads(raw) if raw else None


def _save(state, job: str, status: dict) -> None:
    state.storage.put_bytes(_job_key(job), json.dumps(status).encode(), "application/json")


def sync(state, ident, info, subdirs: list[str], job: str) -> dict:
    status = {"job": job, "channel": info.name, "state": "running", "added": 0, "kept": 0,
              "failed": [], "started": time.time()}
    _save(state, job, status)
    upstream = info.upstream.rstrip("/")
    try:
        with httpx.Client(timeout=httpx.Timeout(60, connect=10), follow_redirects=True) as client:
            for subdir in subdirs:
                resp = client.get(f"{upstream}/{subdir}/repodata.json")
                if resp.status_code == 404:
                    continue
                resp.raise_for_status()
                repodata = resp.json()
                wanted = {**repodata.get("packages", {}), **repodata.get("packages.conda", {})}
                with state.db.session() as s:
                    have = set(s.scalars(select(PackageFile.filename).where(
                        PackageFile.channel_id == info.id, PackageFile.subdir == subdir)))
                status["kept"] += len(have - set(wanted))
                for fn, rec in sorted(wanted.items()):
                    if fn in have:
                        continue
                    tmp = temp_dir(state) / f"mirror-{uuid.uuid4().hex}"
                    try:
                        with client.stream("GET", f"{upstream}/{subdir}/{fn}") as r, open(tmp, "wb") as f:
                            r.raise_for_status()
                            for chunk in r.iter_bytes(1 << 20):
                                f.write(chunk)
                        ingest(state, ident, info, Path(tmp), fn, sha256=rec.get("sha256"), reindex=False)
                        status["added"] += 1
                    except (HTTPException, httpx.HTTPError, OSError) as exc:
                        status["failed"].append(f"{subdir}/{fn}: {getattr(exc, 'detail', exc)}")
                    finally:
                        tmp.unlink(missing_ok=True)
                state.indexer.regenerate(info, subdir)
        status["state"] = "done"
    except (httpx.HTTPError, ValueError, OSError) as exc:
        status["state"] = "failed"
        status["error"] = str(exc)
    status["finished"] = time.time()
    _save(state, job, status)
    return status


def start_sync(state, ident, info, subdirs: list[str] | None, *, wait: bool) -> dict:
    if info.mode != "mirror":
        raise HTTPException(409, f"{info.name} is not a mirror channel")
    job = uuid.uuid4().hex[:16]
    subdirs = list(subdirs or DEFAULT_SUBDIRS)
    if wait:
        return sync(state, ident, info, subdirs, job)
    _save(state, job, {"job": job, "channel": info.name, "state": "queued"})
    threading.Thread(target=sync, args=(state, ident, info, subdirs, job), daemon=True,
                     name=f"mirror {info.name}").start()
    return {"job": job, "state": "queued"}
