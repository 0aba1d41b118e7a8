"""The seeded Dhaka network and the post code -> delivery office rule."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.errors import ValidationError
from logistics.models import Office, Van
from logistics.services import network

CITY_LIST = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "dhaka_city_post_offices.csv"
)


def city_list() -> dict[str, dict[str, str]]:
    """The sourced list of the 26 offices inside Dhaka city, by post code."""
    path = CITY_LIST if CITY_LIST.exists() else None
    if path is None:  # a clone without ../shared: the data file keeps the same source columns
        return {r["post_code"]: r for r in network.office_rows() if r["post_code"]}
    with path.open(encoding="utf-8") as f:
        return {r["post_code"]: r for r in csv.DictReader(f)}


def test_seed_has_21_delivery_11_intake_1_hub_all_active_and_18_vans(db: Session) -> None:
    offices = list(db.scalars(select(Office)))
    assert sum(o.delivers for o in offices) == 21
    assert sum(o.takes_parcels for o in offices) == 11
    assert [o.code for o in offices if o.is_hub] == ["MPC"]
    assert all(o.active for o in offices)
    assert db.scalar(select(func.count()).select_from(Van)) == 18
    assert {v.home_office.code for v in db.scalars(select(Van))} == {"MPC"}


def test_every_office_but_the_hub_is_from_the_city_list(db: Session) -> None:
    city = city_list()
    for o in db.scalars(select(Office).where(Office.is_hub.is_(False))):
        assert o.post_code in city, o
        row = city[o.post_code]
        assert (float(o.lat), float(o.lon)) == (float(row["lat"]), float(row["lon"]))
        assert o.zone == "city" and o.role_note


def test_offices_that_accept_and_deliver(db: Session) -> None:
    both = {o.code for o in db.scalars(select(Office)) if o.delivers and o.takes_parcels}
    assert {"GPO", "NMK", "MIR", "GUL", "BAN", "UTT"} <= both
    assert len(both) == 9  # 21 + 11 - 9 = 23 offices, plus the hub


def test_one_office_per_distinct_coordinate(db: Session) -> None:
    points = db.execute(select(Office.lat, Office.lon)).all()
    assert len(points) == len(set(points)) == 24


def test_seeding_twice_adds_nothing(db: Session) -> None:
    assert network.seed_network(db) == {"offices": 0, "vans": 0}


def test_seed_file_keeps_the_source_columns_and_says_why_each_role() -> None:
    for row in network.office_rows():
        for col in (
            "office_id",
            "name_en",
            "name_bn",
            "post_code",
            "lat",
            "lon",
            "coord_source",
            "qc_note",
            "source_name_en",
            "role_reason",
        ):
            assert col in row
        assert row["role_reason"], row["code"]
    assert {r["post_code"] for r in network.office_rows() if r["post_code"]} == set(city_list())


def test_every_city_post_code_maps_to_its_own_or_the_nearest_active_delivery_office(
    db: Session,
) -> None:
    delivering = [o for o in db.scalars(select(Office)) if o.delivers]
    for pc, area in network.service_area().items():
        office = network.delivery_office_for(db, pc)
        assert office.delivers
        own = [o for o in delivering if o.post_code == pc]
        if own:
            assert office is own[0]
        else:
            dist = {
                o.code: network.haversine_m(area.lat, area.lon, float(o.lat), float(o.lon))
                for o in delivering
            }
            assert dist[office.code] == min(dist.values()), pc


@pytest.mark.parametrize(
    ("post_code", "office"),
    [
        ("1207", "MOH"),  # a delivery office's own post code
        ("১২০৭", "MOH"),  # typed in Bangla digits
        ("1216", "MIR"),  # Mirpur both accepts and delivers
        ("1223", "GPO"),  # Dilkusha only accepts; the GPO, 0.57 km away, delivers
        ("1222", "SHN"),  # Bangabhaban has no role; Shantinagar, 0.45 km away
        ("1100", "WAR"),  # Sadar HO accepts; Wari delivers
        ("1361", "DEM"),  # Sarulia -> Demra
        ("1362", "MTL"),  # Matuail, new in the city network
    ],
)
def test_delivery_office_for_post_code(db: Session, post_code: str, office: str) -> None:
    assert network.delivery_office_for(db, post_code).code == office


@pytest.mark.parametrize(
    ("post_code", "fragment"),
    [
        ("4000", "outside the DakGhor service area"),
        ("1340", "outside the DakGhor service area"),  # Savar: no longer served
        ("1400", "outside the DakGhor service area"),  # Narayanganj
        ("1710", "outside the DakGhor service area"),  # Monnunagar
        ("12", "not a Bangladesh post code"),
        ("", "required"),
        ("abcd", "not a Bangladesh post code"),
    ],
)
def test_unserved_post_codes_are_refused(db: Session, post_code: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as e:
        network.delivery_office_for(db, post_code, "recipient.post_code")
    assert fragment in e.value.errors["recipient.post_code"]
