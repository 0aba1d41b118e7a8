"""A bulk batch's rows held and written together on PostgreSQL (logistics/write_behind.py):
the batch books what row-by-row booking books, its rows are written before anything else runs
on its connection, a held row that meets a conflict undoes the batch, which is then booked row
by row, and nothing held outlives the batch. On SQLite nothing is held; the same bookings are
checked there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from logistics import write_behind
from logistics.db import insert_new, make_sessionmaker, utcnow
from logistics.models import (
    BulkRow,
    Notification,
    NotificationStatus,
    Obligation,
    Parcel,
    Purpose,
    TrackingEvent,
    User,
    WebhookDelivery,
    WebhookEvent,
)
from logistics.services import bulk, bulk_jobs, intake, webhooks
from tests.logistics.test_bulk import _booked_upload


def _on_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _merchant(db: Session) -> User:
    user = db.scalar(select(User).where(User.username == "merchant"))
    assert user is not None and user.merchant_id is not None
    return user


def test_a_batch_books_each_row_with_its_event_message_obligations_and_webhook(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 rows (every third with cash on delivery) for a shop with an endpoint that wants
    parcel.booked: each parcel has its booking event, its recipient's message, its fee (and
    COD) to collect and its webhook; on PostgreSQL each table's rows come in one statement."""
    monkeypatch.setenv("DAKGHOR_WEBHOOK_ALLOW_PRIVATE", "1")  # loopback: no name to resolve
    user = _merchant(db)
    webhooks.add_endpoint(db, user.merchant_id or 0, "http://127.0.0.1:9/hooks", ["parcel.booked"])
    db.commit()
    upload_id = _booked_upload(db, 30, "HELD")
    inserts: list[str] = []

    def heard(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PARCELS"):
            inserts.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", heard)
    try:
        assert bulk_jobs.book(make_sessionmaker(engine), upload_id) == "done"  # type: ignore[arg-type]
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    db.expire_all()
    parcels = bulk.parcels_of(db, upload_id)
    assert len(parcels) == 30
    ids = [p.id for p in parcels]
    assert len(inserts) == (1 if _on_postgres(db) else 30)

    def per_parcel(model: Any, *where: Any) -> dict[int, int]:
        rows = db.execute(
            select(model.parcel_id, func.count())
            .where(model.parcel_id.in_(ids), *where)
            .group_by(model.parcel_id)
        )
        return {pid: n for pid, n in rows}

    assert per_parcel(TrackingEvent, TrackingEvent.code == "BKD") == dict.fromkeys(ids, 1)
    assert per_parcel(Notification) == dict.fromkeys(ids, 1)
    assert per_parcel(Obligation, Obligation.purpose == Purpose.FEE) == dict.fromkeys(ids, 1)
    cod = [p.id for p in parcels if p.cod_amount_poisha > 0]
    assert len(cod) == 10
    assert per_parcel(Obligation, Obligation.purpose == Purpose.COD) == dict.fromkeys(cod, 1)
    assert per_parcel(WebhookEvent, WebhookEvent.type == "parcel.booked") == dict.fromkeys(ids, 1)
    delivered = db.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookEvent.parcel_id.in_(ids), WebhookDelivery.state == "pending")
    )
    assert delivered == 30
    # Each parcel's booking event is the one its page and the public tracking read.
    assert all([e.code for e in p.events] == ["BKD"] for p in parcels)


def _book_one(db: Session, ref: str) -> Parcel:
    from tests.conftest import booking

    req = intake.parse_booking(booking(merchant_reference=ref))
    return intake.create_parcel(db, req, _merchant(db))


def test_held_rows_are_written_before_any_other_statement_and_never_outlive_the_batch(
    db: Session,
) -> None:
    if not _on_postgres(db):
        pytest.skip("nothing is held on SQLite")
    raw = db.connection().connection
    with write_behind.batched(db, {"parcels": 2}):
        parcel = _book_one(db, "HELD-ONE")
        behind = write_behind.held_by(raw)
        assert behind is not None and any("INSERT INTO parcels" in sql for sql in behind.held)
        # Any statement of SQLAlchemy's (here a count) first writes what is held.
        counted = db.connection().exec_driver_sql(
            "SELECT count(*) FROM parcels WHERE id = %(id)s", {"id": parcel.id}
        )
        assert counted.scalar() == 1 and not behind.held
        second = _book_one(db, "HELD-TWO")
        assert behind.held
    assert write_behind.held_by(raw) is None
    assert db.scalar(select(func.count()).where(Parcel.id == second.id)) == 1
    db.rollback()
    # Left by an exception: what it held is dropped with the transaction, and so is the batch.
    with pytest.raises(RuntimeError), write_behind.batched(db, {"parcels": 1}):
        dropped = _book_one(db, "HELD-THREE").id
        raise RuntimeError("stop")
    assert write_behind.held_by(raw) is None
    db.rollback()
    assert db.scalar(select(func.count()).where(Parcel.id == dropped)) == 0


def test_a_commit_or_a_rollback_inside_a_batch_ends_it(db: Session) -> None:
    """The connection may go back to the pool when its transaction ends: a commit inside the
    batch writes what it held and ends it, and so does a rollback (dropping what it held), so
    no other session's rows are ever held on that connection."""
    if not _on_postgres(db):
        pytest.skip("nothing is held on SQLite")
    raw = db.connection().connection
    with write_behind.batched(db, {"parcels": 2}):
        kept = _book_one(db, "ENDS-ONE").id
        assert write_behind.held_by(raw) is not None
        db.commit()
        assert write_behind.held_by(raw) is None
        after = _book_one(db, "ENDS-TWO").id  # written at once, on whatever connection
        assert write_behind.held_by(db.connection().connection) is None
    db.commit()
    assert db.scalar(select(func.count()).where(Parcel.id.in_([kept, after]))) == 2
    raw = db.connection().connection
    with write_behind.batched(db, {"parcels": 1}):
        dropped = _book_one(db, "ENDS-THREE").id
        db.rollback()
        assert write_behind.held_by(raw) is None
    assert db.scalar(select(func.count()).where(Parcel.id == dropped)) == 0


def test_a_held_row_that_meets_a_conflict_undoes_the_batch(db: Session) -> None:
    """INSERT ... ON CONFLICT DO NOTHING answers an id at once when held; written, a row that
    made nothing is an IntegrityError, not a row the batch believes it has."""
    if not _on_postgres(db):
        pytest.skip("nothing is held on SQLite")
    now = utcnow()
    values = {
        "key": "held-conflict",
        "reference": "DKHELD0001",
        "event": "BKD",
        "channel": "sms",
        "payload": None,
        "parcel_id": None,
        "msisdn": "+8801711000001",
        "lang": "bn",
        "text": "x",
        "encoding": "GSM",
        "segments": 1,
        "status": NotificationStatus.QUEUED,
        "tries": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    assert insert_new(db, Notification, values, ["key"]) is not None
    db.commit()
    with pytest.raises(IntegrityError), write_behind.batched(db, {"notifications": 1}):
        again = {**values, "reference": "DKHELD0002"}
        assert insert_new(db, Notification, again, ["key"]) is not None  # held: not yet known
    db.rollback()
    assert db.scalar(select(func.count()).where(Notification.key == "held-conflict")) == 1


def test_an_order_booked_while_its_batch_was_being_written_is_reported_and_the_rest_booked(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another booking of one of the batch's order ids lands after the batch read which ids
    were booked: the batch's write fails on the order id's unique index, the batch is undone
    and booked row by row, and that row is reported as booked already, naming its parcel."""
    upload_id = _booked_upload(db, 5, "RACE")
    first = _book_one(db, "RACE-3")  # by the API, as the batch runs
    db.commit()
    monkeypatch.setattr(intake, "refuse_repeated_order", lambda *a, **k: None)  # read before
    assert bulk_jobs.book(make_sessionmaker(db.get_bind()), upload_id) == "done"  # type: ignore[arg-type]
    db.expire_all()
    rows = {
        r.order_id: r for r in db.scalars(select(BulkRow).where(BulkRow.upload_id == upload_id))
    }
    assert rows["RACE-3"].status == "duplicate" and rows["RACE-3"].tracking_id == first.tracking_id
    assert all(rows[f"RACE-{n}"].status == "booked" for n in (1, 2, 4, 5))
    refs = [f"RACE-{n}" for n in range(1, 6)]
    assert db.scalar(select(func.count()).where(Parcel.merchant_reference.in_(refs))) == 5
