"""Channel lifecycle and membership, shared by the JSON API, uploads and the web UI."""

from __future__ import annotations

import re

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from naja.server import audit
from naja.server.auth import ROLES, Identity
from naja.server.models import Channel, Member, User
from naja.server.state import ChannelInfo

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def create_channel(
    state,
    ident: Identity,
    name: str,
    *,
    private: bool = False,
    description: str = "",
    mode: str = "",
    upstream: str = "",
) -> ChannelInfo:
    if ident.user is None:
        raise HTTPException(401, "sign in to create a channel")
    if not NAME.match(name) or name in {"api", "get", "t"}:
        raise HTTPException(422, f"invalid channel name {name!r}")
    if mode not in ("", "proxy", "mirror") or (mode and not upstream.startswith(("http://", "https://"))):
        raise HTTPException(422, "proxy and mirror channels need an http(s) upstream URL")
    with state.db.session() as s:
        ch = Channel(name=name, private=private, description=description, mode=mode, upstream=upstream)
        s.add(ch)
        try:
            s.flush()
        except IntegrityError:
            raise HTTPException(409, f"channel {name!r} already exists") from None
        s.add(Member(channel_id=ch.id, user_id=ident.user.id, role="owner"))
        audit.record(s, ident.name, "channel.create", name, detail="private" if private else "public")
        s.commit()
    state.forget_channel(name)
    info = state.channel(name, fresh=True)
    assert info is not None
    return info


def set_member(state, ident: Identity, channel: ChannelInfo, username: str, role: str | None) -> None:
    """Give `username` a role in the channel, or remove them (`role=None`)."""
    if role is not None and role not in ROLES:
        raise HTTPException(422, f"role must be one of {', '.join(ROLES)}")
    with state.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise HTTPException(404, f"no user {username!r}")
        member = s.scalar(
            select(Member).where(Member.channel_id == channel.id, Member.user_id == user.id)
        )
        if role is None:
            if member is None:
                raise HTTPException(404, f"{username} is not a member of {channel.name}")
            s.delete(member)
        elif member is None:
            s.add(Member(channel_id=channel.id, user_id=user.id, role=role))
        else:
            member.role = role
        audit.record(s, ident.name, "member.set" if role else "member.remove", channel.name, username, role or "")
        s.commit()
