"""Post offices of the Dhaka network: intake counters, delivery offices and the hub."""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import Enum, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from logistics.db import Base


class OfficeKind(enum.StrEnum):
    INTAKE = "intake"
    DELIVERY = "delivery"
    HUB = "hub"


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    kind: Mapped[OfficeKind] = mapped_column(
        Enum(OfficeKind, name="office_kind", values_callable=lambda e: [m.value for m in e])
    )
    source_id: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_bn: Mapped[str] = mapped_column(String(120))
    office_type: Mapped[str] = mapped_column(String(16))
    post_code: Mapped[str | None] = mapped_column(String(4))
    thana_en: Mapped[str] = mapped_column(String(120))
    thana_bn: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(String(40))
    zone: Mapped[str] = mapped_column(String(16))
    lat: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    coord_source: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[str] = mapped_column(String(5))
    closes_at: Mapped[str] = mapped_column(String(5))
    open_days: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Office {self.code} {self.kind.value} {self.name_en}>"
