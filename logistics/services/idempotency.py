"""``Idempotency-Key`` on the API's POSTs: the same key and the same request answer the first
answer; the same key with another request is refused (409).

A key is claimed before the work (one row per caller and key, made by a conflict-free INSERT,
so of two concurrent requests exactly one works and the other is told to retry), and completed
with the answer in the same commit as the work: a booking and its answer are stored together or
not at all. A request that fails (4xx) gives its key back, so a corrected request may use it. A
claim left "working" by a process that died is taken over after ``STALE_S``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from logistics.db import insert_once, utcnow
from logistics.errors import Conflict, ValidationError
from logistics.i18n import _l
from logistics.models import IdempotencyKey

STALE_S = 300  # a claim this old whose request never finished may be taken over
KEEP_S = 24 * 3600  # keys are answered for a day
KEY = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces


class InProgress(Conflict):
    code = "idempotency_in_progress"


@dataclass(frozen=True)
class Replay:
    status: int
    body: str
    location: str | None


def digest(method: str, path: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def check_key(raw: str) -> str:
    if not KEY.match(raw):
        raise ValidationError(
            {"Idempotency-Key": _l("Idempotency-Key must be 1 to 64 printable characters.")}
        )
    return raw


def claim(session: Session, user_id: int, key: str, request_sha256: str) -> int | Replay:
    """The claim's id (the caller does the work), or the first answer to replay. Commits the
    claim at once, so a concurrent request with the same key sees it."""
    now = utcnow()
    values = {
        "user_id": user_id,
        "key": key,
        "request_sha256": request_sha256,
        "state": "working",
        "created_at": now,
    }
    for _ in range(3):
        made = insert_once(session, IdempotencyKey, values, ["user_id", "key"])
        row = session.scalar(
            select(IdempotencyKey)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
        if row is not None:
            break
        # The claim our INSERT met was given back (its request was refused: ``release``)
        # before our read: the key is free again. (Found by a form pressed twice at once on
        # PostgreSQL: this read found nothing and the second press answered 500.)
        session.rollback()
    else:
        raise InProgress(
            _l("A request with this Idempotency-Key is still being answered; retry in a moment."),
            field="Idempotency-Key",
        )
    if made:
        session.commit()
        return row.id
    if row.request_sha256 != request_sha256:
        session.rollback()
        raise Conflict(
            _l("This Idempotency-Key was used for another request; use a new key."),
            field="Idempotency-Key",
        )
    if row.state == "done":
        replay = Replay(row.response_status or 200, row.response_body or "", row.response_location)
        session.rollback()
        return replay
    # Still working: another request has it, unless the one that had it died long ago.
    taken = (
        session.connection()
        .execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == row.id,
                IdempotencyKey.state == "working",
                IdempotencyKey.created_at < now - timedelta(seconds=STALE_S),
            )
            .values(created_at=now)
        )
        .rowcount
    )
    if taken == 1:
        session.commit()
        return row.id
    session.rollback()
    raise InProgress(
        _l("A request with this Idempotency-Key is still being answered; retry in a moment."),
        field="Idempotency-Key",
    )


def complete(session: Session, claim_id: int, status: int, body: str, location: str | None) -> None:
    """Store the answer in the caller's transaction (committed with the work)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim_id)
        .values(
            state="done",
            response_status=status,
            response_body=body,
            response_location=location,
            completed_at=utcnow(),
        )
    )


def release(session: Session, claim_id: int) -> None:
    """The request failed: the key may be used again (its own transaction)."""
    session.rollback()
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.id == claim_id, IdempotencyKey.state == "working"
        )
    )
    session.commit()


def purge(session: Session) -> int:
    """Forget keys older than a day (the sweep)."""
    cutoff = utcnow() - timedelta(seconds=KEEP_S)
    n = (
        session.connection()
        .execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
        .rowcount
    )
    session.commit()
    return int(n or 0)
