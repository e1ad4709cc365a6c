"""Compile the solver's CDCL engine (src/naja/solve/sat.py) with mypyc, in place.

Writes src/naja/solve/_sat_native*.so (git-ignored), which naja.solve.engine loads instead of
sat.py while the SHA-256 stamped into it matches sat.py. Does nothing when the build is
current; without a C compiler, Python headers or mypyc it says why and leaves naja on the
pure-Python engine (exit 0: slower, not broken).

    .venv/bin/python dev/build_native.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLVE = ROOT / "src" / "naja" / "solve"
SOURCE = SOLVE / "sat.py"
NAME = "_sat_native"
STAMP = SOLVE / f"{NAME}.sha256"


def missing_tools() -> str | None:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        return "no C compiler (install gcc)"
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not include.exists():
        return f"no Python headers ({include}; install python3-dev)"
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed (it comes with the dev dependencies: ./dev/bootstrap)"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when current")
    args = parser.parse_args()
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    built = list(SOLVE.glob(f"{NAME}.*.so"))
    if not args.force and built and STAMP.exists() and STAMP.read_text().strip() == digest:
        return 0
    why = missing_tools()
    if why:
        print(f"note: the solver runs as pure Python: {why}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="naja-native-") as tmp:
        work = Path(tmp)
        pkg = work / "naja" / "solve"
        pkg.mkdir(parents=True)
        (work / "naja" / "__init__.py").write_text("")
        (pkg / "__init__.py").write_text("")
        # The compiled copy carries the digest of the source it was made from: the engine
        # loader ignores it once sat.py changes.
        text = SOURCE.read_text()
        (pkg / f"{NAME}.py").write_text(f'{text}\n\nSOURCE_SHA256 = "{digest}"\n')
        done = subprocess.run(
            [sys.executable, "-m", "mypyc", f"naja/solve/{NAME}.py"],
            cwd=work,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
            print("error: mypyc could not compile src/naja/solve/sat.py", file=sys.stderr)
            return 1
        outputs = list(pkg.glob("*.so"))
        if not outputs:
            print("error: mypyc produced no extension module", file=sys.stderr)
            return 1
        for old in built:
            old.unlink()
        for path in SOLVE.glob(f"{NAME}__mypyc*.so"):
            path.unlink()
        for path in outputs:
            shutil.copy2(path, SOLVE / path.name)
    STAMP.write_text(digest + "\n")
    print(f"compiled the solver engine: {', '.join(p.name for p in outputs)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
