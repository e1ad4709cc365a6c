"""Changes one configuration file in place, keeping its comments and order (ruamel round trip)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from naja.config.errors import ConfigError
from naja.config.keys import KEYS, coerce


def _load(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML(typ="rt")
    if not path.exists():
        return yaml, CommentedMap()
    doc = yaml.load(path.read_text(encoding="utf-8"))
    return yaml, doc if doc is not None else CommentedMap()


def _save(path: Path, yaml: Any, doc: Any) -> None:
    buf = io.StringIO()
    yaml.dump(doc, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".naja-tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def _check_key(key: str) -> str:
    if key not in KEYS:
        from naja.solve.suggest import closest_names

        close = closest_names(key, KEYS)
        raise ConfigError(
            f"unknown configuration key {key!r}",
            hint=f"did you mean {', '.join(close)}?" if close else "see `naja config list`",
        )
    return KEYS[key][0]


def set_value(path: Path, key: str, value: str) -> None:
    kind = _check_key(key)
    if kind in ("list", "map"):
        raise ConfigError(
            f"`{key}` is a {kind}", hint=f"use `naja config append/prepend {key} VALUE` instead"
        )
    yaml, doc = _load(path)
    doc[key] = coerce(key, value, "value")
    _save(path, yaml, doc)


def add_to_list(path: Path, key: str, value: str, *, front: bool) -> None:
    if _check_key(key) != "list":
        raise ConfigError(f"`{key}` is not a list", hint=f"use `naja config set {key} VALUE`")
    from ruamel.yaml.comments import CommentedSeq

    yaml, doc = _load(path)
    items = doc.get(key)
    if not isinstance(items, list):
        items = CommentedSeq()
        doc[key] = items
    # Changing the sequence in place keeps the comments attached to its other entries.
    if value in items:
        items.remove(value)
    if front:
        items.insert(0, value)
    else:
        items.append(value)
    _save(path, yaml, doc)


def remove_value(path: Path, key: str, value: str | None) -> bool:
    """Remove `value` from list `key` (or the whole key when value is None). True if changed."""
    yaml, doc = _load(path)
    if key not in doc:
        return False
    if value is None:
        del doc[key]
    else:
        items = doc[key]
        if not isinstance(items, list) or value not in items:
            return False
        items.remove(value)
    _save(path, yaml, doc)
    return True
