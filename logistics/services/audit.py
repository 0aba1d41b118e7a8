"""The audit log: a line for every change an administrator makes to a login, an API key, an
office's phone or a merchant's money (a payout), and for a person's own password change, in
the same transaction as the change, so that a change and its line are kept or lost together.
Finance and administrators read it at ``/admin/audit``; it holds no secret (a key's first
characters, never the key or a password)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.models import AuditAction, AuditEntry, User

SHOWN = 200  # the newest lines a page shows


def record(
    session: Session,
    actor: User | None,
    action: AuditAction,
    subject: str,
    *,
    note: str = "",
    amount_poisha: int | None = None,
) -> AuditEntry:
    """Add a line (``actor`` None: the command line); the caller's commit keeps it."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject=subject[:160],
        note=note[:200],
        amount_poisha=amount_poisha,
    )
    session.add(entry)
    return entry


def key_subject(key_prefix: str, owner: User) -> str:
    """How a line names an API key: its first characters and its login."""
    return f"{key_prefix}… · {owner.username}"


def recent(
    session: Session, action: AuditAction | None = None, about: str = ""
) -> list[AuditEntry]:
    """The newest lines, of one kind of action and about a subject containing ``about``."""
    stmt = select(AuditEntry).options(selectinload(AuditEntry.actor))
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if about:
        stmt = stmt.where(AuditEntry.subject.contains(about, autoescape=True))
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(SHOWN)))
