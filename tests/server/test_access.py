"""Users and access: the authorization matrix, API key scopes/expiry/revocation, sessions with
CSRF, the sign-in rate limit, the audit log and hostile search input."""

from __future__ import annotations

import pytest

from tests.server.servers import ADMIN_TOKEN

PASSWORD = "correct horse battery"
ROLES = ["member", "maintainer", "owner"]
WHO = ["anonymous", "other", *ROLES, "admin"]


@pytest.fixture(scope="module")
def world(server, admin, tmp_path_factory):
    """A private channel `mx` and a public one `px`, users with each role, a key per user."""
    from tests.index.pkgfactory import make_package

    keys = {"admin": ADMIN_TOKEN, "anonymous": None}
    for user in ["other", *ROLES]:
        r = admin.post("/api/users", json={"username": f"u-{user}", "password": PASSWORD})
        assert r.status_code == 201, r.text
        with server.client(None, auth=(f"u-{user}", PASSWORD)) as c:
            r = c.post("/api/api-keys", json={"description": "matrix"})
            assert r.status_code == 201, r.text
            keys[user] = r.json()["key"]
    for name, private in (("mx", True), ("px", False)):
        assert admin.post("/api/channels", json={"name": name, "private": private}).status_code == 201
        for role in ROLES:
            r = admin.post(f"/api/channels/{name}/members", json={"username": f"u-{role}", "role": role})
            assert r.status_code == 201, r.text
    out = tmp_path_factory.mktemp("matrix")
    pkg = make_package(out / "base-1.0-0.conda", "base")
    for name in ("mx", "px"):
        assert admin.post(f"/api/channels/{name}/files/", files={"files": (pkg.name, pkg.read_bytes())}).status_code == 201
    return {"keys": keys, "pkgdir": out}


def _client(server, world, who):
    return server.client(world["keys"][who])


def _expect(private: bool, action: str, who: str) -> set[int]:
    rank = {"anonymous": 0, "other": 0, "member": 1, "maintainer": 2, "owner": 3, "admin": 9}[who]
    need = {"read": 1, "write": 2, "manage": 3}[action]
    if action == "read" and not private:
        return {200}
    if rank >= need:
        return {200, 201, 204}
    if who == "anonymous":
        return {401}
    # A private channel a user may not read is hidden from the JSON API (404).
    return {403, 404} if private else {403}


def _routes(channel: str, n: int, pkgdir):
    from tests.index.pkgfactory import make_package

    def upload(c):
        p = make_package(pkgdir / f"up{n}" / f"new{n}-1.0-0.conda", f"new{n}")
        return c.post(f"/api/channels/{channel}/files/", files={"files": (p.name, p.read_bytes())})

    return [
        ("read", "GET repodata", lambda c: c.get(f"/get/{channel}/noarch/repodata.json")),
        ("read", "GET repodata.zst", lambda c: c.get(f"/get/{channel}/noarch/repodata.json.zst")),
        ("read", "GET shard index", lambda c: c.get(f"/get/{channel}/noarch/repodata_shards.msgpack.zst")),
        ("read", "GET package", lambda c: c.get(f"/get/{channel}/noarch/base-1.0-0.conda")),
        ("read", "GET channel", lambda c: c.get(f"/api/channels/{channel}")),
        ("read", "GET packages", lambda c: c.get(f"/api/channels/{channel}/packages")),
        ("read", "GET package info", lambda c: c.get(f"/api/channels/{channel}/packages/base")),
        ("read", "GET stats", lambda c: c.get(f"/api/stats/{channel}")),
        ("write", "POST upload", upload),
        ("write", "PUT patch", lambda c: c.put(f"/api/channels/{channel}/patches/noarch", json={})),
        ("write", "DELETE package", lambda c: c.delete(f"/api/channels/{channel}/packages/noarch/new{n}-1.0-0.conda")),
        ("manage", "POST member", lambda c: c.post(f"/api/channels/{channel}/members", json={"username": "u-other", "role": "member"})),
        ("manage", "DELETE member", lambda c: c.delete(f"/api/channels/{channel}/members/u-other")),
        ("manage", "PATCH channel", lambda c: c.patch(f"/api/channels/{channel}", json={"description": "x"})),
        ("manage", "GET audit", lambda c: c.get("/api/audit", params={"channel": channel})),
        ("manage", "POST reindex", lambda c: c.post(f"/api/channels/{channel}/reindex")),
    ]


@pytest.mark.parametrize("channel", ["mx", "px"])
def test_authorization_matrix(server, world, channel: str) -> None:
    private = channel == "mx"
    failures = []
    for n, who in enumerate(WHO):
        with _client(server, world, who) as c:
            for action, label, call in _routes(channel, n, world["pkgdir"]):
                if label == "DELETE package" and _expect(private, "write", who) != {200, 201, 204}:
                    # Nothing to delete for those who could not upload: aim at the base package.
                    status = c.delete(f"/api/channels/{channel}/packages/noarch/none-1.0-0.conda").status_code
                    ok = status in _expect(private, action, who)
                else:
                    status = call(c).status_code
                    ok = status in _expect(private, action, who)
                if not ok:
                    failures.append(f"{who:10} {label:16} -> {status}, expected {sorted(_expect(private, action, who))}")
    assert not failures, "\n".join(failures)


def test_account_routes(server, world) -> None:
    for who in WHO:
        with _client(server, world, who) as c:
            expected = 201 if who == "admin" else (401 if who == "anonymous" else 403)
            r = c.post("/api/users", json={"username": f"new-by-{who}", "password": PASSWORD})
            assert r.status_code == expected, (who, r.text)
            assert c.get("/api/me").status_code == (401 if who == "anonymous" else 200)
            assert c.get("/api/audit").status_code == (200 if who == "admin" else 401 if who == "anonymous" else 403)


def test_api_key_scopes_expiry_channel_and_revocation(server, world) -> None:
    with server.client(None, auth=("u-owner", PASSWORD)) as owner:
        read_only = owner.post("/api/api-keys", json={"scopes": ["read"]}).json()["key"]
        expired = owner.post("/api/api-keys", json={"expires_in_days": -1}).json()["key"]
        px_only = owner.post("/api/api-keys", json={"channel": "px"}).json()["key"]
        revoked = owner.post("/api/api-keys", json={}).json()
        assert owner.post("/api/api-keys", json={"scopes": ["root"]}).status_code == 422
    with server.client(read_only) as c:
        assert c.get("/get/mx/noarch/repodata.json").status_code == 200
        assert c.post("/api/channels/mx/reindex").status_code == 403
        assert c.post("/api/api-keys", json={"scopes": ["write"]}).status_code == 403
    with server.client(expired) as c:
        assert c.get("/get/mx/noarch/repodata.json").status_code == 401
    with server.client(px_only) as c:
        assert c.get("/get/px/noarch/repodata.json").status_code == 200
        assert c.get("/get/mx/noarch/repodata.json").status_code == 403
    with server.client(revoked["key"]) as c:
        assert c.get("/get/mx/noarch/repodata.json").status_code == 200
        assert c.delete(f"/api/api-keys/{revoked['id']}").status_code == 204
        assert c.get("/get/mx/noarch/repodata.json").status_code == 401
    # Passwords work as Basic auth on channel files too, for clients without API keys.
    with server.client(None, auth=("u-member", PASSWORD)) as c:
        assert c.get("/get/mx/noarch/repodata.json").status_code == 200
    with server.client(None, auth=("u-maintainer", "wrong password")) as c:
        assert c.get("/get/mx/noarch/repodata.json").status_code == 401


def test_session_csrf_and_rate_limit(server, world) -> None:
    with server.client(None) as c:
        r = c.post("/api/login", json={"username": "u-maintainer", "password": PASSWORD})
        assert r.status_code == 200
        csrf = r.json()["csrf"]
        assert c.get("/api/me").json()["via"] == "session"
        assert c.post("/api/channels", json={"name": "by-session"}).status_code == 403
        assert c.post("/api/channels", json={"name": "by-session"}, headers={"X-CSRF-Token": "nope"}).status_code == 403
        assert c.post("/api/channels", json={"name": "by-session"}, headers={"X-CSRF-Token": csrf}).status_code == 201
        c.post("/api/logout")
        assert c.get("/api/me").status_code == 401
    with server.client(None) as c:
        codes = [c.post("/api/login", json={"username": "u-member", "password": f"bad{i}"}).status_code for i in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        # Locked out even with the right password until the window passes.
        assert c.post("/api/login", json={"username": "u-member", "password": PASSWORD}).status_code == 429
        assert c.post("/api/login", json={"username": "u-owner", "password": PASSWORD}).status_code == 200
    # Guessing passwords through Basic auth on channel files is limited the same way.
    with server.client(None) as c:
        codes = [c.get("/get/mx/noarch/repodata.json", auth=("u-other", f"guess{i}")).status_code for i in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429


def test_audit_log_records_changes(server, admin, world) -> None:
    events = admin.get("/api/audit", params={"limit": 1000}).json()
    actions = {e["action"] for e in events}
    assert {"package.upload", "member.set", "channel.create", "user.create", "key.create", "login.failed"} <= actions
    mx = admin.get("/api/audit", params={"channel": "mx", "limit": 1000}).json()
    assert any(e["action"] == "package.upload" and e["target"] == "noarch/base-1.0-0.conda" for e in mx)
    assert all(e["channel"] == "mx" for e in mx)


@pytest.mark.parametrize(
    "q", ["' OR 1=1 --", "base'; DROP TABLE package_files; --", "%", "_", "\\", "base\" OR \"1\"=\"1", "\0"]
)
def test_search_resists_injection(server, world, q: str) -> None:
    with server.client(None) as c:
        r = c.get("/api/search", params={"q": q})
        assert r.status_code in (200, 422), r.text
        if r.status_code == 200:
            assert all(hit["channel"] != "mx" for hit in r.json())
            assert r.json() == [], r.json()
        assert c.get("/api/search", params={"q": "base"}).json() == [{"channel": "px", "name": "base", "latest": "1.0"}]
        r = c.get("/api/channels/px/packages", params={"q": q})
        assert r.status_code in (200, 422) and (r.status_code == 422 or r.json() == [])


def test_channel_deletion(server, admin, world, pkgs) -> None:
    assert admin.post("/api/channels", json={"name": "doomed"}).status_code == 201
    assert admin.post("/api/channels/doomed/members", json={"username": "u-maintainer", "role": "maintainer"}).status_code == 201
    p = pkgs("doomedpkg", "1.0")
    assert admin.post("/api/channels/doomed/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
    with server.client(world["keys"]["maintainer"]) as c:
        assert c.delete("/api/channels/doomed").status_code == 403
    assert admin.delete("/api/channels/doomed").status_code == 204
    assert admin.get("/api/channels/doomed").status_code == 404
    assert admin.get(f"/get/doomed/noarch/{p.name}").status_code == 404
    assert not (server.data_dir / "files" / "doomed").exists()
    # Recreated under the same name, it starts empty.
    assert admin.post("/api/channels", json={"name": "doomed"}).status_code == 201
    assert admin.get("/get/doomed/noarch/repodata.json").json()["packages.conda"] == {}
    assert any(e["action"] == "channel.delete" for e in admin.get("/api/audit").json())
    # The same package again: its shard is written anew (the old one went with the channel).
    assert admin.post("/api/channels/doomed/files/", files={"files": (p.name, p.read_bytes())}).status_code == 201
    from naja.repodata.shards import decode_index

    idx = decode_index(admin.get("/get/doomed/noarch/repodata_shards.msgpack.zst").content)
    assert admin.get(f"/get/doomed/noarch/shards/{idx.shards['doomedpkg'].hex()}.msgpack.zst").status_code == 200


def test_change_password(server, admin) -> None:
    assert admin.post("/api/users", json={"username": "pwuser", "password": "first-password"}).status_code == 201
    with server.client(None, auth=("pwuser", "first-password")) as c:
        assert c.post("/api/me/password", json={"old": "wrong-one", "new": "second-password"}).status_code == 403
        assert c.post("/api/me/password", json={"old": "first-password", "new": "short"}).status_code == 422
        assert c.post("/api/me/password", json={"old": "first-password", "new": "second-password"}).status_code == 200
    with server.client(None, auth=("pwuser", "first-password")) as c:
        assert c.get("/api/me").status_code == 401
    with server.client(None, auth=("pwuser", "second-password")) as c:
        assert c.get("/api/me").json()["username"] == "pwuser"


def test_only_admins_create_channels_by_uploading(server, world, pkgs) -> None:
    p = pkgs("autocreate", "1.0")
    with server.client(world["keys"]["owner"]) as c:
        r = c.post("/api/channels/not-there-yet/files/", files={"files": (p.name, p.read_bytes())})
        assert r.status_code == 404
    with server.client(None) as anon:
        r = anon.post("/api/channels/not-there-yet/files/", files={"files": (p.name, p.read_bytes())})
        assert r.status_code == 401
        assert anon.get("/api/channels/not-there-yet").status_code == 404
