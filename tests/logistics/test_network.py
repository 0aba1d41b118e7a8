"""The seeded Dhaka network and the post code -> delivery office rule."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.errors import ValidationError
from logistics.models import Office, OfficeKind, Van
from logistics.services import network


def test_seed_has_11_intake_21_delivery_1_hub_and_18_vans(db: Session) -> None:
    counts = dict(db.execute(select(Office.kind, func.count()).group_by(Office.kind)).all())
    assert counts == {OfficeKind.INTAKE: 11, OfficeKind.DELIVERY: 21, OfficeKind.HUB: 1}
    assert db.scalar(select(func.count()).select_from(Van)) == 18


def test_one_office_per_distinct_coordinate(db: Session) -> None:
    points = db.execute(select(Office.lat, Office.lon)).all()
    assert len(points) == len(set(points)) == 33


def test_seeding_twice_adds_nothing(db: Session) -> None:
    assert network.seed_network(db) == {"offices": 0, "vans": 0}


def test_seed_file_keeps_the_source_columns() -> None:
    row = network.office_rows()[0]
    for col in (
        "office_id",
        "name_en",
        "name_bn",
        "post_code",
        "lat",
        "lon",
        "coord_source",
        "coord_citation",
        "name_source",
    ):
        assert col in row


@pytest.mark.parametrize(
    ("post_code", "office"),
    [
        ("1207", "MOH"),  # a delivery office's own post code
        ("১২০৭", "MOH"),  # typed in Bangla digits
        ("1341", "SAV"),  # Dairy Farm shares Savar's point
        ("1311", "KER"),  # Dhaka Jute Mills -> Keraniganj
        ("1420", "NGJ"),  # Fatullah -> Narayanganj
        ("1216", "MOH"),  # Mirpur is an intake office; the nearest delivery office serves it
        ("1223", "DIL"),
    ],
)
def test_delivery_office_for_post_code(db: Session, post_code: str, office: str) -> None:
    assert network.delivery_office_for(db, post_code).code == office


@pytest.mark.parametrize(
    ("post_code", "fragment"),
    [
        ("4000", "outside the DakGhor service area"),
        ("12", "not a Bangladesh post code"),
        ("", "required"),
        ("abcd", "not a Bangladesh post code"),
    ],
)
def test_unserved_post_codes_are_refused(db: Session, post_code: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as e:
        network.delivery_office_for(db, post_code, "recipient.post_code")
    assert fragment in e.value.errors["recipient.post_code"]
