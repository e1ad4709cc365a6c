"""Which keys an output's variant records (and so hashes), once the output is rendered.

The used keys with their values, plus what rattler-build always records: `target_platform`
(`noarch` for noarch outputs), `channel_targets` / `channel_sources`, `MACOSX_DEPLOYMENT_TARGET`
on macOS, virtual packages in `run`, and one entry per exact subpackage pin. `noarch: python`
drops `python`; `build.variant.ignore_keys` drops keys.
"""

from __future__ import annotations

from naja.build.used_vars import virtual_run_dependencies
from naja.build.variants import VariantConfig

# typing is only needed by type checkers: annotations stay strings here (PEP 563), and
# importing it costs ~2 ms of every `naja build --render-only`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Variant keys recorded for every output when the config has them.
_ALWAYS_KEYS = ("channel_targets", "channel_sources")


def _variant_section(build: dict[str, Any]) -> dict[str, Any]:
    section = build.get("variant")
    return section if isinstance(section, dict) else {}


def use_keys(build: dict[str, Any]) -> list[str]:
    """`build.variant.use_keys`: keys the output uses even if nothing reads them."""
    return [str(k) for k in _variant_section(build).get("use_keys") or []]


def record_variant(
    config: VariantConfig,
    target_platform: str,
    used: set[str],
    combo: dict[str, Any],
    context: dict[str, Any],
    build: dict[str, Any],
    requirements: Any,
    pins: dict[str, str],
) -> dict[str, Any]:
    noarch = build.get("noarch") or None
    variant = {
        k: combo[k] for k in config.values if k in used and k in combo and k not in context
    }
    for key in _ALWAYS_KEYS:
        if key in config.values:
            variant[key] = config.values[key][0]
    if target_platform.startswith("osx-") and "MACOSX_DEPLOYMENT_TARGET" in config.values:
        # Recorded for every macOS output: it sets the deployment target of the build.
        variant["MACOSX_DEPLOYMENT_TARGET"] = config.values["MACOSX_DEPLOYMENT_TARGET"][0]
    for key in _variant_section(build).get("ignore_keys") or []:
        variant.pop(str(key), None)
    if noarch == "python":
        # A noarch python package is the same for every python: python is not a dimension.
        variant.pop("python", None)
    variant.update(pins)
    variant.update(virtual_run_dependencies(requirements))
    variant["target_platform"] = "noarch" if noarch else target_platform
    return variant
