"""Link modes, prefix replacement (text, shebangs, binary) and noarch: python placement."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from naja.install import LinkError, PackageCache, install, installed_records
from naja.install.prefix_replace import replace_binary, replace_long_shebang, replace_text
from tests.install.pkgmaker import PLACEHOLDER, Pkg, channel_records, make_channel
from tests.install.test_transaction import consistent, snapshot

# -- pure functions ------------------------------------------------------------------------


def test_text_replacement_and_short_shebang() -> None:
    data = f"#!{PLACEHOLDER}/bin/python\nprefix={PLACEHOLDER}\n".encode()
    out = replace_text(data, PLACEHOLDER.encode(), b"/env")
    assert out == b"#!/env/bin/python\nprefix=/env\n"


def test_long_shebang_goes_through_env() -> None:
    long_prefix = "/very" + "/long" * 40
    data = f"#!{PLACEHOLDER}/bin/python3.12 -E -s\nimport x\n".encode()
    out = replace_text(data, PLACEHOLDER.encode(), long_prefix.encode())
    assert out == b"#!/usr/bin/env python3.12 -E -s\nimport x\n"
    # exactly 127 characters stays, 128 is rewritten
    ok = b"#!/" + b"a" * 117 + b"/python"
    assert len(ok) == 127 and replace_long_shebang(ok + b"\n") == ok + b"\n"
    too_long = b"#!/" + b"a" * 118 + b"/python"
    assert replace_long_shebang(too_long + b"\nx") == b"#!/usr/bin/env python\nx"
    # escaped spaces in the interpreter path always need env
    assert replace_long_shebang(b"#!/a\\ b/python -u\n") == b"#!/usr/bin/env python -u\n"
    assert replace_long_shebang(b"no shebang") == b"no shebang"


def test_binary_replacement_pads_each_c_string() -> None:
    ph = PLACEHOLDER.encode()
    data = b"\x7fELF" + ph + b"/lib\x00other\x00" + ph + b":" + ph + b"/x\x00tail"
    out = replace_binary(data, ph, b"/env")
    assert len(out) == len(data)
    pad = len(ph) - 4
    assert out == b"\x7fELF/env/lib" + b"\0" * pad + b"\x00other\x00/env:/env/x" + b"\0" * (2 * pad) + b"\x00tail"
    assert replace_binary(b"nothing here", ph, b"/env") == b"nothing here"
    with pytest.raises(LinkError, match="longer than the package's build placeholder"):
        replace_binary(data, ph, b"/" + b"x" * len(ph))


def test_binary_replacement_from_file_matches(tmp_path: Path) -> None:
    """The mapped, kernel-copied, patched-in-place path writes exactly replace_binary's bytes."""
    import hashlib

    from naja.install.package_link import _binary_into

    ph = PLACEHOLDER.encode()
    data = os.urandom(3 << 20) + ph + b"/lib\x00" + os.urandom(1000) + ph + b":" + ph + b"\x00end"
    src = tmp_path / "lib.so"
    src.write_bytes(data)
    src.chmod(0o755)
    sha = _binary_into(str(src), str(tmp_path / "out"), ph, b"/env", "lib/lib.so")
    want = bytes(replace_binary(data, ph, b"/env"))
    assert (tmp_path / "out").read_bytes() == want and sha == hashlib.sha256(want).hexdigest()
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    (tmp_path / "plain").write_bytes(b"no placeholder")
    assert _binary_into(str(tmp_path / "plain"), str(tmp_path / "o2"), ph, b"/env", "x") is None
    (tmp_path / "empty").write_bytes(b"")
    assert _binary_into(str(tmp_path / "empty"), str(tmp_path / "o3"), ph, b"/env", "x") is None
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()
    with pytest.raises(LinkError, match="longer than the package's build placeholder"):
        _binary_into(str(src), str(tmp_path / "o4"), ph, b"/" + b"x" * len(ph), "lib/lib.so")


# -- through a transaction -----------------------------------------------------------------


@pytest.fixture
def recs(tmp_path: Path):
    ph = PLACEHOLDER
    pkgs = [
        Pkg(
            "tool",
            files={
                "bin/script": f"#!{ph}/bin/python\nprint('{ph}')\n".encode(),
                "etc/conf": f"root={ph}\n".encode(),
                "lib/libx.so": b"\x7fELF" + ph.encode() + b"/lib\x00rest",
                "lib/plain": b"plain",
                "lib/link": ("symlink", "plain"),
            },
            prefix_files={"bin/script": "text", "etc/conf": "text", "lib/libx.so": "binary"},
            modes={"bin/script": 0o755},
        ),
    ]
    root = make_channel(tmp_path / "ch", pkgs)
    return channel_records(root)


def test_prefix_replacement_in_prefix(tmp_path: Path, recs) -> None:
    prefix = tmp_path / "env"
    install(prefix, [recs["tool"]], cache=PackageCache([tmp_path / "pkgs"]))
    p = str(prefix)
    assert (prefix / "bin/script").read_text() == f"#!{p}/bin/python\nprint('{p}')\n"
    assert os.access(prefix / "bin/script", os.X_OK)
    assert (prefix / "etc/conf").read_text() == f"root={p}\n"
    lib = (prefix / "lib/libx.so").read_bytes()
    assert lib.startswith(b"\x7fELF" + p.encode() + b"/lib\0") and lib.endswith(b"\0rest")
    assert len(lib) == len(b"\x7fELF" + PLACEHOLDER.encode() + b"/lib\x00rest")
    # the cache is untouched, replaced files are copies, the rest hardlinks
    cache_conf = tmp_path / "pkgs/tool-1.0-0/etc/conf"
    assert PLACEHOLDER in cache_conf.read_text()
    assert os.stat(prefix / "etc/conf").st_ino != os.stat(cache_conf).st_ino
    assert os.stat(prefix / "lib/plain").st_ino == os.stat(tmp_path / "pkgs/tool-1.0-0/lib/plain").st_ino
    meta = json.loads((prefix / "conda-meta/tool-1.0-0.json").read_text())
    by_path = {e["_path"]: e for e in meta["paths_data"]["paths"]}
    assert by_path["etc/conf"]["file_mode"] == "text" and "sha256_in_prefix" in by_path["etc/conf"]
    assert by_path["lib/libx.so"]["prefix_placeholder"] == PLACEHOLDER
    assert "sha256_in_prefix" not in by_path["lib/plain"]


def test_binary_prefix_too_long_rolls_back(tmp_path: Path, recs) -> None:
    prefix = tmp_path / ("p" * (len(PLACEHOLDER) + 10))
    with pytest.raises(LinkError, match=r"longer than the package's build placeholder"):
        install(prefix, [recs["tool"]], cache=PackageCache([tmp_path / "pkgs"]))
    # nothing but the (empty) conda-meta folder naja locks the prefix in
    assert snapshot(prefix) == {"conda-meta": "D"}


@pytest.mark.parametrize("mode", ["copy", "softlink", "hardlink"])
def test_link_modes(tmp_path: Path, recs, mode: str) -> None:
    prefix = tmp_path / "env"
    cache_root = tmp_path / "pkgs"
    install(prefix, [recs["tool"]], cache=PackageCache([cache_root]), link_mode=mode)
    plain, src = prefix / "lib/plain", cache_root / "tool-1.0-0/lib/plain"
    if mode == "softlink":
        assert plain.is_symlink() and os.readlink(plain) == str(src)
    else:
        assert not plain.is_symlink()
        same = os.stat(plain).st_ino == os.stat(src).st_ino
        assert same == (mode == "hardlink")
    assert plain.read_bytes() == b"plain"
    assert os.readlink(prefix / "lib/link") == "plain"  # package symlinks stay symlinks
    assert (prefix / "etc/conf").read_text() == f"root={prefix}\n"
    meta = json.loads((prefix / "conda-meta/tool-1.0-0.json").read_text())
    assert meta["link"]["type"] == {"hardlink": 1, "softlink": 2, "copy": 3}[mode]


def test_hardlink_falls_back_to_copy_across_filesystems(tmp_path: Path, recs) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs two filesystems (/dev/shm and the temp dir)")
    import tempfile

    with tempfile.TemporaryDirectory(dir=shm) as cache_root:
        warnings: list[str] = []
        prefix = tmp_path / "env"
        install(prefix, [recs["tool"]], cache=PackageCache([cache_root]), warn=warnings.append)
        assert len([w for w in warnings if "cannot hardlink" in w]) == 1  # probed once
        assert (prefix / "lib/plain").read_bytes() == b"plain"
        assert os.stat(prefix / "lib/plain").st_nlink == 1
        assert consistent(prefix) == {"tool-1.0"}


# -- noarch: python --------------------------------------------------------------------------

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def py_channel(tmp_path: Path):
    # A "python" package whose interpreter is a wrapper around the test's own python, so .pyc
    # compilation really runs.
    wrapper = f"#!/bin/sh\nexec {sys.executable} \"$@\"\n".encode()
    pkgs = [
        Pkg("python", f"{PY}.1", files={f"bin/python{PY}": wrapper, "bin/python": ("symlink", f"python{PY}")},
            modes={f"bin/python{PY}": 0o755}),
        Pkg(
            "purelib",
            noarch="python",
            files={
                "site-packages/purelib/__init__.py": b"VALUE = 42\ndef main():\n    print('purelib', VALUE)\n",
                "site-packages/purelib/broken.py": b"def (:\n",
                "site-packages/purelib-1.0.dist-info/METADATA": b"Name: purelib\n",
                "python-scripts/purelib-tool": b"#!/usr/bin/env python\nprint('tool')\n",
            },
            entry_points=["purelib = purelib:main"],
            modes={"python-scripts/purelib-tool": 0o755},
        ),
    ]
    return channel_records(make_channel(tmp_path / "pych", pkgs))


def test_noarch_python(tmp_path: Path, py_channel) -> None:
    prefix = tmp_path / "env"
    events = []
    install(prefix, [py_channel["python"], py_channel["purelib"]],
            cache=PackageCache([tmp_path / "pkgs"]), progress=events.append)
    sp = prefix / f"lib/python{PY}/site-packages"
    assert (sp / "purelib/__init__.py").exists()
    assert (prefix / "bin/purelib-tool").exists()
    tag = sys.implementation.cache_tag
    assert (sp / f"purelib/__pycache__/__init__.{tag}.pyc").exists()
    assert not (sp / f"purelib/__pycache__/broken.{tag}.pyc").exists()
    meta = json.loads((prefix / "conda-meta/purelib-1.0-0.json").read_text())
    types = {e["_path"]: e["path_type"] for e in meta["paths_data"]["paths"]}
    assert types[f"lib/python{PY}/site-packages/purelib/__pycache__/__init__.{tag}.pyc"] == "pyc_file"
    assert types["bin/purelib"] == "unix_python_entry_point"
    assert f"lib/python{PY}/site-packages/purelib/__pycache__/broken.{tag}.pyc" not in types
    script = (prefix / "bin/purelib").read_text()
    assert script.splitlines()[0] == f"#!{prefix}/bin/python{PY}"
    assert "from purelib import main" in script
    r = subprocess.run([str(prefix / "bin/purelib")], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(sp)))
    assert r.stdout.strip() == "purelib 42", r.stderr
    assert {e.stage for e in events} >= {"extract", "link", "pyc", "commit"}
    assert consistent(prefix) == {"python-" + f"{PY}.1", "purelib-1.0"}
    # removing it removes the .pyc files and the emptied folders too
    from naja.install import remove

    remove(prefix, ["purelib"])
    assert not (sp / "purelib").exists() and not (prefix / "bin/purelib").exists()
    assert consistent(prefix) == {"python-" + f"{PY}.1"}


def test_noarch_python_needs_python(tmp_path: Path, py_channel) -> None:
    from naja.install import InstallError

    with pytest.raises(InstallError, match="has no python"):
        install(tmp_path / "env", [py_channel["purelib"]], cache=PackageCache([tmp_path / "pkgs"]))


def test_python_site_packages_path(tmp_path: Path, py_channel) -> None:
    import msgspec

    python = msgspec.structs.replace(py_channel["python"], python_site_packages_path="lib/python3t/site-packages")
    prefix = tmp_path / "env"
    install(prefix, [python, py_channel["purelib"]], cache=PackageCache([tmp_path / "pkgs"]), compile_pyc=False)
    assert (prefix / "lib/python3t/site-packages/purelib/__init__.py").exists()
    assert installed_records(prefix)[0].name == "purelib"


def test_python_minor_upgrade_relinks_noarch(tmp_path: Path) -> None:
    pkgs = [
        Pkg("python", "3.98.0", files={"bin/python3.98": b"#!/bin/sh\n"}),
        Pkg("python", "3.99.0", files={"bin/python3.99": b"#!/bin/sh\n"}),
        Pkg("purelib", noarch="python", files={"site-packages/purelib.py": b"x = 1\n"}),
    ]
    root = make_channel(tmp_path / "ch", pkgs)
    from naja.specs.repodata import load_repodata

    recs = {}
    for sd in ("linux-64", "noarch"):
        for r in load_repodata((root / sd / "repodata.json").read_bytes(), channel=root.as_uri(), subdir=sd):
            recs[f"{r.name}-{r.version}"] = r
    prefix = tmp_path / "env"
    cache = PackageCache([tmp_path / "pkgs"])
    install(prefix, [recs["python-3.98.0"], recs["purelib-1.0"]], cache=cache, compile_pyc=False)
    assert (prefix / "lib/python3.98/site-packages/purelib.py").exists()
    res = install(prefix, [recs["python-3.99.0"]], cache=cache, compile_pyc=False)
    assert sorted(r.name for r in res.linked) == ["purelib", "python"]
    assert (prefix / "lib/python3.99/site-packages/purelib.py").exists()
    assert not (prefix / "lib/python3.98").exists()
    assert consistent(prefix) == {"python-3.99.0", "purelib-1.0"}


def test_bulk_links_errors_and_cancel(tmp_path: Path) -> None:
    from naja.install.linking import BulkLinks, Linker, reflink

    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"x")
    dst = tmp_path / "dst"
    dst.mkdir()
    pairs = [(str(src / "f"), str(dst / f"l{i}")) for i in range(3000)]
    linker = Linker(str(tmp_path))
    links = BulkLinks(linker, workers=2).start()
    links.feed(pairs)
    links.join()
    assert len(os.listdir(dst)) == 3000 and os.stat(src / "f").st_nlink == 3001
    # an existing target is an error, surfaced by join()
    links = BulkLinks(linker, workers=2).start()
    links.feed(pairs[:10])
    with pytest.raises(LinkError, match="already exists"):
        links.join()
    # cancel stops the threads; wait() returns once they are gone
    links = BulkLinks(linker, workers=2).start()
    links.cancel()
    assert links.wait() is None
    # reflink: False (and no file left) where the filesystem cannot clone
    if not reflink(str(src / "f"), str(tmp_path / "clone"), 0o644):
        assert not (tmp_path / "clone").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the link helper is Linux-only")
def test_bulk_links_helper_process(tmp_path: Path) -> None:
    from naja.install.link_helper import helper_available
    from naja.install.linking import BulkLinks, Linker

    assert helper_available()
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "f").write_bytes(b"x")
    (src / "sub" / "g").write_bytes(b"y")
    dst = tmp_path / "dst"
    (dst / "sub").mkdir(parents=True)
    pairs = [(str(src / "f"), str(dst / f"l{i}")) for i in range(3000)]
    pairs += [(str(src / "sub" / "g"), str(dst / "sub" / f"m{i}")) for i in range(3000)]
    linker = Linker(str(tmp_path))
    lock_fd = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    links = BulkLinks(linker, helper_fds=(lock_fd,)).start()
    links.feed(pairs[:100])
    links.drain()  # the first batch is linked once drain() returns
    assert len(os.listdir(dst)) == 101 and links._helpers
    links.feed(pairs[100:])
    links.join()
    assert not links._helpers  # reaped
    assert os.stat(src / "f").st_nlink == 3001 and os.stat(src / "sub" / "g").st_nlink == 3001

    # an existing target: the helper stops, this process redoes the rest and raises as usual
    links = BulkLinks(linker, helper_fds=(lock_fd,)).start()
    links.feed([(str(src / "f"), str(dst / "new1")), *pairs[:10], (str(src / "f"), str(dst / "new2"))])
    with pytest.raises(LinkError, match="already exists"):
        links.join()
    assert (dst / "new1").exists() and not (dst / "new2").exists()

    # a missing source: the same message as without the helper
    links = BulkLinks(linker, helper_fds=(lock_fd,)).start()
    links.feed([(str(src / "missing"), str(dst / "new3"))])
    with pytest.raises(LinkError, match="missing from the cache"):
        links.join()

    # cancel kills the helper; wait() returns once it is reaped
    links = BulkLinks(linker, helper_fds=(lock_fd,)).start()
    links.feed([(str(src / "f"), str(dst / f"c{i}")) for i in range(5000)])
    procs = [h.proc for h in links._helpers]
    links.cancel()
    assert links.wait() is None and all(p.returncode is not None for p in procs)

    # a helper that dies unexpectedly: what it did not answer is made here, no error
    links = BulkLinks(linker, helper_fds=(lock_fd,), helpers=2).start()
    fresh = [(str(src / "f"), str(dst / f"d{i}")) for i in range(5000)]
    links.feed(fresh[:2500])
    links.drain()
    links._helpers[0].proc.kill()
    links.feed(fresh[2500:])
    links.join()
    assert all((dst / f"d{i}").exists() for i in range(5000))
    os.close(lock_fd)


def test_crash_after_compiling_pyc_is_undone(tmp_path: Path, py_channel) -> None:
    """.pyc files are journaled before compiling, so a crash right after leaves nothing behind."""
    import naja.install.transaction as tx
    from naja.install import Transaction, recover

    prefix = tmp_path / "env"
    cache = PackageCache([tmp_path / "pkgs"])
    install(prefix, [py_channel["python"]], cache=cache)
    before = snapshot(prefix)
    pkgs = cache.populate([py_channel["purelib"]])

    class Crash(BaseException):
        pass

    def crash(label: str) -> None:
        if label == "pyc":
            assert list((prefix / f"lib/python{PY}/site-packages/purelib/__pycache__").iterdir())
            raise Crash

    orig = tx._rollback
    tx._rollback = lambda *a: None
    try:
        with pytest.raises(Crash):
            Transaction(str(prefix), link=pkgs, checkpoint=crash).apply()
    finally:
        tx._rollback = orig
    assert recover(prefix) == "rolled back"
    assert snapshot(prefix) == before


def test_legacy_package_without_paths_json(tmp_path: Path) -> None:
    pkg = Pkg(
        "old-style",
        legacy=True,
        files={"bin/tool": f"#!{PLACEHOLDER}/bin/sh\n".encode(), "lib/data": b"d", "lib/link": ("symlink", "data")},
        prefix_files={"bin/tool": "text"},
    )
    recs = channel_records(make_channel(tmp_path / "ch", [pkg]))
    prefix = tmp_path / "env"
    install(prefix, [recs["old-style"]], cache=PackageCache([tmp_path / "pkgs"]))
    assert (prefix / "bin/tool").read_text() == f"#!{prefix}/bin/sh\n"
    assert os.readlink(prefix / "lib/link") == "data"
    meta = json.loads((prefix / "conda-meta/old-style-1.0-0.json").read_text())
    by_path = {e["_path"]: e for e in meta["paths_data"]["paths"]}
    assert by_path["lib/link"]["path_type"] == "softlink"
    assert by_path["bin/tool"]["prefix_placeholder"] == PLACEHOLDER
    assert consistent(prefix) == {"old-style-1.0"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="link helpers are Linux-only")
def test_link_helper_imports_nothing_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # naja run from a cloned project holding a `struct.py`: the helper must not run it.
    from naja.install.link_helper import LinkHelper

    cwd, marker = tmp_path / "project", tmp_path / "ran"
    cwd.mkdir()
    for module in ("struct", "signal"):
        (cwd / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("data")
    (tmp_path / "dst").mkdir()
    monkeypatch.chdir(cwd)
    helper = LinkHelper()
    helper.send(str(tmp_path / "src"), str(tmp_path / "dst"), ["f"], ["f"])
    helper.close_input()
    left = helper.collect()
    helper.wait()
    assert not marker.exists()
    assert left == []  # the child made the link itself
    assert os.path.samefile(tmp_path / "src" / "f", tmp_path / "dst" / "f")


def test_symlink_chain_across_packages_cannot_leave_the_prefix(tmp_path: Path) -> None:
    # Each archive is fine alone; together `x -> .` and `b -> x/..` make b the prefix's parent,
    # and c's file b/ESCAPED would land outside the environment.
    pkgs = [
        Pkg("a", files={"x": ("symlink", ".")}),
        Pkg("b", files={"b": ("symlink", "x/..")}),
        Pkg("c", files={"b/ESCAPED": b"outside"}),
    ]
    recs = channel_records(make_channel(tmp_path / "ch", pkgs))
    prefix = tmp_path / "env"
    cache = PackageCache([tmp_path / "pkgs"])
    install(prefix, [recs["a"], recs["b"]], cache=cache)
    with pytest.raises(LinkError, match="symbolic link leading outside the environment"):
        install(prefix, [recs["c"]], cache=cache)
    assert not (tmp_path / "ESCAPED").exists()
    # a link that stays inside the prefix is still followed
    inside = [Pkg("d", files={"lib/real/f": b"1"}), Pkg("e", files={"lib64": ("symlink", "lib")})]
    inside += [Pkg("g", files={"lib64/real/g": b"2"})]
    recs = channel_records(make_channel(tmp_path / "ch2", inside))
    env2 = tmp_path / "env2"
    install(env2, [recs["d"], recs["e"]], cache=cache)
    install(env2, [recs["g"]], cache=cache)
    assert (env2 / "lib/real/g").read_bytes() == b"2"
