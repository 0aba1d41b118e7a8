"""Tracking events: one table of allowed moves, and a public view without personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import Conflict, NotFound, ValidationError
from logistics.models import ParcelStatus, User
from logistics.services import intake, tracking
from tests.conftest import booking


def _parcel(db: Session):  # type: ignore[no-untyped-def]
    clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
    assert clerk is not None
    return intake.create_parcel(db, intake.parse_booking(booking()), clerk)


def test_a_delivery_walks_through_the_statuses(db: Session) -> None:
    p = _parcel(db)
    for code, status in [
        ("EMC", ParcelStatus.IN_TRANSIT),
        ("EMG", ParcelStatus.AT_DELIVERY_OFFICE),
        ("OFD", ParcelStatus.OUT_FOR_DELIVERY),
        ("EMH", ParcelStatus.DELIVERY_FAILED),
        ("OFD", ParcelStatus.OUT_FOR_DELIVERY),
        ("EMI", ParcelStatus.DELIVERED),
    ]:
        tracking.record_event(db, p, code, office=p.destination_office)
        assert p.status is status
    assert [e.code for e in p.events] == ["EMA", "EMC", "EMG", "OFD", "EMH", "OFD", "EMI"]


@pytest.mark.parametrize("code", ["EMI", "BKD", "OFD", "RTS"])
def test_illegal_moves_are_refused(db: Session, code: str) -> None:
    p = _parcel(db)
    with pytest.raises(Conflict):
        tracking.record_event(db, p, code)
    assert p.status is ParcelStatus.ACCEPTED


def test_unknown_event_code_is_refused(db: Session) -> None:
    with pytest.raises(Conflict):
        tracking.record_event(db, _parcel(db), "ZZZ")


def test_find_parcel_tells_malformed_from_unknown(db: Session) -> None:
    with pytest.raises(ValidationError):
        tracking.find_parcel(db, "CP123456784BD")
    with pytest.raises(NotFound):
        tracking.find_parcel(db, "CP123456785BD")


def test_public_view_hides_names_phones_and_addresses(db: Session) -> None:
    p = _parcel(db)
    db.commit()
    text = repr(tracking.public_view(tracking.find_parcel(db, p.tracking_id)))
    for secret in ("করিম", "01812345678", "8801812345678", "মোহাম্মদপুর, ঢাকা", "Demo Bazar"):
        assert secret not in text
    assert "Accepted at the counter" in text and "কাউন্টারে গৃহীত" in text
