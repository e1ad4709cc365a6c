"""The variant hash and the default build string, exactly as rattler-build computes them.

hash   = first 7 hex digits of sha1(json.dumps(variant, sort_keys, separators=(", ", ": ")))
prefix = `py` for noarch python, else np/py/pl/lua/r + short versions of those variant keys
string = f"{prefix}h{hash}_{build_number}"
"""

from __future__ import annotations

import json
from collections.abc import Mapping

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    # hashlib imports the OpenSSL bindings (~2 ms, more than rendering a small recipe); the
    # built-in SHA-1 gives the same digest. hashlib itself falls back to this module.
    from _sha1 import sha1
except ImportError:  # pragma: no cover - interpreters built without it
    from hashlib import sha1

# (variant key, prefix, how many version parts) in rattler-build's order.
_PREFIX_KEYS = (
    ("numpy", "np", 2),
    ("python", "py", 2),
    ("perl", "pl", 3),
    ("lua", "lua", 2),
    ("r_base", "r", 2),
)


def variant_hash(variant: Mapping[str, Any]) -> str:
    text = json.dumps(variant, sort_keys=True, separators=(", ", ": "))
    return sha1(text.encode("utf-8")).hexdigest()[:7]


def _short_version(value: object, parts: int) -> str:
    text = str(value).strip().split(" ")[0] if str(value).strip() else ""
    pieces = [p for p in text.split(".") if p and p != "*"][:parts]
    return "".join(pieces)


def hash_prefix(variant: Mapping[str, Any], noarch: str | None) -> str:
    if noarch == "python":
        return "py"
    out = []
    for key, prefix, parts in _PREFIX_KEYS:
        if key in variant:
            out.append(prefix + _short_version(variant[key], parts))
    return "".join(out)


def default_build_string(prefix: str, hash_: str, number: int) -> str:
    return f"{prefix}h{hash_}_{number}"
