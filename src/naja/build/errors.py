"""Errors raised while reading and rendering a recipe, pointing at file, line and column."""

from __future__ import annotations

from pathlib import Path

from naja.errors import NajaError


class RecipeError(NajaError):
    """A recipe problem at a known place: the message shows the YAML line and a caret under it."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        text = message
        if self.path is not None:
            where = self.path
            if line is not None:
                # Lines and columns are stored 0-based (as the YAML parser gives them).
                where += f":{line + 1}:{(column or 0) + 1}"
            text = f"{where}: {message}"
        if source is not None and line is not None:
            lines = source.splitlines()
            if 0 <= line < len(lines):
                text += f"\n  {lines[line]}\n  {' ' * (column or 0)}^"
        super().__init__(text, hint=hint)


class VariantConfigError(RecipeError):
    """A variant file (`variants.yaml`, `conda_build_config.yaml`, CI file) that cannot be used."""
