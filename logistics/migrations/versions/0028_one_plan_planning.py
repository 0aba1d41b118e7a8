"""One version of a day is planned at a time: a partial unique index on the day of the
versions being planned (two presses of "Plan the day" at once made two versions, or broke the
unique day and version with a 500).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PLANNING = sa.text("status = 'planning'")


def upgrade() -> None:
    # A day that two jobs were planning at once before this index: the newest goes on, the
    # others end as failed, as a job that died does.
    op.execute(
        "UPDATE day_plans SET status = 'failed', error = 'another version of the day was "
        "being planned at the same time' WHERE status = 'planning' AND id NOT IN "
        "(SELECT max_id FROM (SELECT MAX(id) AS max_id FROM day_plans "
        "WHERE status = 'planning' GROUP BY service_date) AS newest)"
    )
    op.create_index(
        "uq_day_plan_planning",
        "day_plans",
        ["service_date"],
        unique=True,
        sqlite_where=PLANNING,
        postgresql_where=PLANNING,
    )


def downgrade() -> None:
    op.drop_index("uq_day_plan_planning", table_name="day_plans")
