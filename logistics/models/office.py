"""Post offices of the Dhaka network: intake counters, delivery offices and the hub.

An office has roles (one office may both accept and deliver parcels) and a life: an office
that leaves the network is retired (``active`` false), never deleted, so the parcels, events,
payments and users that name it keep their meaning."""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import Boolean, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from logistics.db import Base


class OfficeKind(enum.StrEnum):
    """A role an office plays (an office may have several)."""

    INTAKE = "intake"
    DELIVERY = "delivery"
    HUB = "hub"


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    is_intake: Mapped[bool] = mapped_column(Boolean, default=False)
    is_delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hub: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    role_note: Mapped[str] = mapped_column(Text, default="")  # why the office has its roles
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
    coord_source: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[str] = mapped_column(String(5))
    closes_at: Mapped[str] = mapped_column(String(5))
    open_days: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(20))  # the counter's phone, set by an admin

    @property
    def roles(self) -> tuple[OfficeKind, ...]:
        flags = (
            (OfficeKind.INTAKE, self.is_intake),
            (OfficeKind.DELIVERY, self.is_delivery),
            (OfficeKind.HUB, self.is_hub),
        )
        return tuple(role for role, on in flags if on)

    @property
    def takes_parcels(self) -> bool:
        """An open counter: an active intake office."""
        return bool(self.active and self.is_intake)

    @property
    def delivers(self) -> bool:
        """An active delivery office."""
        return bool(self.active and self.is_delivery)

    def __repr__(self) -> str:
        roles = "+".join(r.value for r in self.roles) or "none"
        return f"<Office {self.code} {roles}{'' if self.active else ' retired'} {self.name_en}>"
