"""The web UI end to end in headless Chromium (Debian's, driven by Playwright): sign in,
create a channel, upload, browse the package page, members, API keys, search, CSRF, sign
out. Screenshots are kept in the test's tmp dir (printed at the end)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.index.pkgfactory import make_package
from tests.server.servers import NajaServer

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "alice-password-1"


def usrv_admin_token() -> str:
    from tests.server.servers import ADMIN_TOKEN

    return ADMIN_TOKEN


@pytest.fixture(scope="module")
def usrv(tmp_path_factory):
    srv = NajaServer(tmp_path_factory.mktemp("ui") / "data")
    with srv.client() as c:
        for user in ("alice", "bob"):
            assert c.post("/api/users", json={"username": user, "password": PASSWORD}).status_code == 201
    yield srv
    srv.stop()


@pytest.fixture
def page(tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is needed for the web UI tests (dev/system-deps)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        pg = context.new_page()
        pg.set_default_timeout(15000)
        yield pg
        context.close()
        browser.close()


def test_web_ui_end_to_end(usrv, page, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    base = usrv.url
    page.goto(base + "/")
    assert page.inner_text("h1") == "Channels"
    page.click("text=Sign in")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button:has-text('Sign in')")
    assert "wrong user name or password" in page.inner_text(".msg")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    assert "signed in as alice" in page.inner_text(".msg")
    shot("01-home-signed-in")

    page.fill("input[name=name]", "webchan")
    page.fill("input[name=description]", "Made in the browser")
    page.click("button:has-text('Create')")
    assert page.inner_text("h1").startswith("webchan")
    pkg = make_package(tmp_path / "webpkg-1.2-0.conda", "webpkg", "1.2", depends=["python >=3.9", "zlib"],
                       files={f"lib/webpkg/mod{i}.py": b"x = 1\n" for i in range(5)})
    page.set_input_files("input[name=file]", str(pkg))
    page.click("button:has-text('Upload package')")
    assert "uploaded noarch/webpkg-1.2-0.conda" in page.inner_text(".msg")
    bad = tmp_path / "broken-1.0-0.conda"
    bad.write_bytes(b"not a package")
    page.set_input_files("input[name=file]", str(bad))
    page.click("button:has-text('Upload package')")
    assert "upload refused" in page.inner_text(".msg")
    shot("02-channel")

    # Download it once, so the statistics plugin has something to show.
    assert httpx.get(f"{base}/get/webchan/noarch/{pkg.name}").status_code == 200
    page.click("a:has-text('webpkg')")
    text = page.inner_text("main")
    assert "1.2" in text and "noarch" in text and "python >=3.9" in text
    assert "lib/webpkg/mod3.py" in text and "MIT" in text
    assert "1 downloads" in page.inner_text(".panel")
    shot("03-package")

    page.goto(base + "/ui/channels/webchan")
    page.fill("input[placeholder='user name']", "bob")
    page.select_option("select[name=role]", "maintainer")
    page.click("button:has-text('Add / change')")
    assert "bob is now maintainer" in page.inner_text(".msg")
    assert "maintainer" in page.inner_text("aside")
    shot("04-members")

    page.click("header >> text=API keys")
    page.fill("input[name=description]", "ci key")
    page.check("input[value=write]")
    page.click("button:has-text('Create key')")
    key = page.inner_text("#new-key").strip()
    shot("05-keys")
    with httpx.Client(base_url=base, headers={"X-API-Key": key}) as c:
        assert c.get("/api/me").json()["username"] == "alice"
        assert c.get("/api/me").json()["scopes"] == ["read", "write"]
    page.click("button:has-text('Revoke')")
    assert "key revoked" in page.inner_text(".msg")

    page.fill("input[type=search]", "webp")
    page.press("input[type=search]", "Enter")
    assert "webchan" in page.inner_text("table")
    shot("06-search")

    # A forged form post with the session cookie but without the CSRF token is refused.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(f"{base}/ui/channels", data={"name": "forged"}, cookies=cookies)
    assert forged.status_code == 403
    assert httpx.get(f"{base}/api/channels/forged").status_code == 404

    # The owner makes the channel private: anonymous clients are locked out of its index.
    page.goto(base + "/ui/channels/webchan")
    page.check("input[name=private]")
    page.click("button:has-text('Save settings')")
    assert "settings saved" in page.inner_text(".msg") and "private" in page.inner_text("h1")
    assert httpx.get(f"{base}/get/webchan/noarch/repodata.json").status_code == 401
    assert httpx.get(f"{base}/ui/channels/webchan").status_code == 404

    # Delete the package from its page (confirming the browser dialog).
    page.click("a:has-text('webpkg')")
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('Delete')")
    assert "deleted noarch/webpkg-1.2-0.conda" in page.inner_text(".msg")
    with httpx.Client(base_url=base, headers={"X-API-Key": usrv_admin_token()}) as c:
        assert c.get("/get/webchan/noarch/repodata.json").json()["packages.conda"] == {}
    shot("07-after-delete")

    page.goto(base + "/ui/stats")
    assert "webpkg-1.2-0.conda" in page.inner_text("table")
    page.goto(base + "/ui/channels/missing")
    assert page.inner_text("h1") == "404"
    page.goto(base + "/")
    page.click("button:has-text('Sign out')")
    assert page.is_visible("text=Sign in")
    print(f"\nscreenshots: {shots}")


def test_admin_pages(usrv, page, tmp_path: Path) -> None:
    with usrv.client() as c:
        r = c.post("/api/users", json={"username": "root2", "password": PASSWORD, "is_admin": True})
        assert r.status_code == 201
    base = usrv.url
    page.goto(base + "/ui/login")
    page.fill("input[name=username]", "root2")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.click("header >> text=Admin")
    page.fill("input[aria-label='New user name']", "carol")
    page.fill("input[aria-label='New user password']", "short")
    page.click("button:has-text('Create user')")
    assert "at least 8" in page.inner_text(".msg")
    page.fill("input[aria-label='New user name']", "carol")
    page.fill("input[aria-label='New user password']", "carol-password")
    page.click("button:has-text('Create user')")
    assert "created carol" in page.inner_text(".msg")
    assert "carol" in page.inner_text("#users")
    audit = page.inner_text("#audit")
    assert "user.create" in audit and "carol" in audit
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
    # Not for everyone.
    with httpx.Client(base_url=base, auth=("bob", PASSWORD)) as bob:
        assert bob.get("/ui/admin").status_code == 403


def test_mirror_sync_button(usrv) -> None:
    """The owner's "Sync now" on a mirror channel starts a job (here upstream is down)."""
    import re
    import time

    with httpx.Client(base_url=usrv.url) as b:
        csrf = b.post("/api/login", json={"username": "bob", "password": PASSWORD}).json()["csrf"]
        assert 'name="upstream"' in b.get("/").text
        r = b.post("/ui/channels", data={"name": "bobmirror", "mode": "mirror", "upstream": "http://127.0.0.1:1/none",
                                          "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/channels/bobmirror")
        assert b.get("/api/channels/bobmirror").json()["mode"] == "mirror"
        assert "Sync now" in b.get("/ui/channels/bobmirror").text
        assert b.post("/ui/channels/bobmirror/sync", data={}).status_code == 403  # no CSRF token
        r = b.post("/ui/channels/bobmirror/sync", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        job = re.search(r"job%20(\w+)", r.headers["location"])[1]
        deadline = time.monotonic() + 20
        while b.get(f"/api/jobs/{job}").json()["state"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
        status = b.get(f"/api/jobs/{job}").json()
        assert status["state"] == "failed" and status["error"]
