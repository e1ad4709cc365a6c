"""noarch: python — where such a package's files land, its entry points and its `.pyc` files.

`site-packages/` goes to the environment's site-packages (the python record's
`python_site_packages_path`, or `lib/pythonX.Y/site-packages`), `python-scripts/` to `bin/`;
entry points from `info/link.json` become small scripts in `bin/`; `.pyc` files are compiled by
the environment's own python in batches, in parallel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from naja.install.prefix_replace import replace_long_shebang


@dataclass(frozen=True)
class PythonInfo:
    """The python of the target environment, as far as placing files goes."""

    short_version: str  # "3.12"
    site_packages: str  # prefix-relative, "lib/python3.12/site-packages"
    bin_dir: str = "bin"

    @property
    def executable(self) -> str:
        """Prefix-relative path of the interpreter (`bin/python3.12`)."""
        return f"{self.bin_dir}/python{self.short_version}"

    @property
    def cache_tag(self) -> str:
        return "cpython-" + self.short_version.replace(".", "")

    @classmethod
    def from_record(cls, version: str, site_packages_path: str | None = None) -> PythonInfo:
        parts = version.split(".")
        short = ".".join(parts[:2])
        return cls(short, site_packages_path or f"lib/python{short}/site-packages")


def target_path(path: str, py: PythonInfo | None) -> str:
    """Where a noarch: python package's file `path` lands in the prefix."""
    if py is None:
        return path
    if path.startswith("site-packages/"):
        return py.site_packages + path[13:]
    if path.startswith("python-scripts/"):
        return py.bin_dir + path[14:]
    return path


def pyc_path(py_file: str, py: PythonInfo) -> str:
    """PEP 3147 location of the compiled file for a prefix-relative `.py` path."""
    head, _, name = py_file.rpartition("/")
    stem = name[:-3]
    pyc = f"__pycache__/{stem}.{py.cache_tag}.pyc"
    return f"{head}/{pyc}" if head else pyc


@dataclass(frozen=True)
class EntryPoint:
    name: str
    module: str
    func: str

    @classmethod
    def parse(cls, text: str) -> EntryPoint:
        name, _, target = text.partition("=")
        module, _, func = target.strip().partition(":")
        return cls(name.strip(), module.strip(), func.strip())


def entry_point_script(ep: EntryPoint, python_abs: str) -> bytes:
    """The script for a console entry point on Unix, byte for byte as rattler writes it
    (conda indents with four spaces instead of a tab)."""
    import_name = ep.func.split(".")[0]
    text = (
        f"#!{python_abs}\n"
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        "\n"
        f"from {ep.module} import {import_name}\n"
        "\n"
        "if __name__ == '__main__':\n"
        "\tsys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n"
        f"\tsys.exit({ep.func}())\n"
    )
    return replace_long_shebang(text.encode("utf-8"))


# Run by the environment's python on one batch of files read from stdin; a file that does not
# compile is skipped (it simply gets no .pyc).
_COMPILE_DRIVER = r"""
import compileall, sys
for f in sys.stdin.read().split("\n"):
    if f:
        try:
            compileall.compile_file(f, quiet=2, force=False, legacy=False)
        except Exception:
            pass
"""


def python_runs(python: str) -> bool:
    """Whether the environment's interpreter can be executed here (probed once)."""
    if not os.access(python, os.X_OK):
        return False
    try:
        r = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[0])"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def compile_pyc(
    prefix: str,
    python_rel: str,
    py_files: Iterable[str],
    *,
    jobs: int | None = None,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Compile prefix-relative `.py` files with the prefix's python, `jobs` processes at a time.

    Each process compiles one batch; failures of single files are ignored (conda does the same:
    a file that does not compile simply has no `.pyc`, and only existing ones are recorded).
    """
    files = [os.path.join(prefix, f) for f in py_files]
    if not files:
        return
    python = os.path.join(prefix, python_rel)
    jobs = jobs or os.cpu_count() or 1
    batches = [files[i : i + batch] for i in range(0, len(files), batch)]
    running: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="")
    env.pop("PYTHONDONTWRITEBYTECODE")
    for chunk in batches:
        while len(running) >= jobs:
            running.pop(0).wait()
        p = subprocess.Popen(
            [python, "-Wi", "-c", _COMPILE_DRIVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=prefix,
            env=env,
        )
        assert p.stdin is not None
        p.stdin.write("\n".join(chunk).encode("utf-8", "surrogateescape"))
        p.stdin.close()
        running.append(p)
        if progress:
            progress(len(chunk))
    for p in running:
        p.wait()


def host_python_short() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"
