"""Where environments live: the root prefix (no base env), `-n NAME` and `-p PATH` resolution."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from naja.errors import UserInputError


def root_prefix(environ: Mapping[str, str] | None = None) -> Path:
    """`NAJA_ROOT_PREFIX`, else `~/.naja`: holds `envs/` and `pkgs/`, and is no environment."""
    env = os.environ if environ is None else environ
    value = env.get("NAJA_ROOT_PREFIX")
    return Path(value).expanduser() if value else Path.home() / ".naja"


def resolve_prefix(
    name: str | None, path: str | None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The prefix named by `-n NAME` or `-p PATH` (None when neither was given)."""
    if name and path:
        raise UserInputError(
            "both -n/--name and -p/--prefix were given",
            hint="use one of them to name the environment",
        )
    if path:
        return Path(path).expanduser().absolute()
    if name:
        if "/" in name or name in {".", ".."} or not name.strip():
            raise UserInputError(
                f"invalid environment name {name!r}",
                hint="a name may not contain '/'; use -p/--prefix for a path",
            )
        return root_prefix(environ) / "envs" / name
    return None
