"""The area gazetteer: the shipped file (wards and roads of the city, with their sources and
notice), how it is built, the areas each delivery office serves, an area given when booking or
chosen by the recipient, and the round planning placing a parcel at its area."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.data import build_areas
from logistics.errors import ValidationError
from logistics.models import Office, Parcel
from logistics.services import areas, recipient, round_plans
from tests.conftest import booking
from tests.logistics.test_rounds import arrived

DATA = Path(build_areas.__file__).parent


def test_the_shipped_gazetteer_covers_every_delivery_office_with_sourced_points(
    db: Session,
) -> None:
    found = areas.all_areas()
    kinds = {a.kind for a in found.values()}
    assert kinds == {"ward", "road"} and len(found) > 1000
    for a in found.values():
        assert 23.6 < a.lat < 23.95 and 90.25 < a.lon < 90.55, a
        assert a.source in {"hdx", "osm"} and a.name_en and a.thana_bn
    notice = (DATA / "dhaka_areas.NOTICE").read_text(encoding="utf-8")
    assert "OpenStreetMap contributors" in notice and "ODbL" in notice and "HDX" in notice
    offices = db.scalars(select(Office).where(Office.is_delivery, Office.active)).all()
    assert offices
    for o in offices:
        assert areas.of_office(db, o), f"{o.code} has no area"
    moh = db.scalar(select(Office).where(Office.code == "MOH"))
    assert moh is not None
    mine = areas.of_office(db, moh)
    assert any(a.kind == "ward" and a.thana_en == "Mohammadpur" for a in mine)
    ward = next(a for a in mine if a.kind == "ward" and a.name_en.startswith("Ward No-"))
    assert ward.label("bn").startswith("ওয়ার্ড নং ") and ward.label("en").startswith("Ward No-")


def _square(x: float, y: float, d: float) -> list[list[float]]:
    return [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]


def test_the_build_places_wards_at_their_centres_and_groups_roads_by_thana(
    tmp_path: Path,
) -> None:
    def ward(name: str, code: str, thana: str, district: str, ring: list[list[float]]) -> dict:
        return {
            "type": "Feature",
            "properties": {
                "ADM4_EN": name,
                "ADM4_PCODE": code,
                "ADM3_EN": thana,
                "ADM2_EN": district,
            },
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    def road(name: str, line: list[list[float]]) -> dict:
        return {
            "type": "Feature",
            "properties": {"name": name, "highway": "residential"},
            "geometry": {"type": "LineString", "coordinates": line},
        }

    wards = {
        "features": [
            ward("Ward No-42", "BD30264742", "Mohammadpur", "Dhaka", _square(90.35, 23.75, 0.02)),
            ward("Ward No-49", "BD30264749", "Dhanmondi", "Dhaka", _square(90.37, 23.73, 0.02)),
            ward("Amin Bazar", "BD30267201", "Savar", "Dhaka", _square(90.30, 23.78, 0.02)),
            ward("Elsewhere", "BD40000001", "Shailkupa", "Jhenaidah", _square(89.1, 23.5, 0.02)),
        ]
    }
    roads = {
        "features": [
            road("Road 27", [[90.371, 23.741], [90.375, 23.741]]),  # Dhanmondi, two segments
            road("Road 27", [[90.375, 23.741], [90.379, 23.741]]),
            road("Road 27", [[90.351, 23.755], [90.355, 23.755]]),  # and one in Mohammadpur
            road("সাত মসজিদ সড়ক", [[90.352, 23.752], [90.353, 23.758], [90.354, 23.760]]),
            road("Far Road", [[89.0, 22.0], [89.1, 22.0]]),  # in no city polygon
        ]
    }
    (tmp_path / "w.json").write_text(json.dumps(wards), encoding="utf-8")
    (tmp_path / "r.json").write_text(json.dumps(roads), encoding="utf-8")
    out = tmp_path / "areas.csv"
    assert (
        build_areas.main(
            [
                "--wards",
                str(tmp_path / "w.json"),
                "--roads",
                str(tmp_path / "r.json"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    import csv

    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    got = {(r["kind"], r["name_en"], r["thana_en"]): r for r in rows}
    assert set(got) == {
        ("ward", "Ward No-42", "Mohammadpur"),
        ("ward", "Ward No-49", "Dhanmondi"),
        ("road", "Road 27", "Dhanmondi"),
        ("road", "Road 27", "Mohammadpur"),
        ("road", "সাত মসজিদ সড়ক", "Mohammadpur"),
    }  # the rural upazila, the other district and the road outside are left out
    w = got[("ward", "Ward No-42", "Mohammadpur")]
    assert (float(w["lat"]), float(w["lon"])) == pytest.approx((23.76, 90.36))
    assert w["name_bn"] == "ওয়ার্ড নং ৪২" and w["thana_bn"] == "মোহাম্মদপুর"
    assert w["code"] == "W30264742" and w["source"] == "hdx"
    r = got[("road", "Road 27", "Dhanmondi")]
    assert r["lat"] == "23.741000" and float(r["lon"]) in (90.375, 90.371, 90.379)
    assert r["source"] == "osm" and r["code"].startswith("R")
    missing = build_areas.main(["--wards", str(tmp_path / "none.json"), "--out", str(out)])
    assert missing == 2


def test_a_booking_names_its_area_and_a_wrong_one_is_refused(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    listed = client.get("/api/v1/areas?post_code=1207").get_json()
    assert listed["areas"] and "OpenStreetMap" in listed["attribution"]
    office = listed["office"]
    code = listed["areas"][0]["code"]
    body = booking(recipient={**booking()["recipient"], "area": code.lower()})  # type: ignore[dict-item]
    resp = client.post("/api/v1/parcels", json=body, headers=merchant_headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["recipient"]["area"] == code
    assert resp.get_json()["destination_office"] == office
    for bad, words in (("NOPE", "no area"), (_far_area(db, office), "km from")):
        body = booking(recipient={**booking()["recipient"], "area": bad})  # type: ignore[dict-item]
        resp = client.post("/api/v1/parcels", json=body, headers=merchant_headers)
        assert resp.status_code == 422
        err = resp.get_json()["error"]
        assert err["field"] == "recipient.area" and words in err["message"], err
        # The quote (the same body) refuses it as the booking does, before any price.
        quote = client.post("/api/v1/quote", json=body, headers=merchant_headers)
        assert quote.status_code == 422, quote.get_json()
        assert quote.get_json()["error"]["field"] == "recipient.area"
    assert client.get("/api/v1/areas?post_code=9999").status_code == 422
    assert client.get("/api/v1/areas?office=NOPE").status_code == 422


def _far_area(db: Session, office_code: str) -> str:
    office = db.scalar(select(Office).where(Office.code == office_code))
    assert office is not None
    return max(
        areas.all_areas().values(),
        key=lambda a: (a.lat - float(office.lat)) ** 2 + (a.lon - float(office.lon)) ** 2,
    ).code


def test_the_recipient_chooses_an_area_and_the_rounds_are_planned_there(db: Session) -> None:
    (p,) = arrived(db, 1, phone="0181888")
    assert round_plans._point(p, None)[0] == "post_code"
    mine = areas.of_office(db, p.destination_office)[0]
    with pytest.raises(ValidationError) as bad:
        recipient.set_preferences(db, p, p.recipient_phone, {"area": "R0000000000"})
    assert "area" in bad.value.errors
    db.rollback()
    recipient.set_preferences(db, p, p.recipient_phone, {"area": mine.code})
    db.commit()
    got = db.get(Parcel, p.id)
    assert got is not None and got.recipient_area == mine.code
    assert round_plans._point(got, recipient.preference(db, p.id)) == ("area", mine.lat, mine.lon)
    # A pin is more precise than the area.
    recipient.set_preferences(
        db,
        p,
        p.recipient_phone,
        {"area": mine.code, "lat": f"{mine.lat:.6f}", "lon": f"{mine.lon:.6f}"},
    )
    assert round_plans._point(got, recipient.preference(db, p.id))[0] == "pin"


def test_the_office_lists_parcels_waiting_by_area(client: FlaskClient, db: Session) -> None:
    from tests.conftest import login

    (p, q) = arrived(db, 2, phone="0181889")
    mine = areas.of_office(db, p.destination_office)[0]
    q.recipient_area = mine.code
    db.commit()
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    here = client.get("/office?lang=en").text.split('id="here"')[1].split('id="postmen"')[0]
    assert mine.label("en") in here or mine.label("bn") in here
    assert here.index(q.tracking_id) < here.index(p.tracking_id)  # areas first, then post codes


@pytest.mark.parametrize(
    ("user", "password", "page", "extra"),
    [
        ("clerk.gpo", "clerk-demo-1", "/counter", {"payment_method": "cash"}),
        ("merchant", "merchant-demo-1", "/merchant/book", {"origin_office": "GPO"}),
    ],
)
def test_the_counter_and_the_shop_choose_the_area_once_the_price_names_the_office(
    client: FlaskClient, db: Session, user: str, password: str, page: str, extra: dict[str, str]
) -> None:
    """The counter's and the shop's booking forms list the delivering office's areas with the
    price (the post code decides the office), keep the one chosen, refuse one the office
    cannot reach next to the field, and book the parcel with it."""
    import re

    from tests.conftest import login
    from tests.logistics.test_counter import FORM

    login(client, user, password)
    form = {**FORM, **extra, "action": "quote"}
    before = client.get(page + "?lang=en").text
    assert 'name="recipient.area"' not in before  # no office yet, so no list
    quoted = client.post(page + "?lang=en", data=form)
    assert quoted.status_code == 200, quoted.text
    moh = db.scalar(select(Office).where(Office.code == "MOH"))
    assert moh is not None
    mine = areas.of_office(db, moh)
    listed = re.findall(r'<option value="([^"]+)"', quoted.text.split('id="recipient.area"')[1])
    assert set(listed) >= {a.code for a in mine}, "every area of Mohammadpur is listed"

    far = _far_area(db, "MOH")
    refused = client.post(page + "?lang=en", data={**form, "recipient.area": far})
    assert refused.status_code == 422
    field = refused.text.split('id="recipient.area"')[1].split("</div>\n      </div>")[0]
    assert 'id="recipient-area-error"' in field and "km from the office" in field  # by the list
    assert db.scalar(select(Parcel).where(Parcel.recipient_area.is_not(None))) is None

    chosen = mine[len(mine) // 2]
    again = client.post(page + "?lang=en", data={**form, "recipient.area": chosen.code.lower()})
    assert f'<option value="{chosen.code}" selected>' in again.text  # kept as chosen
    shown = re.search(r'name="quoted" value="([^"]+)"', again.text)
    assert shown is not None
    done = client.post(
        page,
        data={
            **form,
            "recipient.area": chosen.code,
            "action": "confirm",
            "quoted": shown.group(1),
            "once": re.search(r'name="once" value="([^"]+)"', again.text).group(1),  # type: ignore[union-attr]
        },
    )
    assert done.status_code == 302, done.text
    parcel = db.scalar(select(Parcel).where(Parcel.recipient_area == chosen.code))
    assert parcel is not None and parcel.destination_office.code == "MOH"
