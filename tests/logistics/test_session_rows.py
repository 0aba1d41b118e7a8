"""rows.session_rows and rows.load_by: a booking's small reads on the session's own connection, with the ORM's
values, inside its transaction, seeing what the session has not flushed yet; rows.insert_row: its
INSERTs, stored as SQLAlchemy's execution stores them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from logistics.models import SmsContact
from logistics.rows import session_rows
from logistics.services import network, outbox


def test_rows_are_the_orms_values_by_name(db: Session) -> None:
    stmt = network._DELIVERY_OFFICES
    orm = db.execute(stmt).all()
    raw = session_rows(db, stmt, {})
    assert orm and [tuple(r) for r in raw] == [tuple(r) for r in orm]
    first = raw[0]
    assert (first.id, first.code, first.post_code) == (orm[0].id, orm[0].code, orm[0].post_code)
    assert isinstance(first.lat, Decimal) and first.lat == orm[0].lat  # Numeric, on both


def test_what_the_session_has_not_flushed_is_read(db: Session) -> None:
    assert outbox.contact(db, "+8801711000901") is None
    db.add(SmsContact(msisdn="+8801711000901", lang="en"))  # pending, not flushed
    who = outbox.contact(db, "+8801711000901")
    assert who is not None and who.lang == "en" and who.opted_out_at is None
    db.get(SmsContact, "+8801711000901").lang = "bn"  # type: ignore[union-attr]
    assert outbox.contact(db, "+8801711000901").lang == "bn"  # modified, not flushed


def test_reads_are_inside_the_sessions_transaction(db: Session) -> None:
    db.add(SmsContact(msisdn="+8801711000902", lang="en"))
    db.flush()
    assert outbox.contact(db, "+8801711000902") is not None
    db.rollback()
    assert outbox.contact(db, "+8801711000902") is None


def test_load_by_gives_the_orms_object_as_if_loaded(db: Session) -> None:
    from sqlalchemy import inspect, select

    from logistics.models import Office
    from logistics.rows import load_by

    code = db.scalar(select(Office.code).order_by(Office.code))
    db.expunge_all()
    office = load_by(db, Office, "code", code)
    assert office is not None and office.code == code
    state = inspect(office)
    assert state.persistent and not state.modified and not state.expired_attributes
    assert not db.new and not db.dirty
    assert load_by(db, Office, "id", office.id) is office  # the session's own, no query
    assert db.get(Office, office.id) is office
    fresh = db.execute(select(Office).where(Office.id == office.id)).scalar_one()
    assert fresh is office and office.name_en and office.roles  # every column, as the ORM's
    assert load_by(db, Office, "code", "NOPE") is None


def test_an_api_key_brings_its_user_and_shop(db: Session) -> None:
    from logistics.services import accounts, demo

    db.expunge_all()
    user = accounts.user_for_api_key(db, f"Bearer {demo.DEMO_MERCHANT_KEY}")
    assert user.username == "merchant" and "merchant" in user.__dict__  # no lazy load
    assert user.merchant is not None and user.merchant.id == user.merchant_id
    assert not db.new and not db.dirty


def _notification(key: str) -> dict[str, object]:
    from datetime import UTC, datetime

    from logistics.models import NotificationStatus

    at = datetime(2026, 12, 7, 16, 30, 5, 123456, tzinfo=UTC)
    return {
        "key": key,
        "reference": key[-20:],
        "event": "BKD",
        "channel": "sms",
        "payload": None,
        "parcel_id": None,
        "msisdn": "+8801711000903",
        "lang": "bn",
        "text": "পার্সেল বুক হয়েছে",
        "encoding": "ucs2",
        "segments": 1,
        "status": NotificationStatus.QUEUED,
        "tries": 0,
        "next_attempt_at": at,
        "gateway": None,
        "gateway_reference": None,
        "error_code": None,
        "created_at": at,
        "updated_at": at,
        "sent_at": None,
        "delivered_at": None,
    }


def test_an_insert_is_stored_as_sqlalchemys_execution_stores_it(db: Session) -> None:
    from sqlalchemy import event, insert, text

    from logistics.models import Notification
    from logistics.rows import insert_row

    stmt = insert(Notification).returning(Notification.id)
    heard: list[str] = []

    def note(conn: object, cursor: object, sql: str, *args: object) -> None:
        heard.append(sql)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        theirs = db.connection().execute(stmt, _notification("rows-test-sqlalchemy")).scalar()
        ours = insert_row(db, stmt, _notification("rows-test-insert-row"))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert isinstance(ours, int) and ours != theirs
    assert sum(sql.lstrip().upper().startswith("INSERT") for sql in heard) == 2  # both heard
    stored = {
        row[0]: row[1:]
        for row in db.execute(
            text(
                "SELECT id, event, channel, msisdn, lang, text, encoding, segments, status, "
                "tries, next_attempt_at, created_at, updated_at, sent_at FROM notifications "
                "WHERE id IN (:a, :b)"
            ),
            {"a": theirs, "b": ours},
        )
    }
    assert stored[ours] == stored[theirs]  # the very same stored values (enum, times, text)
    mine = db.get(Notification, ours)
    assert mine is not None and mine.status.value == "queued" and mine.created_at.tzinfo
    # A column with a Python-side default left out: SQLAlchemy runs it and computes the default.
    values = _notification("rows-test-default")
    del values["created_at"]
    defaulted = db.get(Notification, insert_row(db, stmt, values))
    assert defaulted is not None and defaulted.created_at is not None


def test_an_insert_that_breaks_a_constraint_raises_sqlalchemys_error(db: Session) -> None:
    import pytest
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from logistics.db import insert_new
    from logistics.models import Notification
    from logistics.rows import insert_row

    stmt = insert(Notification).returning(Notification.id)
    first = insert_row(db, stmt, _notification("rows-test-twice"))
    assert first is not None
    # ON CONFLICT DO NOTHING: no row, no error.
    assert insert_new(db, Notification, _notification("rows-test-twice"), ["key"]) is None
    with pytest.raises(IntegrityError):
        insert_row(db, stmt, _notification("rows-test-twice"))
