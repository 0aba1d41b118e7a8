"""The end of an office's day: what each person of the office should hand in (cash taken at
intake, COD taken in cash at the door and at the counter; airtime for the record), what they
did hand in, and who closed the day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base, utcnow
from logistics.models.types import UTCDateTime
from logistics.models.user import User


class CashUp(Base):
    __tablename__ = "cash_ups"
    __table_args__ = (UniqueConstraint("office_id", "day", name="uq_cash_up_office_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    day: Mapped[date] = mapped_column(Date)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    closed_by: Mapped[User] = relationship()
    lines: Mapped[list[CashUpLine]] = relationship(order_by="CashUpLine.id")


class CashUpLine(Base):
    __tablename__ = "cash_up_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    cash_up_id: Mapped[int] = mapped_column(ForeignKey("cash_ups.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    intake_cash_poisha: Mapped[int]
    cod_cash_poisha: Mapped[int]
    airtime_poisha: Mapped[int]  # collected by airtime on this person's parcels: for the record
    handed_in_poisha: Mapped[int]

    user: Mapped[User] = relationship()

    @property
    def expected_poisha(self) -> int:
        return self.intake_cash_poisha + self.cod_cash_poisha

    @property
    def difference_poisha(self) -> int:
        return self.handed_in_poisha - self.expected_poisha
