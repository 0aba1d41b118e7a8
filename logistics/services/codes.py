"""One-time codes a person reads from an SMS and types (or tells someone who types it): six
digits, only their digest stored, each try counted atomically before it is compared."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from logistics.text import ascii_digits

TRIES = 5  # wrong codes typed against one code...
LOCK = timedelta(minutes=15)  # ...then, where a person stands waiting, it is locked this long


def new() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def digest(scope: str, code: str) -> str:
    """The stored form: bound to what the code is for (``scope``), so a code never opens
    anything else."""
    return hashlib.sha256(f"{scope}:{code}".encode()).hexdigest()


def matches(scope: str, typed: str, stored: str | None) -> bool:
    """Whether what was typed (spaces, dashes and Bangla digits allowed) is the code."""
    digits = "".join(ch for ch in ascii_digits(typed) if ch.isdigit())
    return stored is not None and secrets.compare_digest(digest(scope, digits), stored)


def count_try(session: Session, column: Any, row_id: int, limit: int) -> bool:
    """Count one try on the row (``column`` is its tries column, e.g. RoundParcel.code_tries);
    False when it has had ``limit`` tries already: then it is not compared at all."""
    model = column.class_
    done = session.connection().execute(
        update(model).where(model.id == row_id, column < limit).values({column.key: column + 1})
    )
    return bool(done.rowcount == 1)


def locked(row: Any, now: datetime) -> bool:
    """Whether the row (with ``locked_until``) is locked after too many wrong codes."""
    return row.locked_until is not None and bool(row.locked_until > now)


def try_or_lock(session: Session, column: Any, row_id: int, now: datetime) -> bool:
    """Count one try (``count_try`` with TRIES); when they are used up, lock the row for LOCK
    and start the count again, and answer False."""
    if count_try(session, column, row_id, TRIES):
        return True
    model = column.class_
    session.connection().execute(
        update(model).where(model.id == row_id).values({"locked_until": now + LOCK, column.key: 0})
    )
    return False
