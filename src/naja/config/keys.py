"""The configuration keys naja knows, their types and defaults."""

from __future__ import annotations

from typing import Any

# key -> (kind, default). kind: "list", "map", "bool", "int", "str".
KEYS: dict[str, tuple[str, Any]] = {
    "channels": ("list", []),
    "default_channels": ("list", []),
    "channel_alias": ("str", "https://conda.anaconda.org/"),
    "channel_priority": ("str", "strict"),
    "custom_channels": ("map", {}),
    "custom_multichannels": ("map", {}),
    "mirrors": ("map", {}),
    "pkgs_dirs": ("list", []),
    "envs_dirs": ("list", []),
    "root_prefix": ("str", None),
    "pinned_packages": ("list", []),
    "always_yes": ("bool", False),
    "offline": ("bool", False),
    "ssl_verify": ("str", "true"),
    "proxy_servers": ("map", {}),
    "local_repodata_ttl": ("int", 1),
    "repodata_use_zst": ("bool", True),
    "repodata_use_shards": ("bool", True),
    "extract_threads": ("int", 0),
    "download_threads": ("int", 5),
    "remote_max_retries": ("int", 3),
    "remote_connect_timeout_secs": ("int", 10),
    "remote_read_timeout_secs": ("int", 60),
    "link_mode": ("str", "hardlink"),
    "always_copy": ("bool", False),
    "always_softlink": ("bool", False),
    "allow_softlinks": ("bool", False),
    "safety_checks": ("str", "warn"),
    "extra_safety_checks": ("bool", False),
    "auto_activate_base": ("bool", False),
    "changeps1": ("bool", True),
    "env_prompt": ("str", "({name}) "),
    "sandbox": ("map", {}),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(key: str, value: Any, where: str) -> Any:
    """`value` as the type `key` wants; raises ConfigError naming `where` otherwise."""
    from naja.config.errors import ConfigError

    kind, _ = KEYS.get(key, ("any", None))
    if kind == "list":
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [str(v) if not isinstance(v, dict) else v for v in value]
        raise ConfigError(f"{where}: `{key}` must be a list")
    if kind == "map":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: `{key}` must be a mapping")
        return dict(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{where}: `{key}` must be true or false, not {value!r}")
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: `{key}` must be a number, not {value!r}") from None
    if kind == "str":
        return None if value is None else str(value)
    return value
