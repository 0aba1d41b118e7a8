"""One-time codes a person reads from an SMS and types (or tells someone who types it): six
digits, only their digest stored, each try counted atomically before it is compared."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from logistics.text import ascii_digits


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
