"""Turns a user's request (specs, channels, platform) into a solved plan for an environment.

This is the glue between the channel index (`naja.repodata`), the virtual packages of the
target platform and the solver; the CLI's create/install commands print or apply its result.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from naja.specs.channel import Channel, parse_channels
from naja.specs.platform import Platform, current_platform


@dataclass(slots=True)
class PlanRequest:
    """Everything a create/install plan depends on."""

    specs: Sequence[str]
    channels: Sequence[str] = ()
    platform: str | None = None
    installed: Sequence[Any] = ()
    offline: bool = False
    channel_priority: str = "strict"
    environ: Mapping[str, str] | None = None
    job: str = "install"
    update_all: bool = False
    force_reinstall: bool = False
    no_deps: bool = False
    only_deps: bool = False
    pins: Sequence[str] = ()
    channel_config: Any = None
    # Called with index download progress (the CLI passes a rich display on a terminal).
    on_progress: Any = None


@dataclass(slots=True)
class Plan:
    """A solved request: what to link and unlink, and how long each stage took."""

    platform: Platform
    channels: list[Channel]
    to_link: list[Any]
    to_unlink: list[Any]
    records: list[Any]
    timings: dict[str, float] = field(default_factory=dict)


def read_pins(prefix: str | os.PathLike[str]) -> list[str]:
    """The match specs in `<prefix>/conda-meta/pinned`, one per line (# comments allowed)."""
    path = os.path.join(prefix, "conda-meta", "pinned")
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def _remember_channel_tokens(channels: Sequence[Channel]) -> None:
    """A `/t/<token>/` in a channel URL applies to its packages too, not only its index: the
    records keep token-free URLs (for lockfiles and logs), so the token goes to the
    credential lookup that every download consults."""
    with_token = [c for c in channels if c.token]
    if not with_token:
        return
    from naja.auth.entry import AuthEntry
    from naja.auth.keys import normalize_key
    from naja.auth.lookup import AuthProvider
    from naja.auth.lookup import default_provider as auth_default
    from naja.credential_hook import default_provider, set_default_provider

    provider = default_provider()
    if not isinstance(provider, AuthProvider):
        provider = auth_default()
        set_default_provider(provider)
    for channel in with_token:
        provider.add_session(
            normalize_key(channel.url()), AuthEntry("conda_token", token=channel.token)
        )


def make_plan(request: PlanRequest) -> Plan:
    """Load the channels' indexes, detect virtual packages, and solve."""
    from naja.env.virtual_packages import detect_virtual_packages
    from naja.repodata import channel_sources, load_indexes
    from naja.solve.request import SolveRequest
    from naja.solve.solver import solve

    environ = os.environ if request.environ is None else request.environ
    platform = Platform.parse(request.platform) if request.platform else current_platform(environ)
    channels = parse_channels(list(request.channels), request.channel_config, use_default=False)

    _remember_channel_tokens(channels)
    t0 = time.perf_counter()
    # Names the solve starts from: with them the index loads only what is reachable (CEP-16
    # shards, or a lazily decoded full index) instead of every record of every channel.
    roots = [*request.specs, *(r.name for r in request.installed), *request.pins]
    indexes = load_indexes(
        channels, [platform], offline=request.offline, specs=roots, on_progress=request.on_progress
    )
    sources = channel_sources(indexes)
    t1 = time.perf_counter()

    virtual = [vp.to_record() for vp in detect_virtual_packages(platform, environ)]
    solution = solve(
        SolveRequest(
            specs=list(request.specs),
            channels=sources,
            virtual_packages=virtual,
            installed=list(request.installed),
            channel_priority=request.channel_priority,
            job=request.job,
            update_all=request.update_all,
            force_reinstall=request.force_reinstall,
            no_deps=request.no_deps,
            only_deps=request.only_deps,
            pins=list(request.pins),
        )
    )
    t2 = time.perf_counter()
    return Plan(
        platform=platform,
        channels=channels,
        to_link=solution.to_link,
        to_unlink=solution.to_unlink,
        records=solution.records,
        timings={"load_ms": (t1 - t0) * 1e3, "solve_ms": (t2 - t1) * 1e3},
    )
