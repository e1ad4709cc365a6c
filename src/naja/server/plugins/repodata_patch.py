"""Repodata patching: a channel maintainer uploads conda's `patch_instructions.json` for a
subdir (`PUT /api/channels/CHANNEL/patches/SUBDIR`); it is applied every time the subdir is
indexed, so the package files themselves never change.

Supported keys: `packages` / `packages.conda` (file name -> fields to replace; a null value
removes the field), `remove` (file names dropped from the index) and `revoke` (file names
that get an unsatisfiable `package_has_been_revoked` dependency).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request

from naja.server.hooks import hookimpl

router = APIRouter()
PATCH_FILE = "patch_instructions.json"


def _key(channel: str, subdir: str) -> str:
    return f"{channel}/{subdir}/{PATCH_FILE}"


def apply_patch(records: dict[str, dict], patch: dict) -> None:
    for section in ("packages", "packages.conda"):
        for fn, changes in (patch.get(section) or {}).items():
            rec = records.get(fn)
            if rec is None or not isinstance(changes, dict):
                continue
            for field, value in changes.items():
                if value is None:
                    rec.pop(field, None)
                else:
                    rec[field] = value
    for fn in patch.get("remove") or []:
        records.pop(fn, None)
    for fn in patch.get("revoke") or []:
        rec = records.get(fn)
        if rec is not None:
            rec["revoked"] = True
            rec["depends"] = [*rec.get("depends", []), "package_has_been_revoked"]


@hookimpl
def patch_repodata(state, channel: str, subdir: str, records: dict[str, dict]) -> None:
    raw = state.storage.get_bytes(_key(channel, subdir))
    if raw:
        apply_patch(records, json.loads(raw))


@router.put("/api/channels/{channel}/patches/{subdir}")
async def put_patch(request: Request, channel: str, subdir: str) -> dict:
    from starlette.concurrency import run_in_threadpool

    from naja.server.auth import check_csrf
    from naja.server.routes.api import _channel, _ident
    from naja.server.routes.files import _SUBDIR

    state = request.app.state.naja
    ident = await run_in_threadpool(_ident, request)
    check_csrf(request, ident)
    info = await run_in_threadpool(_channel, state, ident, channel, "write")
    if not _SUBDIR.match(subdir):
        raise HTTPException(422, "invalid subdir")
    body = await request.body()
    try:
        patch = json.loads(body)
    except ValueError:
        raise HTTPException(422, "the patch is not JSON") from None
    if not isinstance(patch, dict):
        raise HTTPException(422, "the patch must be a JSON object")
    state.storage.put_bytes(_key(channel, subdir), json.dumps(patch).encode(), "application/json")
    await run_in_threadpool(state.indexer.regenerate, info, subdir)
    return {"channel": channel, "subdir": subdir, "patched": True}


@hookimpl
def routers(state) -> list:
    return [router]
