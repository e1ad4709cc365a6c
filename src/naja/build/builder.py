"""Builds the outputs of a recipe into conda packages in a local output channel.

For each rendered output, in order: fetch sources and apply patches; create the build and
host environments (naja's solver and installer, from the output channel first and then the
given channels); run the script with the standard variables; collect the new files of the
host prefix; detect prefixes, make ELF rpaths relative; work out the run dependencies
(run_exports of the build/host packages, pins resolved); write `info/` and the archive; index
the output channel; then test the package in a fresh environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naja.build.build_errors import BuildError
from naja.build.stage1 import as_list


@dataclass
class BuildOptions:
    recipe: Path
    output_dir: Path
    channels: list[str] = field(default_factory=list)
    variant_configs: list[Path] = field(default_factory=list)
    target_platform: str | None = None
    work_dir: Path | None = None
    test: bool = True
    package_format: str = "conda"  # or "tar.bz2"
    keep_work: bool = False
    # Run build scripts in bubblewrap: no network, writes only to the work directory, the
    # recipe read-only, the home directory hidden.
    sandbox: bool = False


@dataclass
class BuiltPackage:
    name: str
    version: str
    build: str
    path: Path
    seconds: float
    log: list[str]


def _run_exports_of(records: list[Any]) -> dict[str, list[str]]:
    """The run_exports that the packages of an environment declare (from their info/)."""
    out: dict[str, list[str]] = {"weak": [], "strong": []}
    for rec in records:
        extracted = getattr(rec, "extracted_package_dir", None)
        if not extracted:
            continue
        path = Path(extracted) / "info" / "run_exports.json"
        if path.is_file():
            data = json.loads(path.read_text())
            for kind in ("weak", "strong"):
                out[kind] += [d for d in data.get(kind, []) if d not in out[kind]]
    return out


def _script_text(script: Any, recipe_dir: Path) -> str:
    if isinstance(script, dict):
        if "file" in script:
            return (recipe_dir / script["file"]).read_text()
        return _script_text(script.get("content", ""), recipe_dir)
    if isinstance(script, list):
        return "\n".join(str(s) for s in script)
    text = str(script or "")
    if text.endswith(".sh") and "\n" not in text and (recipe_dir / text).is_file():
        return (recipe_dir / text).read_text()
    if not text and (recipe_dir / "build.sh").is_file():
        return (recipe_dir / "build.sh").read_text()
    return text


def _sandboxed(
    argv: list[str], env: dict[str, str], work: Path, recipe_dir: Path, src_dir: Path
) -> tuple[list[str], dict[str, str], tuple[int, ...]]:
    """The build script's command line inside bubblewrap (naja run's launcher)."""
    from naja.sandbox.config import SandboxSettings
    from naja.sandbox.launch import wrap

    settings = SandboxSettings(
        enabled=True,
        network=False,
        allow_read=(str(recipe_dir),),
        allow_write=(str(work),),
    )
    wrapped = wrap(settings, argv, env, prefix=work / "build_env", cwd=src_dir, attached_tty=False)
    return wrapped.argv, wrapped.env, wrapped.pass_fds


def build_recipe(opts: BuildOptions) -> list[BuiltPackage]:
    """Build every output of `opts.recipe`; packages land in `opts.output_dir/<subdir>/`."""
    from naja.build.render import RecipeRenderer
    from naja.index import index_channel
    from naja.specs.platform import Platform

    recipe_path = opts.recipe / "recipe.yaml" if opts.recipe.is_dir() else opts.recipe
    if not recipe_path.is_file():
        raise BuildError(f"no recipe found at {recipe_path}")
    recipe_dir = recipe_path.parent
    build_platform = str(Platform.current())
    target = opts.target_platform or build_platform
    outputs = RecipeRenderer(
        recipe_path, list(opts.variant_configs), target, build_platform
    ).render()
    out_dir = opts.output_dir.absolute()
    for sub in {target, "noarch"}:
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    index_channel(out_dir)
    channels = [out_dir.as_uri(), *opts.channels]
    own = {o.name: (o.recipe["package"]["version"], o.build_string) for o in outputs}
    built = []
    for output in outputs:
        built.append(
            _build_output(output, recipe_dir, out_dir, channels, own, opts, build_platform)
        )
        index_channel(out_dir)
    if opts.test:
        for pkg, output in zip(built, outputs, strict=True):
            tests = as_list(output.recipe.get("tests"))
            if tests:
                from naja.build.testing import run_tests

                subdir = pkg.path.parent.name
                run_tests(
                    tests,
                    package_name=pkg.name,
                    package_spec=f"{pkg.name} =={pkg.version} {pkg.build}",
                    channels=channels,
                    platform=target if subdir == "noarch" else subdir,
                    log=pkg.log,
                )
    return built


def _build_output(
    output: Any,
    recipe_dir: Path,
    out_dir: Path,
    channels: list[str],
    own: dict[str, tuple[str, str]],
    opts: BuildOptions,
    build_platform: str,
) -> BuiltPackage:
    from naja.build import collect, environments, script_env
    from naja.build.package import archive_writer, info_files, prefix_detect, relocate
    from naja.build.pin_resolve import resolve_dependency
    from naja.build.sources import fetch_sources

    start = time.monotonic()
    recipe = output.recipe
    name, version = recipe["package"]["name"], recipe["package"]["version"]
    bsection = recipe.get("build", {}) or {}
    build_string, number = bsection.get("string", "0"), int(bsection.get("number", 0))
    noarch = bsection.get("noarch")
    subdir = "noarch" if noarch else output.host_platform
    log: list[str] = []

    base = Path(opts.work_dir or out_dir.parent / "naja-build-work").absolute()
    work = base / f"{name}-{version}-{build_string}"
    if work.exists():
        shutil.rmtree(work)
    src_dir, build_prefix = work / "work", work / "build_env"
    host_prefix = environments.host_prefix_path(work)
    fetch_sources(as_list(recipe.get("source")), recipe_dir, src_dir, base / "src_cache")

    reqs = recipe.get("requirements", {}) or {}
    versions = dict(own)
    build_specs = [resolve_dependency(d, versions) for d in as_list(reqs.get("build"))]
    build_records = environments.create_env(build_prefix, build_specs, channels, build_platform)
    host_specs = [resolve_dependency(d, versions) for d in as_list(reqs.get("host"))]
    host_records = environments.create_env(host_prefix, host_specs, channels, output.host_platform)
    for rec in host_records:
        versions.setdefault(rec.name, (rec.version, rec.build))
    python = environments.python_info(host_prefix)

    before = collect.snapshot(host_prefix)
    env = script_env.build_env(
        name=name,
        version=version,
        build_number=number,
        build_string=build_string,
        hash_=output.hash,
        prefix=host_prefix,
        build_prefix=build_prefix,
        src_dir=src_dir,
        recipe_dir=recipe_dir,
        target_platform=output.host_platform,
        build_platform=build_platform,
        python=python,
        extra=(bsection.get("script") or {}).get("env", {})
        if isinstance(bsection.get("script"), dict)
        else {},
    )
    script = _script_text(bsection.get("script"), recipe_dir)
    (work / "build_script.sh").write_text("set -euo pipefail\n" + script + "\n")
    argv = ["bash", str(work / "build_script.sh")]
    pass_fds: tuple[int, ...] = ()
    if opts.sandbox:
        argv, env, pass_fds = _sandboxed(argv, env, work, recipe_dir, src_dir)
    run = subprocess.run(
        argv, cwd=src_dir, env=env, capture_output=True, text=True, pass_fds=pass_fds
    )
    log.append(run.stdout + run.stderr)
    (work / "build.log").write_text(run.stdout + run.stderr)
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-20:])
        raise BuildError(
            f"the build script of {name} {version} failed (exit {run.returncode}):\n{tail}",
            hint=f"the whole log is in {work / 'build.log'}",
        )
    new_files = sorted(collect.snapshot(host_prefix) - before)
    if not new_files and not bsection.get("always_include_files"):
        log.append("warning: the build installed no files")

    sp = python[1] if (noarch == "python" and python) else None
    if noarch == "python" and sp is None:
        raise BuildError(f"{name} is noarch: python but its host environment has no python")
    stage = work / "stage"
    placed = collect.stage_files(host_prefix, new_files, stage, noarch_python_sp=sp)
    if subdir != "noarch":
        relocate.relocate(stage, placed, str(host_prefix))
    prefix_cfg = bsection.get("prefix_detection", {}) or {}
    hits = (
        []
        if noarch == "python"
        else prefix_detect.detect(
            stage,
            placed,
            str(host_prefix),
            binary_ok=prefix_cfg.get("ignore_binary_files") is not True,
            force_text=frozenset(prefix_cfg.get("force_file_type", {}).get("text", []) or []),
        )
    )

    exports_host, exports_build = _run_exports_of(host_records), _run_exports_of(build_records)
    ignore = set(
        as_list(
            reqs.get("ignore_run_exports", {}).get("by_name")
            if isinstance(reqs.get("ignore_run_exports"), dict)
            else []
        )
    )
    run_deps = [resolve_dependency(d, versions) for d in as_list(reqs.get("run"))]
    for dep in exports_host["weak"] + exports_host["strong"] + exports_build["strong"]:
        if dep.split()[0] not in ignore and dep not in run_deps:
            run_deps.append(dep)
    if noarch == "python":
        run_deps = [d for d in run_deps if not d.startswith("python_abi")]
    constrains = [resolve_dependency(d, versions) for d in as_list(reqs.get("run_constraints"))]
    own_exports: dict[str, list[str]] = {}
    re_section = reqs.get("run_exports")
    if isinstance(re_section, list):
        re_section = {"weak": re_section}
    for kind, deps in (re_section or {}).items():
        own_exports[kind] = [resolve_dependency(d, versions) for d in as_list(deps)]

    about = recipe.get("about", {}) or {}
    info = info_files.PackageInfo(
        name=name,
        version=str(version),
        build=build_string,
        build_number=number,
        subdir=subdir,
        depends=run_deps,
        constrains=constrains,
        noarch=noarch,
        license=about.get("license"),
        license_family=about.get("license_family"),
        timestamp_ms=int(time.time() * 1000),
    )
    python_section = bsection.get("python", {}) or {}
    info_paths = info_files.write_info(
        stage,
        info,
        placed,
        hits,
        str(host_prefix),
        about=about,
        run_exports=own_exports,
        hash_input=output.variant,
        rendered_recipe=recipe,
        recipe_dir=recipe_dir,
        entry_points=list(python_section.get("entry_points", []) or []),
        tests=as_list(recipe.get("tests")),
    )
    ext = ".conda" if opts.package_format == "conda" else ".tar.bz2"
    target = out_dir / subdir / f"{name}-{version}-{build_string}{ext}"
    mtime = int(time.time())
    if ext == ".conda":
        archive_writer.write_conda(stage, placed + info_paths, target, mtime=mtime)
    else:
        archive_writer.write_tar_bz2(stage, placed + info_paths, target, mtime=mtime)
    if not opts.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    os.sync()
    return BuiltPackage(name, str(version), build_string, target, time.monotonic() - start, log)
