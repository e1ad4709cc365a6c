"""Rendered outputs -> the JSON document `rattler-build build --render-only` prints.

Fields that describe the generating machine (timestamp, directories, virtual packages) are
filled with neutral values; comparisons ignore them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from naja import __version__
from naja.build.render import RenderedOutput

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _utc_timestamp() -> str:
    """Now in UTC as `2024-01-31T12:00:00.123456Z` (time, not datetime: cheaper to import)."""
    now = time.time_ns()
    seconds, nanos = divmod(now, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"


def output_document(outputs: Iterable[RenderedOutput]) -> list[dict[str, Any]]:
    """The list of output objects, `subpackages` accumulating the outputs emitted so far."""
    doc: list[dict[str, Any]] = []
    subpackages: dict[str, dict[str, str]] = {}
    stamp = _utc_timestamp()
    for out in outputs:
        subpackages[out.name] = {
            "name": out.name,
            "version": out.recipe["package"]["version"],
            "build_string": out.build_string,
        }
        hash_info: dict[str, str] = {"hash": out.hash}
        if out.prefix:
            hash_info["prefix"] = out.prefix
        doc.append(
            {
                "build_configuration": {
                    "build_platform": {"platform": out.build_platform, "virtual_packages": []},
                    "channel_priority": "strict",
                    "channels": list(out.channels),
                    "directories": {},
                    "hash": hash_info,
                    "host_platform": {"platform": out.host_platform, "virtual_packages": []},
                    "packaging_settings": {"archive_type": "conda", "compression_level": 15},
                    "solve_strategy": "highest",
                    "subpackages": dict(subpackages),
                    "target_platform": out.target_platform,
                    "timestamp": stamp,
                    "variant": dict(out.variant),
                },
                "extra_meta": {},
                "finalized_dependencies": None,
                "finalized_sources": None,
                "recipe": out.recipe,
                "system_tools": {"naja": __version__},
            }
        )
    return doc


def dumps(outputs: Iterable[RenderedOutput]) -> str:
    return json.dumps(output_document(outputs), indent=2, sort_keys=True) + "\n"
