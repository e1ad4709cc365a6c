"""How commands print: JSON (redacted, stable keys) and the transaction table."""

from __future__ import annotations

import json
import sys
from typing import Any

from naja.specs.url import redact_text


def is_quiet() -> bool:
    """Whether `naja -q` was given (only errors and requested data are printed then)."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    obj = ctx.find_root().obj or {}
    return bool(obj.get("quiet"))


def print_json(data: Any) -> None:
    """Print `data` as JSON on stdout, with any secret in any string redacted."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str)
    sys.stdout.write(redact_text(text) + "\n")


def record_action(record: Any) -> dict[str, Any]:
    """The conda-style JSON entry of one LINK/UNLINK action."""
    return {
        "name": record.name,
        "version": record.version,
        "build_string": record.build,
        "build_number": record.build_number,
        "channel": record.channel,
        "subdir": record.subdir,
        "fn": record.fn,
    }


def print_transaction(to_link: list[Any], to_unlink: list[Any], prefix: str | None) -> None:
    """A table of what changes: install/upgrade/downgrade/remove per package."""
    from rich.console import Console
    from rich.table import Table

    from naja.specs.version import Version

    console = Console(stderr=False, highlight=False)
    old = {r.name: r for r in to_unlink}
    new = {r.name: r for r in to_link}
    table = Table(title=f"Transaction for {prefix}" if prefix else "Transaction", box=None)
    for col in ("", "package", "version", "build", "channel", "size"):
        table.add_column(col)
    for name in sorted(set(old) | set(new)):
        n, o = new.get(name), old.get(name)
        if n and o:
            vn, vo = Version.parse(n.version), Version.parse(o.version)
            mark = "↑" if vn > vo else "↓" if vn < vo else "~"
            kind = {"↑": "upgrade", "↓": "downgrade", "~": "change"}[mark]
            version = f"{o.version} → {n.version}"
        elif n:
            mark, kind, version = "+", "install", n.version
        else:
            assert o is not None
            mark, kind, version = "-", "remove", o.version
        rec = n or o
        size = _size(getattr(rec, "size", None))
        style = {"install": "green", "remove": "red", "downgrade": "yellow"}.get(kind)
        table.add_row(mark, name, version, rec.build, str(rec.channel or ""), size, style=style)
    console.print(table)
    total = sum((r.size or 0) for r in to_link)
    console.print(
        f"  install/change: {len(new)}  remove: {len(set(old) - set(new))}  download: {_size(total)}"
    )


def _size(n: int | None) -> str:
    if not n:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
