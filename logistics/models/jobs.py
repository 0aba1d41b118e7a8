"""When each periodic job of the worker's beat last finished (services/job_runs.py): what the
health check and the admin's system page read to tell a worker that has stopped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from logistics.db import Base
from logistics.models.types import UTCDateTime


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)  # the Celery task's name
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(default=0)
