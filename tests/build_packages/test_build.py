"""`naja build` on real offline recipes: compile with gcc, link, patch, noarch python,
several outputs; install the results with naja and with py-rattler and run them; compare the
metadata with what py-rattler-build makes of the same recipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

NAJA = str(Path(sys.executable).parent / "naja")
RECIPES = ROOT / "examples" / "recipes"


def naja(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NAJA, *args], capture_output=True, text=True, env=env, timeout=600)


def build_in(tmp_path: Path, recipe: Path) -> subprocess.CompletedProcess[str]:
    """`naja build recipe` with its cache, output (`out`) and work folders under tmp_path."""
    env = dict(os.environ, NAJA_CACHE_DIR=str(tmp_path / "cache"))
    args = ["--output-dir", str(tmp_path / "out"), "--work-dir", str(tmp_path / "w")]
    return naja(env, "build", str(recipe), *args)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("build")
    env = dict(os.environ, NAJA_CACHE_DIR=str(tmp / "cache"), NAJA_ROOT_PREFIX=str(tmp / "root"))
    out = tmp / "channel"
    for recipe in ("python-system", "libgreet", "greet", "greetpy", "greet-multi"):
        run = naja(
            env,
            "build",
            str(RECIPES / recipe),
            "--output-dir",
            str(out),
            "--work-dir",
            str(tmp / "work"),
        )
        assert run.returncode == 0, run.stderr
    return out, env


def read_info(package: Path, name: str) -> dict:
    with zipfile.ZipFile(package) as zf:
        member = next(n for n in zf.namelist() if n.startswith("info-"))
        import io
        import tarfile

        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(zf.read(member))).read()
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            return json.load(tar.extractfile(f"info/{name}"))  # type: ignore[arg-type]


def test_outputs_and_repodata(built: tuple[Path, dict[str, str]]) -> None:
    out, _ = built
    names = {p.name.rsplit("-", 2)[0] for p in out.glob("*/*.conda")}
    assert names == {"python", "libgreet", "greet", "greetpy", "greet-words", "greet-all"}
    repodata = json.loads((out / "linux-64" / "repodata.json").read_text())
    greet = next(r for r in repodata["packages.conda"].values() if r["name"] == "greet")
    # libgreet's run_exports (pin_subpackage upper_bound x) became greet's run dependency.
    assert greet["depends"] == ["libgreet >=1.2.0,<2.0a0"]
    words = read_info(next(out.glob("noarch/greet-all-*.conda")), "index.json")
    assert words["depends"][0].startswith("greet-words ==2.0.0 h")


def test_binary_prefix_and_rpath(built: tuple[Path, dict[str, str]]) -> None:
    out, _ = built
    lib = next(out.glob("linux-64/libgreet-*.conda"))
    paths = {p["_path"]: p for p in read_info(lib, "paths.json")["paths"]}
    assert paths["lib/libgreet.so.1"]["file_mode"] == "binary"
    assert "host_env_placehold" in paths["lib/libgreet.so.1"]["prefix_placeholder"]
    assert paths["lib/libgreet.so"]["path_type"] == "softlink"


def test_install_and_run_with_naja(built: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, env = built
    prefix = tmp_path / "env"
    run = naja(
        env, "create", "-y", "-p", str(prefix), "-c", out.as_uri(), "greet", "greetpy", "greet-all"
    )
    assert run.returncode == 0, run.stderr
    # The patch added the second "!"; the greeting comes from the data file found through the
    # relocated (binary-replaced) prefix; the rpath is relative.
    assert naja(env, "run", "-p", str(prefix), "--", "greet", "naja").stdout == "Hello, naja!!\n"
    rpath = subprocess.run(
        ["patchelf", "--print-rpath", str(prefix / "bin" / "greet")], capture_output=True, text=True
    )
    assert rpath.stdout.strip() == "$ORIGIN/../lib"
    assert (
        naja(env, "run", "-p", str(prefix), "--", "greetpy", "you").stdout
        == "Hello from Python, you!\n"
    )
    assert "bonjour, me" in naja(env, "run", "-p", str(prefix), "--", "greet-all", "me").stdout
    assert list(
        (prefix / "lib" / "python3.11" / "site-packages" / "greetpy").glob("__pycache__/*.pyc")
    )


def test_install_and_run_with_py_rattler(
    built: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    out, env = built
    prefix = tmp_path / "rattler-env"
    code = f"""
import asyncio, os, rattler
async def main():
    records = await rattler.solve([{out.as_uri()!r}], ["greet"], platforms=["linux-64", "noarch"])
    await rattler.install(records, target_prefix={str(prefix)!r})
asyncio.run(main())
os._exit(0)
"""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr
    greet = subprocess.run(
        [str(prefix / "bin" / "greet"), "rattler"], capture_output=True, text=True
    )
    assert greet.stdout == "Hello, rattler!!\n"


def test_metadata_matches_py_rattler_build(
    built: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    out, env = built
    rb_out = tmp_path / "rb"
    code = f"""
import os, warnings, rattler_build
warnings.simplefilter("ignore")
for r in ("libgreet", "greet"):
    rattler_build.build_recipes([{str(RECIPES)!r} + "/" + r + "/recipe.yaml"], output_dir={str(rb_out)!r},
                                channel=[{rb_out.as_uri()!r}], test="skip")
os._exit(0)
"""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    for name in ("libgreet", "greet"):
        ours = next(out.glob(f"linux-64/{name}-*.conda"))
        theirs = next(rb_out.glob(f"linux-64/{name}-*.conda"))
        assert ours.name == theirs.name  # same version, build string and variant hash
        a, b = read_info(ours, "index.json"), read_info(theirs, "index.json")
        a.pop("timestamp"), b.pop("timestamp")
        assert a == b
        pa = {p["_path"]: p for p in read_info(ours, "paths.json")["paths"]}
        pb = {p["_path"]: p for p in read_info(theirs, "paths.json")["paths"]}
        assert sorted(pa) == sorted(pb)
        for path, entry in pa.items():
            other = pb[path]
            assert entry["path_type"] == other["path_type"], path
            assert entry.get("file_mode") == other.get("file_mode"), path
            if entry["path_type"] == "softlink":
                assert entry["size_in_bytes"] == other["size_in_bytes"], path
            elif "file_mode" not in entry and not path.startswith(("bin/", "lib/")):
                # Plain files are byte-identical; compiled ones differ by embedded build paths.
                assert entry["sha256"] == other["sha256"], path
                assert entry["size_in_bytes"] == other["size_in_bytes"], path


def test_failing_script_is_one_clear_error(tmp_path: Path) -> None:
    recipe = tmp_path / "bad"
    recipe.mkdir()
    (recipe / "recipe.yaml").write_text(
        "package: {name: bad, version: '1'}\nbuild:\n  script:\n    - echo compiling\n    - exit 3\n"
    )
    run = build_in(tmp_path, recipe)
    assert run.returncode == 1
    assert "build script of bad 1 failed (exit 3)" in run.stderr and "compiling" in run.stderr
    assert "Traceback" not in run.stderr
    assert not list((tmp_path / "out").glob("*/*.conda"))


def test_patch_that_does_not_apply(tmp_path: Path) -> None:
    recipe = tmp_path / "p"
    (recipe / "src").mkdir(parents=True)
    (recipe / "src" / "a.txt").write_text("one\ntwo\n")
    (recipe / "fix.patch").write_text(
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-uno\n+eins\n two\n"
    )
    (recipe / "recipe.yaml").write_text(
        "package: {name: p, version: '1'}\nsource:\n  path: src\n  patches: [fix.patch]\nbuild:\n  script: [true]\n"
    )
    run = build_in(tmp_path, recipe)
    assert run.returncode == 1 and "hunk 1 for a.txt does not apply" in run.stderr


def test_sandboxed_build_sees_no_home_no_network(tmp_path: Path) -> None:
    import socket

    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.txt").write_text("top secret")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    recipe = tmp_path / "snoop"
    recipe.mkdir()
    (recipe / "recipe.yaml").write_text(
        "package: {name: snoop, version: '1'}\nbuild:\n  script:\n"
        "    - mkdir -p $PREFIX/share\n"
        "    - cat $HOME/secret.txt > $PREFIX/share/home.txt || echo hidden > $PREFIX/share/home.txt\n"
        f"    - (exec 3<>/dev/tcp/127.0.0.1/{port}) && echo net > $PREFIX/share/net.txt || echo none > $PREFIX/share/net.txt\n"
        f"    - touch {tmp_path}/escaped || true\n"
    )
    env = dict(os.environ, NAJA_CACHE_DIR=str(tmp_path / "cache"), HOME=str(home))
    out = tmp_path / "out"
    run = naja(env, "build", str(recipe), "--sandbox", "--output-dir", str(out), "--work-dir", str(tmp_path / "w"))
    listener.close()
    assert run.returncode == 0, run.stderr
    pkg = next(out.glob("*/snoop-*.conda"))
    from conda_package_streaming.extract import extract

    extract(str(pkg), str(tmp_path / "x"))
    assert (tmp_path / "x" / "share" / "home.txt").read_text().strip() == "hidden"
    assert (tmp_path / "x" / "share" / "net.txt").read_text().strip() == "none"
    assert not (tmp_path / "escaped").exists()
