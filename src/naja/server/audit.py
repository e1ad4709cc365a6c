"""The audit log: uploads, deletions, permission and key changes, sign-in failures."""

from __future__ import annotations

from sqlalchemy.orm import Session

from naja.server.models import AuditEvent


def record(
    session: Session, actor: str, action: str, channel: str = "", target: str = "", detail: str = ""
) -> None:
    """Add an event to the caller's transaction, so it commits with the change it describes."""
    session.add(
        AuditEvent(actor=actor, action=action, channel=channel, target=target, detail=detail)
    )
