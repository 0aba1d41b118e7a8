"""The Dhaka network: seeding offices and vans from the project's data files, and choosing
the delivery office that serves a recipient's post code.

The service area is Dhaka city: the 26 post codes of logistics/data/dhaka_offices.csv (from
shared/reference/dhaka_city_post_offices.csv). Each is served by the active delivery office with
that post code, else by the nearest active delivery office to the post code's point."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from logistics.db import ahead, is_read_ahead
from logistics.errors import ValidationError
from logistics.i18n import _l
from logistics.models import Office, OfficeKind, Van
from logistics.rows import as_loaded, columns_of, session_rows
from logistics.text import ascii_digits, is_digits


@dataclass(frozen=True)
class PostCodeArea:
    """A post code of the service area and the point its office stands for."""

    post_code: str
    name_en: str
    name_bn: str
    lat: float
    lon: float


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("logistics").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def office_rows() -> tuple[dict[str, str], ...]:
    return tuple(_read_csv("dhaka_offices.csv"))


@lru_cache(maxsize=1)
def service_area() -> dict[str, PostCodeArea]:
    """Every city post code in the data file is served, whether or not its office has a role."""
    return {
        r["post_code"]: PostCodeArea(
            r["post_code"], r["name_en"], r["name_bn"], float(r["lat"]), float(r["lon"])
        )
        for r in office_rows()
        if r["post_code"]
    }


def roles_of(row: dict[str, str]) -> set[OfficeKind]:
    return {OfficeKind(r) for r in row["roles"].split()}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def seed_network(session: Session) -> dict[str, int]:
    """Insert the offices and vans that are missing; existing rows are left alone (idempotent)."""
    known = set(session.scalars(select(Office.source_id)))
    added_offices = 0
    for r in office_rows():
        roles = roles_of(r)
        if not roles or r["office_id"] in known:
            continue
        session.add(
            Office(
                code=r["code"],
                is_intake=OfficeKind.INTAKE in roles,
                is_delivery=OfficeKind.DELIVERY in roles,
                is_hub=OfficeKind.HUB in roles,
                active=True,
                role_note=r["role_reason"],
                source_id=r["office_id"],
                name_en=r["name_en"],
                name_bn=r["name_bn"],
                office_type=r["office_type"],
                post_code=r["post_code"] or None,
                thana_en=r["thana_area_en"],
                thana_bn=r["thana_area_bn"],
                district=r["district"],
                zone=r["zone"],
                lat=Decimal(r["lat"]),
                lon=Decimal(r["lon"]),
                coord_source=r["coord_source"],
                opens_at=r["opens_at"],
                closes_at=r["closes_at"],
                open_days=r["open_days"],
                notes=r["qc_note"],
            )
        )
        added_offices += 1
    session.flush()
    by_code = {o.code: o for o in session.scalars(select(Office))}
    known_vans = set(session.scalars(select(Van.registration)))
    added_vans = 0
    for v in _read_csv("vans.csv"):
        if v["registration"] in known_vans:
            continue
        session.add(
            Van(
                registration=v["registration"],
                model=v["model"],
                capacity_kg=int(v["capacity_kg"]),
                capacity_parcels=int(v["capacity_parcels"]),
                home_office=by_code[v["home_office"]],
            )
        )
        added_vans += 1
    session.flush()
    return {"offices": added_offices, "vans": added_vans}


def parse_post_code(raw: object, field: str = "post_code") -> str:
    """A served 4-digit post code (Bangla digits accepted), or ValidationError naming ``field``."""
    pc = ascii_digits(str(raw)).strip() if raw not in (None, "") else ""
    if not pc:
        raise ValidationError({field: _l("The recipient's post code is required.")})
    if not (len(pc) == 4 and is_digits(pc)):
        raise ValidationError(
            {field: _l("%(got)s is not a Bangladesh post code (4 digits).", got=str(raw))}
        )
    if pc not in service_area():
        raise ValidationError(
            {
                field: _l(
                    "Post code %(pc)s is outside the DakGhor service area (Dhaka city); "
                    "this parcel cannot be booked here.",
                    pc=pc,
                )
            }
        )
    return pc


def intake_offices(session: Session) -> list[Office]:
    """The active offices that take parcels, by code."""
    return [
        o
        for o in session.scalars(select(Office).where(Office.active).order_by(Office.code))
        if o.takes_parcels
    ]


def delivery_office_for(session: Session, post_code: str, field: str = "post_code") -> Office:
    """The active delivery office serving ``post_code``: the one with that code, else the
    nearest to the post code's point. Outside the service area: refused, naming the field."""
    pc = parse_post_code(post_code, field)
    area = service_area()[pc]
    # Plain rows, then the one office chosen made an object from its row: loading all of them
    # as objects cost a booking 0.3 ms, and loading the chosen one again a statement. A job
    # over many rows reads them once, as objects (``read_ahead``).
    offices = ahead(
        session, "delivery offices", lambda: session_rows(session, _DELIVERY_OFFICES, {})
    )
    if not offices:
        raise ValidationError({field: _l("No delivery offices are configured; seed the network.")})
    chosen = next((o for o in offices if o.post_code == pc), None) or min(
        offices,
        key=lambda o: (haversine_m(area.lat, area.lon, float(o.lat), float(o.lon)), o.code),
    )
    return chosen if isinstance(chosen, Office) else as_loaded(session, Office, chosen)


def read_ahead(session: Session) -> dict[Hashable, Any]:
    """The active delivery offices, for a job that finds many parcels theirs
    (``db.reading_ahead``): loaded as objects, which the rows' lookups then find in the
    session."""
    offices = session.scalars(
        select(Office).where(Office.is_delivery, Office.active).order_by(Office.code)
    )
    return {"delivery offices": list(offices)}


# Every column: the office chosen is made an object from its row (``rows.as_loaded``).
_DELIVERY_OFFICES = (
    select(*columns_of(Office)).where(Office.is_delivery, Office.active).order_by(Office.code)
)


def read_ahead_booking(session: Session, origin: str | None) -> dict[Hashable, Any]:
    """For one booking (``db.reading_ahead``): the active delivery offices and the office
    ``origin`` names, in one statement where they took two; nothing when they are read ahead
    already (a bulk batch's). An origin that is not an active office reads as None, as
    ``_origin_for`` would find it unable to take parcels."""
    wanted = ["delivery offices"] + ([("office", origin)] if origin else [])
    if all(is_read_ahead(session, key) for key in wanted):
        return {}
    rows = session_rows(session, _BOOKING_OFFICES, {"origin": origin or ""})
    found: dict[Hashable, Any] = {"delivery offices": [r for r in rows if r.is_delivery]}
    if origin:
        row = next((r for r in rows if r.code == origin), None)
        found[("office", origin)] = None if row is None else as_loaded(session, Office, row)
    return found


_BOOKING_OFFICES = (
    select(*columns_of(Office))
    .where(Office.active, or_(Office.is_delivery, Office.code == bindparam("origin")))
    .order_by(Office.code)
)
