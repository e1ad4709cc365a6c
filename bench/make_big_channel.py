"""Makes a conda-forge-sized synthetic channel for the repodata benchmark.

About 300k records over 30k package names in linux-64 + noarch, in two layouts under one root:

    <out>/full/<subdir>/repodata.json, repodata.json.zst
    <out>/sharded/<subdir>/repodata_shards.msgpack.zst, shards/<sha256>.msgpack.zst
        (+ repodata.json.zst hard-linked from full/, as real sharded channels keep it)

The dependency graph has a conda-forge-shaped core: `python`, `numpy`, `scipy`, `pandas`,
`matplotlib` and the libraries they pull in (BLAS, the Qt 6 stack, X11/xcb, fonts, LLVM, ...),
with many versions and per-Python builds. The other ~29.7k names are synthetic packages whose
depends point at more popular synthetic names and at the core (as most of conda-forge depends
on python or numpy), never the other way round, so the closure of the core stays the core.
Everything is reproducible from `--seed`; an existing channel with the same parameters is kept.

    .venv/bin/python bench/make_big_channel.py [--out /dev/shm/naja-bench-repodata] [--names 30000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import msgspec  # noqa: E402
import zstandard  # noqa: E402
from tests.repodata.channel_writer import write_shards  # noqa: E402

PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
# name: (kind, depends). kind "py" = one build per Python per version, "python" = the
# interpreter, "c" = compiled library, "noarch" = noarch: python.
CORE: dict[str, tuple[str, list[str]]] = {
    "python": (
        "python",
        [
            "bzip2",
            "ld_impl_linux-64",
            "libexpat",
            "libffi",
            "libgcc",
            "libnsl",
            "libsqlite",
            "libuuid",
            "libxcrypt",
            "libzlib",
            "ncurses",
            "openssl",
            "readline",
            "tk",
            "tzdata",
            "liblzma",
            "pip",
        ],
    ),
    "python_abi": ("c", []),
    "numpy": ("py", ["libblas", "libcblas", "liblapack", "libgcc", "libstdcxx"]),
    "scipy": (
        "py",
        [
            "libblas",
            "libcblas",
            "liblapack",
            "libgcc",
            "libgfortran",
            "libgfortran5",
            "libstdcxx",
            "numpy",
        ],
    ),
    "pandas": ("py", ["numpy", "python-dateutil", "python-tzdata", "pytz", "libgcc", "libstdcxx"]),
    "matplotlib": ("py", ["matplotlib-base", "pyside6", "tornado"]),
    "matplotlib-base": (
        "py",
        [
            "certifi",
            "contourpy",
            "cycler",
            "fonttools",
            "freetype",
            "kiwisolver",
            "libgcc",
            "libstdcxx",
            "numpy",
            "packaging",
            "pillow",
            "pyparsing",
            "python-dateutil",
            "qhull",
            "tk",
        ],
    ),
    "pyside6": (
        "py",
        [
            "libclang13",
            "libegl",
            "libgcc",
            "libgl",
            "libopengl",
            "libstdcxx",
            "libxml2",
            "libxslt",
            "qt6-main",
        ],
    ),
    "qt6-main": (
        "c",
        [
            "alsa-lib",
            "dbus",
            "double-conversion",
            "fontconfig",
            "freetype",
            "harfbuzz",
            "icu",
            "krb5",
            "libclang-cpp",
            "libclang13",
            "libcups",
            "libdrm",
            "libegl",
            "libgcc",
            "libgl",
            "libglib",
            "libjpeg-turbo",
            "libllvm",
            "libpng",
            "libpq",
            "libsqlite",
            "libstdcxx",
            "libtiff",
            "libwebp",
            "libxcb",
            "libxkbcommon",
            "libxml2",
            "libzlib",
            "mysql-libs",
            "openssl",
            "pcre2",
            "wayland",
            "xcb-util",
            "xcb-util-image",
            "xcb-util-keysyms",
            "xcb-util-renderutil",
            "xcb-util-wm",
            "xorg-libice",
            "xorg-libsm",
            "xorg-libx11",
            "xorg-libxext",
            "xorg-libxrandr",
            "zstd",
        ],
    ),
    "pillow": (
        "py",
        [
            "freetype",
            "lcms2",
            "libjpeg-turbo",
            "libtiff",
            "libwebp",
            "libxcb",
            "libzlib",
            "openjpeg",
            "tk",
        ],
    ),
    "contourpy": ("py", ["numpy", "libgcc", "libstdcxx"]),
    "kiwisolver": ("py", ["libgcc", "libstdcxx"]),
    "fonttools": ("py", ["brotli", "munkres", "unicodedata2"]),
    "unicodedata2": ("py", ["libgcc"]),
    "tornado": ("py", ["libgcc"]),
    "brotli": ("py", ["libbrotlicommon", "libbrotlienc", "libbrotlidec", "libgcc"]),
    "pip": ("noarch", ["setuptools", "wheel"]),
    "setuptools": ("noarch", []),
    "wheel": ("noarch", []),
    "packaging": ("noarch", []),
    "pyparsing": ("noarch", []),
    "python-dateutil": ("noarch", ["six"]),
    "six": ("noarch", []),
    "pytz": ("noarch", []),
    "python-tzdata": ("noarch", []),
    "cycler": ("noarch", []),
    "certifi": ("noarch", []),
    "munkres": ("noarch", []),
    "libgcc": ("c", ["_openmp_mutex", "_libgcc_mutex"]),
    "libgcc-ng": ("c", ["libgcc"]),
    "libstdcxx": ("c", ["libgcc"]),
    "libgfortran": ("c", ["libgfortran5"]),
    "libgfortran5": ("c", ["libgcc"]),
    "_openmp_mutex": ("c", ["_libgcc_mutex", "libgomp"]),
    "libblas": ("c", ["libopenblas"]),
    "libcblas": ("c", ["libblas"]),
    "liblapack": ("c", ["libblas"]),
    "libopenblas": ("c", ["libgcc", "libgfortran", "libgfortran5"]),
    "openssl": ("c", ["ca-certificates", "libgcc"]),
    "readline": ("c", ["ncurses", "libgcc"]),
    "tk": ("c", ["libgcc", "libzlib"]),
    "freetype": ("c", ["libpng", "libzlib", "libgcc"]),
    "libpng": ("c", ["libzlib", "libgcc"]),
    "harfbuzz": ("c", ["cairo", "freetype", "graphite2", "icu", "libglib", "libgcc", "libstdcxx"]),
    "cairo": (
        "c",
        [
            "fontconfig",
            "freetype",
            "icu",
            "libglib",
            "libpng",
            "libxcb",
            "pixman",
            "xorg-libx11",
            "xorg-libxext",
            "xorg-libxrender",
            "libzlib",
        ],
    ),
    "fontconfig": ("c", ["freetype", "libexpat", "libuuid", "libzlib"]),
    "libglib": ("c", ["libffi", "libiconv", "pcre2", "libzlib", "libintl"]),
    "libxcb": ("c", ["pthread-stubs", "xorg-libxau", "xorg-libxdmcp"]),
    "xorg-libx11": ("c", ["libxcb", "xorg-xorgproto"]),
    "krb5": ("c", ["keyutils", "libedit", "openssl", "e2fsprogs"]),
    "libpq": ("c", ["krb5", "openldap", "openssl"]),
    "openldap": ("c", ["cyrus-sasl", "krb5", "openssl"]),
    "cyrus-sasl": ("c", ["krb5", "openssl"]),
    "mysql-libs": ("c", ["mysql-common", "openssl", "zstd"]),
    "libllvm": ("c", ["libxml2", "libzlib", "zstd"]),
    "libclang13": ("c", ["libllvm"]),
    "libclang-cpp": ("c", ["libllvm"]),
    "libxml2": ("c", ["icu", "libiconv", "liblzma", "libzlib"]),
    "libxslt": ("c", ["libxml2"]),
    "libtiff": (
        "c",
        ["lerc", "libdeflate", "libjpeg-turbo", "libwebp-base", "liblzma", "libzlib", "zstd"],
    ),
    "libwebp": ("c", ["libwebp-base", "giflib", "libpng", "libtiff"]),
    "lcms2": ("c", ["libjpeg-turbo", "libtiff"]),
    "openjpeg": ("c", ["libpng", "libtiff", "libzlib"]),
    "wayland": ("c", ["libexpat", "libffi"]),
    "libegl": ("c", ["libglvnd"]),
    "libopengl": ("c", ["libglvnd"]),
    "libgl": ("c", ["libglvnd", "libglx"]),
    "libglx": ("c", ["libglvnd", "xorg-libx11"]),
    "libdrm": ("c", ["libpciaccess"]),
    "libcups": ("c", ["krb5", "libzlib"]),
    "dbus": ("c", ["libexpat", "libglib"]),
    "xcb-util": ("c", ["libxcb"]),
    "xcb-util-image": ("c", ["libxcb", "xcb-util"]),
    "xcb-util-keysyms": ("c", ["libxcb"]),
    "xcb-util-renderutil": ("c", ["libxcb"]),
    "xcb-util-wm": ("c", ["libxcb"]),
    "xorg-libsm": ("c", ["xorg-libice", "libuuid"]),
    "xorg-libxext": ("c", ["xorg-libx11"]),
    "xorg-libxrandr": ("c", ["xorg-libxext", "xorg-libxrender"]),
    "xorg-libxrender": ("c", ["xorg-libx11"]),
    "libxkbcommon": ("c", ["libxcb", "libxml2", "xkeyboard-config"]),
    "zstd": ("c", ["libzlib"]),
    "ncurses": ("c", ["libgcc"]),
    "libsqlite": ("c", ["libzlib"]),
    "libnsl": ("c", ["libgcc"]),
    "tzdata": ("generic", []),
    "ca-certificates": ("generic", []),
    "xkeyboard-config": ("c", ["xorg-libx11"]),
}

_ENC = msgspec.json.Encoder()


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _pin(rng: random.Random, name: str) -> str:
    major = rng.randint(1, 12)
    return f"{name} >={major}.{rng.randint(0, 9)},<{major + 1}.0a0"


def _record(
    rng: random.Random,
    name: str,
    version: str,
    build: str,
    number: int,
    depends: list[str],
    subdir: str,
    noarch: str | None,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "build": build,
        "build_number": number,
        "depends": depends,
        "license": rng.choice(("MIT", "BSD-3-Clause", "Apache-2.0", "GPL-3.0-or-later")),
        "license_family": rng.choice(("MIT", "BSD", "APACHE", "GPL")),
        "md5": _hex(rng, 32),
        "name": name,
        "sha256": _hex(rng, 64),
        "size": rng.randint(5_000, 80_000_000),
        "subdir": subdir,
        "timestamp": 1_600_000_000_000 + rng.randint(0, 150_000_000_000),
        "version": version,
    }
    if noarch:
        rec["noarch"] = noarch
    if rng.random() < 0.15:
        rec["constrains"] = [_pin(rng, f"lib{rng.randint(0, 999)}")]
    return rec


def _versions(rng: random.Random, count: int) -> list[str]:
    out, major, minor, patch = [], rng.randint(0, 3), 0, 0
    for _ in range(count):
        step = rng.random()
        if step < 0.1:
            major, minor, patch = major + 1, 0, 0
        elif step < 0.45:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        out.append(f"{major}.{minor}.{patch}")
    return out


def _core_records(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    arch: dict[str, Any] = {}
    noarch: dict[str, Any] = {}
    names = set(CORE)
    for _, deps in CORE.values():
        names.update(deps)
    for name in sorted(names):
        kind, deps = CORE.get(name, ("c", ["libgcc"] if not name.startswith("_") else []))
        if kind == "python":
            for py in PYTHONS:
                for patch in range(rng.randint(6, 14)):
                    for number in range(2):
                        h = _hex(rng, 7)
                        depends = [_pin(rng, d) if d.startswith("lib") else d for d in deps]
                        rec = _record(
                            rng,
                            name,
                            f"{py}.{patch}",
                            f"h{h}_{number}_cpython",
                            number,
                            depends,
                            "linux-64",
                            None,
                        )
                        arch[f"{name}-{py}.{patch}-h{h}_{number}_cpython.conda"] = rec
            continue
        n_versions = rng.randint(8, 40)
        for version in _versions(rng, n_versions):
            builds = rng.randint(1, 2)
            for number in range(builds):
                h = _hex(rng, 7)
                if kind == "py":
                    for py in PYTHONS:
                        tag = "cp" + py.replace(".", "")
                        depends = [_pin(rng, d) if d.startswith("lib") else d for d in deps]
                        depends += [f"python >={py},<{py}.0a0", f"python_abi {py}.* *_{tag}"]
                        build = f"py{tag[2:]}h{h}_{number}"
                        rec = _record(rng, name, version, build, number, depends, "linux-64", None)
                        arch[f"{name}-{version}-{build}.conda"] = rec
                elif kind in ("noarch", "generic"):
                    depends = list(deps) + (["python >=3.9"] if kind == "noarch" else [])
                    build = f"pyhd8ed1ab_{number}" if kind == "noarch" else f"h{h}_{number}"
                    rec = _record(
                        rng,
                        name,
                        version,
                        build,
                        number,
                        depends,
                        "noarch",
                        "python" if kind == "noarch" else "generic",
                    )
                    noarch[f"{name}-{version}-{build}.conda"] = rec
                else:
                    depends = [_pin(rng, d) if rng.random() < 0.7 else d for d in deps]
                    build = f"h{h}_{number}"
                    fn = f"{name}-{version}-{build}"
                    rec = _record(rng, name, version, build, number, depends, "linux-64", None)
                    arch[fn + ".conda"] = rec
                    if rng.random() < 0.3:
                        # Older builds exist as both .tar.bz2 and .conda.
                        arch[fn + ".tar.bz2"] = dict(rec, md5=_hex(rng, 32), sha256=_hex(rng, 64))
    return arch, noarch


def _synthetic(
    rng: random.Random, names: int, records: int, arch: dict[str, Any], noarch: dict[str, Any]
) -> None:
    core = sorted(CORE)
    pool = [
        f"{rng.choice(('py', 'r', 'lib', 'ros', 'perl', 'go', 'rust'))}-pkg{i:05d}"
        for i in range(names)
    ]
    budget = records - len(arch) - len(noarch)
    # Long-tailed records per name (most have a handful, a few have hundreds).
    weights = [min(300.0, rng.paretovariate(1.3)) for _ in pool]
    scale = budget / sum(weights)
    for i, name in enumerate(pool):
        count = max(1, round(weights[i] * scale))
        is_noarch = rng.random() < 0.3
        n_deps = min(i, int(rng.expovariate(1 / 4)))
        # Popular (low-index) names are depended on most: a Zipf-like choice.
        deps = sorted({pool[int(i * rng.random() ** 3)] for _ in range(n_deps)})
        if name.startswith("py-") or is_noarch:
            deps.append("python")
            if rng.random() < 0.3:
                deps.append("numpy")
        elif rng.random() < 0.6:
            deps.append(rng.choice(core))
        versions = _versions(rng, max(1, count // 2))
        k = 0
        for version in versions:
            for number in range(2):
                if k >= count:
                    break
                k += 1
                h = _hex(rng, 7)
                depends = [_pin(rng, d) if rng.random() < 0.5 else d for d in deps]
                if is_noarch:
                    build = f"pyhd8ed1ab_{number}"
                    rec = _record(rng, name, version, build, number, depends, "noarch", "python")
                    noarch[f"{name}-{version}-{build}.conda"] = rec
                else:
                    build = f"h{h}_{number}"
                    rec = _record(rng, name, version, build, number, depends, "linux-64", None)
                    arch[f"{name}-{version}-{build}.conda"] = rec


def make(out: Path, *, names: int, records: int, seed: int) -> dict[str, Any]:
    """Write the channel (or keep an existing one made with the same parameters)."""
    params = {"names": names, "records": records, "seed": seed, "format": 1}
    stamp = out / "params.json"
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        return json.loads((out / "stats.json").read_text())
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    rng = random.Random(seed)
    arch, noarch = _core_records(rng)
    _synthetic(
        rng,
        names - len({r["name"] for r in (*arch.values(), *noarch.values())}),
        records,
        arch,
        noarch,
    )
    stats: dict[str, Any] = {}
    for subdir, packages in (("linux-64", arch), ("noarch", noarch)):
        conda = {fn: r for fn, r in packages.items() if fn.endswith(".conda")}
        bz2 = {fn: r for fn, r in packages.items() if fn.endswith(".tar.bz2")}
        repodata = {
            "info": {"subdir": subdir},
            "packages": bz2,
            "packages.conda": conda,
            "removed": [],
            "repodata_version": 1,
        }
        raw = _ENC.encode(repodata)
        full = out / "full" / subdir
        full.mkdir(parents=True)
        (full / "repodata.json").write_bytes(raw)
        zst = zstandard.ZstdCompressor(level=16, write_content_size=True, threads=-1).compress(raw)
        (full / "repodata.json.zst").write_bytes(zst)
        sharded = out / "sharded" / subdir
        sharded.mkdir(parents=True)
        os.link(full / "repodata.json.zst", sharded / "repodata.json.zst")
        hashes = write_shards(sharded, repodata, level=16)
        stats[subdir] = {
            "records": len(packages),
            "names": len(hashes),
            "json_bytes": len(raw),
            "zst_bytes": len(zst),
            "shard_index_bytes": (sharded / "repodata_shards.msgpack.zst").stat().st_size,
        }
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "stats.json").write_text(json.dumps(stats, indent=2))
    stamp.write_text(json.dumps(params))
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/dev/shm/naja-bench-repodata"))
    ap.add_argument("--names", type=int, default=30_000)
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    print(
        json.dumps(make(args.out, names=args.names, records=args.records, seed=args.seed), indent=2)
    )


if __name__ == "__main__":
    main()
