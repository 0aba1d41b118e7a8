"""The Dhaka city network: offices with roles and an active flag; an existing network moves to
the city offices of logistics/data/dhaka_offices.csv

Offices no longer in the network are retired (active false), never deleted, so every parcel,
event, payment and user that names one keeps it. A parcel still on its way (booked, accepted,
in transit) to an office that no longer delivers is re-assigned by its post code to the
office that serves it now, with a tracking event (RDR) saying so.

A database with no offices yet (a fresh one) is left to ``dakghor seed``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parents[2] / "data" / "dhaka_offices.csv"
IN_FLIGHT = ("booked", "accepted", "in_transit")

offices = sa.table(
    "offices",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("source_id", sa.String),
    sa.column("is_intake", sa.Boolean),
    sa.column("is_delivery", sa.Boolean),
    sa.column("is_hub", sa.Boolean),
    sa.column("active", sa.Boolean),
    sa.column("role_note", sa.Text),
    sa.column("name_en", sa.String),
    sa.column("name_bn", sa.String),
    sa.column("office_type", sa.String),
    sa.column("post_code", sa.String),
    sa.column("thana_en", sa.String),
    sa.column("thana_bn", sa.String),
    sa.column("district", sa.String),
    sa.column("zone", sa.String),
    sa.column("lat", sa.Numeric),
    sa.column("lon", sa.Numeric),
    sa.column("coord_source", sa.String),
    sa.column("opens_at", sa.String),
    sa.column("closes_at", sa.String),
    sa.column("open_days", sa.String),
    sa.column("notes", sa.Text),
)
parcels = sa.table(
    "parcels",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("destination_office_id", sa.Integer),
    sa.column("recipient_post_code", sa.String),
)
events = sa.table(
    "tracking_events",
    sa.column("parcel_id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("office_id", sa.Integer),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_user_id", sa.Integer),
    sa.column("note", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table('offices') as batch_op:
        for name in ('is_intake', 'is_delivery', 'is_hub'):
            batch_op.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('role_note', sa.Text(), nullable=False, server_default=''))
        batch_op.alter_column('coord_source', type_=sa.String(200), existing_type=sa.String(64))
    bind = op.get_bind()
    for role in ('intake', 'delivery', 'hub'):
        bind.execute(
            sa.text(f"UPDATE offices SET is_{role} = :yes WHERE CAST(kind AS VARCHAR(16)) = :role"),
            {"yes": True, "role": role},
        )
    with op.batch_alter_table('offices') as batch_op:
        batch_op.drop_column('kind')
    sa.Enum(name='office_kind').drop(bind, checkfirst=True)
    if bind.execute(sa.select(sa.func.count()).select_from(offices)).scalar():
        _move_to_city_network(bind)


def _read() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _values(r: dict[str, str]) -> dict[str, object]:
    roles = set(r["roles"].split())
    return {
        "is_intake": "intake" in roles,
        "is_delivery": "delivery" in roles,
        "is_hub": "hub" in roles,
        "active": True,
        "role_note": r["role_reason"],
        "name_en": r["name_en"],
        "name_bn": r["name_bn"],
        "office_type": r["office_type"],
        "post_code": r["post_code"] or None,
        "thana_en": r["thana_area_en"],
        "thana_bn": r["thana_area_bn"],
        "district": r["district"],
        "zone": r["zone"],
        "lat": Decimal(r["lat"]),
        "lon": Decimal(r["lon"]),
        "coord_source": r["coord_source"],
        "opens_at": r["opens_at"],
        "closes_at": r["closes_at"],
        "open_days": r["open_days"],
        "notes": r["qc_note"],
    }


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _move_to_city_network(bind: sa.Connection) -> None:
    every = _read()
    rows = [r for r in every if r["roles"].strip()]
    existing = {r.source_id: r for r in bind.execute(sa.select(offices.c.id, offices.c.source_id, offices.c.code))}
    wanted = {r["office_id"] for r in rows}
    for r in rows:
        if r["office_id"] in existing:
            bind.execute(
                offices.update().where(offices.c.source_id == r["office_id"]).values(**_values(r))
            )
        else:
            bind.execute(offices.insert().values(code=r["code"], source_id=r["office_id"], **_values(r)))
    bind.execute(offices.update().where(offices.c.source_id.not_in(wanted)).values(active=False))

    # Where each post code is: the city file's points, else (a post code of a retired suburb)
    # the point of the office it was addressed to.
    points = {r["post_code"]: (float(r["lat"]), float(r["lon"])) for r in every if r["post_code"]}
    all_offices = {
        o.id: o
        for o in bind.execute(
            sa.select(offices.c.id, offices.c.code, offices.c.post_code, offices.c.lat, offices.c.lon,
                      offices.c.active, offices.c.is_delivery)
        )
    }
    serving = [o for o in all_offices.values() if o.active and o.is_delivery]
    stranded = bind.execute(
        sa.select(parcels.c.id, parcels.c.destination_office_id, parcels.c.recipient_post_code)
        .where(sa.cast(parcels.c.status, sa.String(32)).in_(IN_FLIGHT))
        .where(parcels.c.destination_office_id.not_in([o.id for o in serving]))
    ).all()
    now = datetime.now(UTC)
    for p in stranded:
        old = all_offices[p.destination_office_id]
        new = next((o for o in serving if o.post_code == p.recipient_post_code), None)
        if new is None:
            here = points.get(p.recipient_post_code, (float(old.lat), float(old.lon)))
            new = min(serving, key=lambda o: (_km(here, (float(o.lat), float(o.lon))), o.code))
        bind.execute(parcels.update().where(parcels.c.id == p.id).values(destination_office_id=new.id))
        bind.execute(
            events.insert().values(
                parcel_id=p.id,
                code="RDR",
                office_id=new.id,
                occurred_at=now,
                actor_user_id=None,
                note=f"{old.code} -> {new.code} (post code {p.recipient_post_code})",
            )
        )


def downgrade() -> None:
    """Back to one kind per office (intake wins over delivery); retirements are not undone."""
    bind = op.get_bind()
    kind = sa.Enum('intake', 'delivery', 'hub', name='office_kind')
    kind.create(bind, checkfirst=True)
    with op.batch_alter_table('offices') as batch_op:
        batch_op.add_column(sa.Column('kind', kind, nullable=False, server_default='delivery'))
    bind.execute(sa.text("UPDATE offices SET kind = 'hub' WHERE is_hub = :yes"), {"yes": True})
    bind.execute(sa.text("UPDATE offices SET kind = 'intake' WHERE is_intake = :yes"), {"yes": True})
    bind.execute(sa.text("UPDATE offices SET coord_source = SUBSTR(coord_source, 1, 64)"))
    with op.batch_alter_table('offices') as batch_op:
        batch_op.alter_column('kind', server_default=None)
        batch_op.alter_column('coord_source', type_=sa.String(64), existing_type=sa.String(200))
        for name in ('role_note', 'active', 'is_hub', 'is_delivery', 'is_intake'):
            batch_op.drop_column(name)
