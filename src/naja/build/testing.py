"""Runs a built package's tests in a fresh environment: scripts, python imports, contents."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from naja.build.build_errors import BuildError


def _script_text(script: Any) -> str:
    if isinstance(script, list):
        return "\n".join(str(s) for s in script)
    if isinstance(script, dict):
        return _script_text(script.get("content", ""))
    return str(script)


def run_tests(
    tests: list[dict[str, Any]],
    *,
    package_name: str,
    package_spec: str,
    channels: list[str],
    platform: str,
    log: list[str],
) -> None:
    """Each test in its own fresh environment holding the package (and what the test needs)."""
    from naja.build.environments import create_env
    from naja.env.activation import activate

    for n, test in enumerate(tests, 1):
        with tempfile.TemporaryDirectory(prefix="naja-test-") as tmp:
            prefix = Path(tmp) / "test_env"
            if "package_contents" in test:
                _check_contents(test["package_contents"], package_spec, channels, platform, prefix)
                log.append(f"test {n}: package contents ok")
                continue
            extra: list[str] = []
            if "script" in test:
                reqs = test.get("requirements", {}) or {}
                extra = [str(r) for r in reqs.get("run", []) or []]
                body = _script_text(test["script"])
            elif "python" in test:
                imports = test["python"].get("imports", []) or []
                extra = ["python"]
                body = "\n".join(f'python -c "import {m}"' for m in imports)
            else:
                log.append(f"test {n}: skipped (kind {sorted(test)} is not run by naja yet)")
                continue
            create_env(prefix, [package_spec, *extra], channels, platform)
            env = activate(prefix)
            run = subprocess.run(
                ["bash", "-e", "-c", body], env=env, cwd=tmp, capture_output=True, text=True
            )
            log.append(f"test {n}: exit {run.returncode}\n{run.stdout}{run.stderr}")
            if run.returncode != 0:
                raise BuildError(
                    f"test {n} of {package_name} failed (exit {run.returncode}):\n"
                    + "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:]),
                    hint="the package was built but not published; fix the recipe or its test",
                )


def _check_contents(
    spec: dict[str, Any], package_spec: str, channels: list[str], platform: str, prefix: Path
) -> None:
    from naja.build.environments import create_env
    from naja.install import installed_records

    create_env(prefix, [package_spec], channels, platform)
    files = [
        f for r in installed_records(prefix) if r.name == package_spec.split()[0] for f in r.files
    ]
    missing = []
    for lib in spec.get("lib", []) or []:
        if not any(f.startswith(f"lib/lib{lib}.") or f.startswith(f"lib/{lib}") for f in files):
            missing.append(f"lib/lib{lib}.*")
    for key in ("include", "bin", "files"):
        for item in spec.get(key, []) or []:
            path = item if key == "files" else f"{key}/{item}"
            import fnmatch

            if not any(fnmatch.fnmatch(f, path) for f in files):
                missing.append(path)
    if missing:
        raise BuildError(f"package_contents test: missing {', '.join(missing)}")
