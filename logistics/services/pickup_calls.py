"""Merchants' pickups in the van plan: each pickup request of the plan's day becomes a call at
the merchant's door (a site of the routing problem at the pickup's post code area, open during
its intake office's hours) whose load the van hands in at that intake office later on the same
route. The parcels are not in the system yet (the counter accepts them when they arrive), so a
pickup's load is the merchant's estimate: how many parcels, and their weight.

Planned calls are stored as ``PlanPickup`` rows of the route; the intake office's list and the
merchant see the van and the expected time once the version is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from logistics.models import DayPlan, PickupRequest, PlanPickup, PlanRoute, PlanStatus
from logistics.services import network
from logistics.services.loads import Load
from logistics.text import row_id
from routing import modes

PREFIX = "PU"


def for_day(session: Session, day: date) -> list[PickupRequest]:
    """The pickups the vans are to make on ``day`` (drop-offs at a counter need no van)."""
    return list(
        session.scalars(
            select(PickupRequest)
            .where(
                PickupRequest.day == day,
                PickupRequest.kind == "pickup",
                PickupRequest.status == "requested",
            )
            .options(selectinload(PickupRequest.office))
            .order_by(PickupRequest.id)
        )
    )


def site_code(request_id: int) -> str:
    return f"{PREFIX}{request_id}"


def request_of(code: str) -> int | None:
    """The pickup request a routing site stands for, or None for an office."""
    return row_id(code[len(PREFIX) :]) if code.startswith(PREFIX) else None


def sites_and_loads(
    requests: Sequence[PickupRequest], max_parcels: int, max_g: int
) -> tuple[list[modes.Site], list[Load]]:
    """A site for each pickup and its loads (split where one van could not carry it all)."""
    area = network.service_area()
    sites: list[modes.Site] = []
    loads: list[Load] = []
    for r in requests:
        where = area.get(r.post_code)
        if where is None:  # a post code that left the service area since: the office fetches it
            continue
        code = site_code(r.id)
        sites.append(modes.Site(code, where.lat, where.lon, r.office.opens_at, r.office.closes_at))
        # as few loads as the largest van allows, split evenly by count and weight
        parts = max(1, -(-r.parcels // max_parcels), -(-r.weight_g // max_g))
        for k in range(parts):
            n = r.parcels // parts + (1 if k < r.parcels % parts else 0)
            g = r.weight_g // parts + (1 if k < r.weight_g % parts else 0)
            loads.append(Load(f"{code}#{k}", code, r.office.code, (), g, expected=n))
    return sites, loads


def planned(session: Session, request_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """For each request the day's published plan calls at: the van and when it is expected."""
    if not request_ids:
        return {}
    rows = session.execute(
        select(PlanPickup.request_id, PlanRoute, PlanPickup.arrives_at)
        .join(PlanRoute, PlanRoute.id == PlanPickup.route_id)
        .join(DayPlan, DayPlan.id == PlanRoute.plan_id)
        .where(PlanPickup.request_id.in_(request_ids), DayPlan.status == PlanStatus.PUBLISHED)
        .options(selectinload(PlanRoute.van))
        .order_by(PlanPickup.arrives_at)
    ).all()
    out: dict[int, tuple[str, datetime]] = {}
    for request_id, route, at in rows:
        out.setdefault(request_id, (route.van.registration, at))
    return out


def sequence(route: PlanRoute) -> list[tuple[str, Any]]:
    """A route's calls in the order the van makes them: ("stop", PlanStop) at offices and
    ("door", PlanPickup) at merchants' doors."""
    doors = sorted(route.pickups, key=lambda c: (c.after_seq, c.arrives_at))
    out: list[tuple[str, Any]] = []
    k = 0
    for stop in route.stops:
        while k < len(doors) and doors[k].after_seq <= stop.seq:
            out.append(("door", doors[k]))
            k += 1
        out.append(("stop", stop))
    out += [("door", d) for d in doors[k:]]
    return out


def door(call: PlanPickup) -> tuple[float, float]:
    """Where the van heads for a pickup: its post code's area (the address is on the call)."""
    area = network.service_area()[call.request.post_code]
    return float(area.lat), float(area.lon)
