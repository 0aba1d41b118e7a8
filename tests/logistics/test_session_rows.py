"""rows.session_rows and rows.load_by: a booking's small reads on the session's own connection, with the ORM's
values, inside its transaction, seeing what the session has not flushed yet."""

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
