"""The postal vans that move parcels between offices."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from logistics.db import Base
from logistics.models.office import Office


class Van(Base):
    __tablename__ = "vans"
    __table_args__ = (
        CheckConstraint("capacity_kg > 0", name="capacity_kg_positive"),
        CheckConstraint("capacity_parcels > 0", name="capacity_parcels_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration: Mapped[str] = mapped_column(String(40), unique=True)
    model: Mapped[str] = mapped_column(String(80))
    capacity_kg: Mapped[int]
    capacity_parcels: Mapped[int]
    home_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    home_office: Mapped[Office] = relationship()
