"""The build and host environments of a build: solved and installed with naja's own solver
and installer, from the recipe's channels plus the local output channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naja.build.build_errors import BuildError

PLACEHOLDER_LENGTH = 255


def host_prefix_path(work: Path) -> Path:
    """A host prefix long enough that binary prefix replacement fits real install paths."""
    name = "host_env"
    while len(str(work / name)) < PLACEHOLDER_LENGTH:
        name += "_placehold"
    return work / name[: max(len(name) - (len(str(work / name)) - PLACEHOLDER_LENGTH), 8)]


def create_env(prefix: Path, specs: list[str], channels: list[str], platform: str) -> list[Any]:
    """Solve `specs` and install them into `prefix`; returns the installed records."""
    from naja.env.plan import PlanRequest, make_plan
    from naja.install import install, installed_records
    from naja.solve.errors import Unsatisfiable

    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "conda-meta").mkdir(exist_ok=True)
    if not specs:
        return []
    try:
        plan = make_plan(PlanRequest(specs=specs, channels=channels, platform=platform))
    except Unsatisfiable as exc:
        raise BuildError(
            f"cannot make the {prefix.name.split('_')[0]} environment:\n{exc.explanation}"
        ) from None
    install(prefix, plan.to_link, requested_specs=specs, history_cmd="naja build")
    return installed_records(prefix)


def python_info(prefix: Path) -> tuple[str, str] | None:
    """(python version 'X.Y', site-packages relative path) of a prefix that has python."""
    from naja.install import installed_records

    for rec in installed_records(prefix):
        if rec.name == "python":
            xy = ".".join(rec.version.split(".")[:2])
            sp = rec.python_site_packages_path or f"lib/python{xy}/site-packages"
            return xy, sp
    return None
