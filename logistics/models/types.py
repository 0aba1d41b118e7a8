"""Column types shared by the models: timestamps that are always timezone-aware UTC, and enums
stored by value in a plain string column."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; returns aware datetimes on SQLite too (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; DakGhor stores aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def value_enum(e: type[enum.Enum], name: str) -> Enum:
    """An enum stored by its values (not member names) in a VARCHAR(24), no database type."""
    return Enum(
        e, name=name, values_callable=lambda en: [m.value for m in en], native_enum=False, length=24
    )
