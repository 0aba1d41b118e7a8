"""A parcel held at its delivery office for the recipient to collect: the collection code sent
to them (its digest, wrong tries, a lock), until when it is held, and the collection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.parcel import Parcel
from logistics.models.types import UTCDateTime


class ParcelHold(Base):
    __tablename__ = "parcel_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(
        ForeignKey("parcels.id", ondelete="CASCADE"), unique=True
    )
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    code_sha256: Mapped[str] = mapped_column(String(64), default="")
    code_tries: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    until_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last day it waits
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cod_cash_poisha: Mapped[int] = mapped_column(default=0)  # COD the counter took in cash

    parcel: Mapped[Parcel] = relationship()
