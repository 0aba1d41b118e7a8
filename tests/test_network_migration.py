"""Migration 0004 on a database that holds the old far-suburb network and parcels at offices it
retires: every row stays, retired offices are kept (inactive), and parcels still on their way to
an office that no longer delivers are re-assigned by post code with a tracking event."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from logistics import migrate
from logistics.db import make_engine, make_sessionmaker
from logistics.models import Office, Parcel
from logistics.services import tracking

OLD_NETWORK = (
    Path(__file__).resolve().parents[1] / "bench" / "data" / "dhaka_far_suburb_offices.csv"
)
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's (SQLite file, or a PostgreSQL database
    made for this test and dropped after it)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    name = f"dakghor_migration_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(database_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _old_network(conn: sa.Connection, md: sa.MetaData) -> dict[str, int]:
    offices = md.tables["offices"]
    with OLD_NETWORK.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["role"] != "none"]
    for r in rows:
        conn.execute(
            offices.insert().values(
                code=r["code"], kind=r["role"], source_id=r["office_id"], name_en=r["name_en"],
                name_bn=r["name_bn"], office_type=r["office_type"], post_code=r["post_code"] or None,
                thana_en=r["thana_area_en"], thana_bn=r["thana_area_bn"], district=r["district"],
                zone=r["zone"], lat=Decimal(r["lat"]), lon=Decimal(r["lon"]),
                coord_source=r["coord_source"], opens_at=r["opens_at"], closes_at=r["closes_at"],
                open_days=r["open_days"], notes=r["notes"],
            )
        )  # fmt: skip
    return {code: i for i, code in conn.execute(sa.select(offices.c.id, offices.c.code))}


PARCELS = [
    # (tracking id, status, origin, destination, recipient post code)
    ("CP000000015BD", "in_transit", "GPO", "SAV", "1340"),  # to a retired suburb office
    ("CP000000029BD", "accepted", "MIR", "DIL", "1223"),  # DIL now only accepts
    ("CP000000032BD", "booked", "GPO", "MOH", "1207"),  # still delivered by MOH
    ("CP000000046BD", "delivered", "GPO", "KER", "1310"),  # history at a retired office
    ("CP000000050BD", "at_delivery_office", "GPO", "NWB", "1320"),  # already there
    ("CP000000063BD", "in_transit", "MNN", "WAR", "1203"),  # from a retired intake office
]


def test_moving_a_live_database_to_the_city_network(scratch_url: str) -> None:
    migrate.upgrade(scratch_url, "0003")
    engine = make_engine(scratch_url)
    md = sa.MetaData()
    md.reflect(engine)
    t = md.tables
    with engine.begin() as conn:
        ids = _old_network(conn, md)
        conn.execute(
            t["users"].insert().values(
                id=1, username="clerk.savar", full_name="Savar clerk", password_hash="x",
                role="clerk", active=True, created_at=NOW, office_id=ids["SAV"],
            )
        )  # fmt: skip
        for n, (tid, status, origin, dest, pc) in enumerate(PARCELS, start=1):
            conn.execute(
                t["parcels"].insert().values(
                    id=n, tracking_id=tid, service="CP", status=status, sender_name="S",
                    sender_phone="+8801711000001", sender_address="A", recipient_name="R",
                    recipient_phone="+8801812345678", recipient_address="B", recipient_post_code=pc,
                    weight_g=1000, declared_value_poisha=0, cod_amount_poisha=50000,
                    cod_fee_poisha=500, fee_poisha=2000, tariff_version="t", payment_method="cash",
                    payment_status="paid", origin_office_id=ids[origin],
                    destination_office_id=ids[dest], created_at=NOW,
                )
            )  # fmt: skip
            conn.execute(
                t["tracking_events"]
                .insert()
                .values(parcel_id=n, code="EMA", office_id=ids[origin], occurred_at=NOW, note="")
            )
            conn.execute(
                t["payment_obligations"]
                .insert()
                .values(
                    parcel_id=n, purpose="cod", amount_poisha=50000, status="open", updated_at=NOW
                )
            )
    engine.dispose()
    before = {name: _count(scratch_url, name) for name in ("offices", "parcels", "users")}

    migrate.upgrade(scratch_url)

    engine = make_engine(scratch_url)
    try:
        with make_sessionmaker(engine)() as s:
            offices = {o.code: o for o in s.scalars(sa.select(Office))}
            # Nothing deleted; Matuail added; the far suburbs and Dak Bhaban retired.
            assert len(offices) == before["offices"] + 1 and offices["MTL"].delivers
            for code in ("SAV", "DHM", "NWB", "JOY", "KER", "JNU", "GZP", "NGJ", "MNN", "DKB"):
                assert not offices[code].active, code
            assert sum(o.delivers for o in offices.values()) == 21
            assert sum(o.takes_parcels for o in offices.values()) == 11
            assert offices["DIL"].takes_parcels and not offices["DIL"].delivers
            assert offices["MIR"].delivers and offices["MIR"].takes_parcels
            assert offices["DEM"].zone == "city"
            assert _count(scratch_url, "users") == before["users"]
            assert _count(scratch_url, "payment_obligations") == len(PARCELS)

            parcels = {p.tracking_id: p for p in s.scalars(sa.select(Parcel))}
            assert len(parcels) == before["parcels"]
            dest = {tid: p.destination_office.code for tid, p in parcels.items()}
            assert dest["CP000000029BD"] == "GPO"  # 1223 -> the GPO, 0.57 km away
            assert offices[dest["CP000000015BD"]].delivers  # Savar -> the nearest city office
            assert dest["CP000000032BD"] == "MOH"
            assert dest["CP000000046BD"] == "KER"  # delivered: its history stays
            assert dest["CP000000050BD"] == "NWB"  # at the office already: finished there
            assert dest["CP000000063BD"] == "WAR"

            moved = {"CP000000015BD", "CP000000029BD"}
            for tid, p in parcels.items():
                codes = [e.code for e in p.events]
                assert codes == (["EMA", "RDR"] if tid in moved else ["EMA"]), tid
            view = tracking.public_view(parcels["CP000000029BD"])
            assert view["status"] == "accepted"  # a re-routing changes no status
            last = view["events"][-1]
            assert last["code"] == "RDR" and last["office_code"] == "GPO"
            assert last["status"] is None and "another delivery office" in last["description_en"]
    finally:
        engine.dispose()


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())  # noqa: S608
    finally:
        engine.dispose()
