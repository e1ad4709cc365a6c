"""Closest existing package names for a name that does not exist (typos, `_` vs `-`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def closest_names(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Up to `limit` names from `known` that look like `name`, best first."""
    names = list(known)
    norm = _norm(name)
    exact = [n for n in names if _norm(n) == norm and n != name]
    by_norm: dict[str, str] = {}
    for n in names:
        by_norm.setdefault(_norm(n), n)
    close = difflib.get_close_matches(norm, list(by_norm), n=limit + len(exact), cutoff=0.6)
    # Names that share the request's stem (scikit-learn -> scikits.learn) read as likely too.
    out = exact + [by_norm[c] for c in close]
    result: list[str] = []
    for n in out:
        if n != name and n not in result:
            result.append(n)
    return result[:limit]
