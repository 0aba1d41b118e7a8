"""Intake: ids issued from one series without reuse, acceptance recorded, roles respected,
and nothing written when a booking fails."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from logistics import s10
from logistics.db import make_sessionmaker
from logistics.errors import Forbidden, ValidationError
from logistics.models import Parcel, ParcelStatus, PaymentStatus, Role, User
from logistics.services import accounts, intake, serials
from tests.conftest import booking


def user(db: Session, name: str) -> User:
    u = db.scalar(select(User).where(User.username == name))
    assert u is not None
    return u


def test_clerk_intake_is_accepted_paid_and_tracked(db: Session) -> None:
    clerk = user(db, "clerk.gpo")
    req = intake.parse_booking(booking(cod_amount_poisha=45500))
    p = intake.create_parcel(db, req, clerk)
    db.commit()
    assert s10.is_valid(p.tracking_id) and p.tracking_id.startswith("CP")
    assert p.status is ParcelStatus.ACCEPTED and p.payment_status is PaymentStatus.PAID
    assert (p.fee_poisha, p.cod_fee_poisha, p.cod_to_collect_poisha) == (2000, 1150, 46650)
    assert [e.code for e in p.events] == ["EMA"]
    assert p.origin_office.code == "GPO" and p.destination_office.code == "MOH"
    assert p.recipient_phone == "+8801812345678"


def test_merchant_booking_is_booked_and_invoiced(db: Session) -> None:
    p = intake.create_parcel(
        db, intake.parse_booking(booking(origin_office="mir")), user(db, "merchant")
    )
    assert p.status is ParcelStatus.BOOKED and p.payment_status is PaymentStatus.INVOICED
    assert p.origin_office.code == "MIR" and p.merchant_id is not None


def test_a_booking_from_an_office_that_takes_no_parcels_is_refused(db: Session) -> None:
    """The origin comes with the delivery offices in one read: an unknown code, an office
    with no counter and a closed counter are each refused by name, and nothing is written."""
    from logistics.models import Office

    merchant = user(db, "merchant")
    delivery_only = db.scalar(
        select(Office.code).where(Office.is_delivery, ~Office.is_intake).order_by(Office.code)
    )
    gpo = db.scalar(select(Office).where(Office.code == "GPO"))
    assert delivery_only and gpo is not None
    before = db.scalar(select(func.count()).select_from(Parcel))
    for code in ("ZZZ", delivery_only, "GPO"):
        if code == "GPO":
            gpo.active = False
            db.flush()
        with pytest.raises(ValidationError) as e:
            intake.create_parcel(db, intake.parse_booking(booking(origin_office=code)), merchant)
        assert set(e.value.errors) == {"origin_office"}
        assert code in str(e.value.errors["origin_office"])
    assert db.scalar(select(func.count()).select_from(Parcel)) == before
    db.rollback()


def test_ids_rise_and_never_repeat(db: Session) -> None:
    """A process takes serials in blocks (and, on SQLite, inside a transaction that has
    written): they rise, and may leave gaps between blocks."""
    clerk = user(db, "clerk.gpo")
    ids = [
        intake.create_parcel(db, intake.parse_booking(booking()), clerk).tracking_id
        for _ in range(5)
    ]
    db.commit()
    numbers = [int(t[2:10]) for t in ids]
    assert numbers == sorted(set(numbers))


def test_serial_blocks_never_give_a_serial_twice(db: Session) -> None:
    """Two processes (two sets of blocks) and four threads each take serials of one series at
    once: no serial twice, and a block is committed when it is reserved (a transaction that
    rolls back afterwards does not give it back)."""
    from concurrent.futures import ThreadPoolExecutor

    engine = db.get_bind().engine
    processes = [serials.SerialBlocks(block=7), serials.SerialBlocks(block=7)]
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda i: processes[i % 2].take(engine, "ZZ"), range(200)))
    assert len(set(taken)) == 200
    assert min(taken) == 1
    db.rollback()
    after = serials.SerialBlocks(block=7).take(engine, "ZZ")
    assert after > max(taken)  # the reserved blocks stayed taken


def test_serials_set_aside_for_a_session_are_its_own_and_then_the_blocks_take_over(
    db: Session,
) -> None:
    """A bulk batch reserves its rows' serials in one statement (``serials.reserve_for``),
    committed before it books: they are given out in order to that session only, a block held
    by the process gets none of them, and a rollback does not give them back."""
    engine = db.get_bind().engine
    before = serials.SerialBlocks(block=1).take(engine, "ZZ")
    serials.reserve_for(db, "ZZ", 3)
    mine = [serials.take_reserved(db, "ZZ") for _ in range(4)]
    assert mine == [before + 1, before + 2, before + 3, None]  # then the blocks' turn
    db.rollback()
    assert serials.SerialBlocks(block=1).take(engine, "ZZ") == before + 4
    assert serials.take_reserved(db, "CP") is None  # another series: nothing set aside


def test_clerk_cannot_register_intake_for_another_office(db: Session) -> None:
    with pytest.raises(Forbidden):
        intake.create_parcel(
            db, intake.parse_booking(booking(origin_office="MIR")), user(db, "clerk.gpo")
        )


def test_merchant_must_name_an_intake_office(db: Session) -> None:
    for code in ("MOH", "MPC", "XYZ"):
        with pytest.raises(ValidationError) as e:
            intake.create_parcel(
                db, intake.parse_booking(booking(origin_office=code)), user(db, "merchant")
            )
        assert "origin_office" in e.value.errors


def test_planner_cannot_book(db: Session) -> None:
    with pytest.raises(Forbidden):
        intake.create_parcel(db, intake.parse_booking(booking()), user(db, "planner"))


def test_failed_booking_writes_nothing(db: Session) -> None:
    before = db.scalar(select(func.count()).select_from(Parcel))
    with pytest.raises(Forbidden):
        intake.create_parcel(
            db, intake.parse_booking(booking(origin_office="MIR")), user(db, "clerk.gpo")
        )
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Parcel)) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weight_g": 0}, "weight_g"),
        ({"weight_g": 999_999}, "weight_g"),
        ({"weight_g": "heavy"}, "weight_g"),
        ({"weight_g": 1.5}, "weight_g"),
        ({"weight_g": True}, "weight_g"),
        ({"cod_amount_poisha": 100_001}, "cod_amount_poisha"),
        ({"cod_amount_poisha": -5}, "cod_amount_poisha"),
        ({"sender": {"name": "A", "phone": "12345", "address": "x"}}, "sender.phone"),
        (
            {
                "recipient": {
                    "name": "B",
                    "phone": "01812345678",
                    "address": "y",
                    "post_code": "9999",
                }
            },
            "recipient.post_code",
        ),
        ({"recipient": "nobody"}, "recipient"),
        ({"dimensions_mm": [10, 10]}, "dimensions_mm"),
        ({"dimensions_mm": [2000, 10, 10]}, "dimensions_mm"),
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"origin_office": 7}, "origin_office"),
        ({"merchant_reference": "x" * 65}, "merchant_reference"),
    ],
)
def test_bad_fields_are_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        intake.parse_booking(booking(**change))
    assert field in e.value.errors, e.value.errors


def test_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError) as e:
        intake.parse_booking(["not", "an", "object"])
    assert "body" in e.value.errors


def test_bangla_digits_in_weight_are_accepted() -> None:
    assert intake.parse_booking(booking(weight_g="১২০০")).weight_g == 1200


def test_visibility_by_role(db: Session) -> None:
    p = intake.create_parcel(db, intake.parse_booking(booking()), user(db, "merchant"))
    assert intake.can_see(user(db, "merchant"), p)
    assert intake.can_see(user(db, "clerk.gpo"), p)  # origin office
    assert intake.can_see(user(db, "clerk.mohammadpur"), p)  # destination office
    assert intake.can_see(user(db, "clerk.mirpur"), p)  # booked: any intake counter may take it
    accepted = intake.create_parcel(db, intake.parse_booking(booking()), user(db, "clerk.gpo"))
    assert not intake.can_see(user(db, "clerk.mirpur"), accepted)
    assert not intake.can_see(user(db, "merchant"), accepted)
    other = accounts.create_user(
        db,
        username="other.shop",
        password="password-1",
        role=Role.MERCHANT,
        merchant=_other_merchant(db),
    )
    assert not intake.can_see(other, p)


def _other_merchant(db: Session):  # type: ignore[no-untyped-def]
    from logistics.models import Merchant

    m = Merchant(
        ecab_member_id="ECAB-OTHER", name="Other Shop", phone="+8801911000000", address="x"
    )
    db.add(m)
    db.flush()
    return m


def test_a_booking_in_progress_holds_up_no_other_on_postgresql(db: Session, engine: Engine) -> None:
    """A booking written but not yet committed leaves the S10 series unlocked: another booking
    commits meanwhile (with the serial taken in the booking's transaction it waited for the
    first one's commit, and here would fail its lock timeout)."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite locks the whole database from a transaction's first write")
    first = intake.create_parcel(db, intake.parse_booking(booking()), user(db, "clerk.gpo"))
    db.flush()
    with make_sessionmaker(engine)() as other:
        other.execute(text("SET LOCAL lock_timeout = '2s'"))
        clerk = user(other, "clerk.gpo")
        second = intake.create_parcel(other, intake.parse_booking(booking()), clerk)
        other.commit()
        second_id = second.tracking_id
    db.commit()
    assert first.tracking_id != second_id


def test_a_booking_reads_everything_before_its_first_write(db: Session) -> None:
    """From a booking's first write to its commit SQLite locks the database: a booking makes
    its reads first (its serial comes from its process's block, written in a transaction of
    its own), and what they found is what it writes with."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy import event

    from logistics.models import (
        Customer,
        DeliveryPreference,
        Notification,
        SmsContact,
        WebhookDelivery,
        WebhookEndpoint,
    )

    merchant = user(db, "merchant")
    number = "+8801812345678"
    db.add(SmsContact(msisdn=number, lang="en"))
    db.add(
        Customer(
            msisdn=number,
            name="Karim",
            address="House 23, Road 11",
            post_code="1207",
            lat=Decimal("23.7650"),
            lon=Decimal("90.3580"),
            verified_at=datetime.now(UTC),
        )
    )
    db.add(
        WebhookEndpoint(
            merchant_id=merchant.merchant_id,
            url="https://shop.example/hooks",
            secret="whsec_test",
            events="parcel.booked",
        )
    )
    intake.create_parcel(db, intake.parse_booking(booking()), merchant)  # the series exists
    db.commit()
    said: list[str] = []
    offices: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        said.append(statement.lstrip().split(None, 1)[0].upper())
        if "FROM offices" in statement:
            offices.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        p = intake.create_parcel(db, intake.parse_booking(booking()), merchant)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    first_write = next(i for i, verb in enumerate(said) if verb != "SELECT")
    assert "SELECT" in said[:first_write]
    assert set(said[first_write:]) <= {"UPDATE", "INSERT"}, said[first_write:]
    # The offices are read once: the origin named by its code with the delivery offices, among
    # which the destination is found (it is not loaded again).
    assert len(offices) == 1, offices
    assert p.origin_office.code == booking()["origin_office"] and p.origin_office.takes_parcels
    assert p.destination_office.is_delivery and p.destination_office.active
    # What was read ahead was used: the message in the contact's language, the pin, the hook.
    message = db.scalar(select(Notification).where(Notification.parcel_id == p.id))
    assert message is not None and message.lang == "en"
    assert db.scalar(select(DeliveryPreference).where(DeliveryPreference.parcel_id == p.id))
    assert db.scalar(select(func.count()).select_from(WebhookDelivery)) == 2
    db.commit()


def test_a_booking_writes_its_parcel_and_first_event_as_loaded_rows(db: Session) -> None:
    """The parcel and its first event are written with one INSERT each (db.write_new, not the
    unit of work) and come back as if loaded: nothing pending or expired, the event in the
    parcel's events, and the same values when read afresh."""
    from sqlalchemy import inspect

    clerk = user(db, "clerk.gpo")
    p = intake.create_parcel(db, intake.parse_booking(booking(cod_amount_poisha=45500)), clerk)
    assert not db.new and not db.dirty
    for obj in (p, p.events[0]):
        state = inspect(obj)
        assert state.persistent and not state.expired_attributes
    assert [e.code for e in p.events] == ["EMA"] and p.events[0].parcel_id == p.id
    assert p.origin_office_id == p.origin_office.id and p.created_at is not None
    db.commit()
    seen = {c.key: getattr(p, c.key) for c in inspect(Parcel).column_attrs}
    db.expire_all()
    again = db.get(Parcel, p.id)
    assert again is not None
    assert {c.key: getattr(again, c.key) for c in inspect(Parcel).column_attrs} == seen
    assert [e.code for e in again.events] == ["EMA"]


def test_an_event_at_an_office_not_yet_written_writes_the_office_first(db: Session) -> None:
    """db.write_new takes a many-to-one's key from the object it was given; one that is new
    itself is written first, so the key is never left empty."""
    from sqlalchemy import inspect

    from logistics.models import Office, TrackingEvent
    from logistics.services import tracking

    clerk = user(db, "clerk.gpo")
    p = intake.create_parcel(db, intake.parse_booking(booking()), clerk)
    gpo = db.scalar(select(Office).where(Office.code == "GPO"))
    assert gpo is not None
    fresh = Office(
        **{
            c.key: getattr(gpo, c.key)
            for c in inspect(Office).column_attrs
            if c.key not in ("id", "code", "source_id")
        },
        code="NEW1",
        source_id="test-new-office",
    )
    ev = tracking.record_event(db, p, "EMC", office=fresh)
    assert fresh.id is not None and ev.office_id == fresh.id
    db.commit()
    db.expire_all()
    written = db.get(TrackingEvent, ev.id)
    assert written is not None and written.office is not None and written.office.code == "NEW1"
    db.delete(written)  # the suite's reset keeps the seeded network's offices only
    db.delete(written.office)
    db.commit()


def test_reads_ahead_nest_and_end_with_their_block(db: Session) -> None:
    """A bulk job reads the delivery offices ahead for all its rows, and each booking inside
    it reads its own ahead: the inner block sees both, and leaves the outer one as it was."""
    from logistics.db import ahead, reading_ahead

    def again() -> str:
        return "read again"

    with reading_ahead(db, {"offices": "ahead"}):
        with reading_ahead(db, {"contact": "ahead"}):
            assert ahead(db, "offices", again) == ahead(db, "contact", again) == "ahead"
        assert ahead(db, "offices", again) == "ahead"
        assert ahead(db, "contact", again) == "read again"
    assert ahead(db, "offices", again) == "read again"


def test_a_booked_parcel_in_memory_is_the_parcel_stored(db: Session) -> None:
    """The parcel and its first event are built for write_new without the ORM's attribute
    events (db.new_object): what the booking holds in memory, columns and offices, is what the
    database holds, read back after everything is forgotten."""
    merchant = db.scalar(select(User).where(User.username == "merchant"))
    assert merchant is not None
    req = intake.parse_booking(booking(merchant_reference="MEM-1", cod_amount_poisha=45000))
    parcel = intake.create_parcel(db, req, merchant)
    db.commit()
    columns = [c.key for c in Parcel.__table__.columns]
    held = {k: getattr(parcel, k) for k in columns}
    offices = (parcel.origin_office.code, parcel.destination_office.code, parcel.merchant_id)
    events = [(e.id, e.code, e.office_id, e.parcel_id) for e in parcel.events]
    db.expunge_all()
    stored = db.get(Parcel, parcel.id)
    assert stored is not None
    assert {k: getattr(stored, k) for k in columns} == held
    assert (stored.origin_office.code, stored.destination_office.code) == offices[:2]
    assert stored.merchant_id == offices[2] == merchant.merchant_id
    assert [(e.id, e.code, e.office_id, e.parcel_id) for e in stored.events] == events
    assert events[0][1] == "BKD" and events[0][2] == stored.origin_office_id
