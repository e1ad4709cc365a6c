"""The specs a user asked for over an environment's life, read back from conda-meta/history.

conda writes `# update specs: [...]` and `# remove specs: [...]` lines; the latest spec per
package name wins and a removal drops it. This is what `env export --from-history` prints.
"""

from __future__ import annotations

import ast
import os


def _name(spec: str) -> str:
    head = spec.split("::")[-1].strip()
    for stop in " =<>!~[":
        head = head.split(stop, 1)[0]
    return head


def requested_specs(prefix: str | os.PathLike[str]) -> list[str]:
    """The explicitly requested specs still in force, in the order first asked for."""
    path = os.path.join(prefix, "conda-meta", "history")
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    specs: dict[str, str] = {}
    for line in lines:
        for marker, removing in (("# update specs:", False), ("# remove specs:", True)):
            if not line.startswith(marker):
                continue
            try:
                items = ast.literal_eval(line[len(marker) :].strip())
            except (ValueError, SyntaxError):
                continue
            for spec in items if isinstance(items, list) else []:
                name = _name(str(spec))
                if removing:
                    specs.pop(name, None)
                else:
                    specs[name] = str(spec)
    return list(specs.values())
