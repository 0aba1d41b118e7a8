"""Dhaka's areas (``logistics/data/dhaka_areas.csv``, built by ``logistics.data.build_areas``
with attribution in ``dhaka_areas.NOTICE``): city wards and unions, and named roads grouped by
thana, each with a point. A recipient's address is placed, most precise first, at the pin the
recipient set, else the area chosen for it (by the merchant when booking, or by the recipient on
the tracking page), else its post code's point.

An area belongs to the active delivery office nearest its point, worked out when asked, so
retiring an office moves its areas to its neighbours; the list per office is what a booking's
area is checked against.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from logistics.errors import ValidationError
from logistics.i18n import Num, _l, current
from logistics.models import Office
from logistics.services.network import haversine_m

REACH_M = 10_000  # as far from its office as a recipient's pin may be (recipient.PIN_RADIUS_M)


@dataclass(frozen=True)
class Area:
    code: str
    kind: str  # ward | road
    name_en: str
    name_bn: str
    thana_en: str
    thana_bn: str
    lat: float
    lon: float
    source: str  # hdx | osm

    def thana_label(self, lang: str | None = None) -> str:
        return self.thana_bn if (lang or current()) == "bn" else self.thana_en

    def label(self, lang: str | None = None) -> str:
        """'Satmasjid Road, Mohammadpur' in the language asked (else the page's)."""
        bn = (lang or current()) == "bn"
        name = self.name_bn if bn else self.name_en
        thana = self.thana_bn if bn else self.thana_en
        return name if name == thana else f"{name}, {thana}"


@lru_cache(maxsize=1)
def all_areas() -> dict[str, Area]:
    text = resources.files("logistics").joinpath("data/dhaka_areas.csv").read_text("utf-8")
    out = {}
    for r in csv.DictReader(text.splitlines()):
        out[r["code"]] = Area(
            r["code"],
            r["kind"],
            r["name_en"],
            r["name_bn"],
            r["thana_en"],
            r["thana_bn"],
            float(r["lat"]),
            float(r["lon"]),
            r["source"],
        )
    return out


def get(code: str | None) -> Area | None:
    return all_areas().get((code or "").strip().upper()) if code else None


@lru_cache(maxsize=4)
def _by_office(offices: tuple[tuple[int, float, float], ...]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {oid: [] for oid, _, _ in offices}
    for a in all_areas().values():
        oid = min(offices, key=lambda o: (haversine_m(a.lat, a.lon, o[1], o[2]), o[0]))[0]
        out[oid].append(a.code)
    return {k: tuple(v) for k, v in out.items()}


def _delivery_offices(session: Session) -> tuple[tuple[int, float, float], ...]:
    return tuple(
        (o.id, float(o.lat), float(o.lon))
        for o in session.scalars(
            select(Office).where(Office.is_delivery, Office.active).order_by(Office.id)
        )
    )


def of_office(session: Session, office: Office) -> list[Area]:
    """The areas an office delivers to, wards first, then roads, each by name."""
    codes = _by_office(_delivery_offices(session)).get(office.id, ())
    found = [all_areas()[c] for c in codes]
    return sorted(found, key=lambda a: (a.kind != "ward", a.thana_en, a.name_en))


def check(session: Session, raw: str | None, office: Office, field: str) -> str | None:
    """The area code for a parcel delivered by ``office``, or None when none is given. An
    unknown code is refused naming ``field``, as is an area farther from the office than a pin
    may be (the office's own list is its nearest areas; a neighbour's, within reach, is taken)."""
    if raw is None or not str(raw).strip():
        return None
    area = get(str(raw))
    if area is None:
        raise ValidationError(
            {field: _l("There is no area with this code; choose one from the list.")}
        )
    far = haversine_m(area.lat, area.lon, float(office.lat), float(office.lon))
    if far > REACH_M:
        raise ValidationError(
            {
                field: _l(
                    "%(area)s is %(km)s km from the office that delivers this parcel; check the "
                    "post code or the area.",
                    area=area.label(),
                    km=Num(round(far / 1000)),
                )
            }
        )
    return area.code
