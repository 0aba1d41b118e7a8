"""The three ways DakGhor plans a day, as Problems built from plain data:

(a) ``van_day``: vans pick up at the 11 intake offices and deliver to the 21 delivery offices
    (one shipment per office pair, split when larger than a van);
(b) ``hub_and_spoke``: collection runs from the intake offices to the hub, then delivery runs
    from the hub (with reloads), for comparison with (a) on the same day;
(c) ``last_mile``: rounds from one delivery office to homes with customer time windows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from routing.matrix import CrowFlyProvider, MatrixProvider, dhaka_profile, hhmm
from routing.model import (
    Break,
    Location,
    Problem,
    Service,
    Shipment,
    Stop,
    TimeWindow,
    TravelProfile,
    Vehicle,
)

DIMENSIONS = ("grams", "parcels")


@dataclass(frozen=True)
class Site:
    id: str
    lat: float
    lon: float
    opens: str = "09:00"
    closes: str = "17:00"

    @property
    def window(self) -> TimeWindow:
        return TimeWindow(hhmm(self.opens), hhmm(self.closes))


@dataclass(frozen=True)
class Van:
    id: str
    capacity_g: int
    capacity_parcels: int
    shift: tuple[str, str] | None = None  # its own hours ("HH:MM", "HH:MM"), else the day's


@dataclass(frozen=True)
class Consignment:
    """Parcels from one intake office to one delivery office.

    Without a ``ref``, consignments of one office pair are merged and split evenly into loads
    no larger than a van. With a ``ref`` the caller has packed the load itself (it knows which
    parcels ride together): it becomes one shipment whose id is the ref, and must fit a van.
    """

    origin: str
    destination: str
    weight_g: int
    parcels: int
    ref: str = ""


@dataclass(frozen=True)
class Home:
    id: str
    lat: float
    lon: float
    window: tuple[str, str]
    weight_g: int
    parcels: int = 1


@dataclass(frozen=True)
class DayParams:
    shift: tuple[str, str] = ("08:30", "17:30")
    lunch: tuple[str, str, int] | None = ("13:00", "14:00", 1800)  # earliest, latest, seconds
    stop_s: int = 300  # parking, paperwork and scans at an office
    per_parcel_s: int = 6  # handling per parcel
    cost_per_km: int = 1000
    fixed_cost: int = 0


def _profile(provider: MatrixProvider) -> TravelProfile | None:
    return dhaka_profile()[1] if isinstance(provider, CrowFlyProvider) else None


def _distinct(sites: Sequence[Site]) -> list[Site]:
    """Each office once, in order: an office may both take parcels in and deliver them."""
    seen: dict[str, Site] = {}
    for s in sites:
        seen.setdefault(s.id, s)
    return list(seen.values())


def _split(parcels: int, weight_g: int, max_parcels: int, max_g: int) -> list[tuple[int, int]]:
    """Split a consignment into loads no larger than a van, weight spread evenly per parcel."""
    parts = max(-(-parcels // max_parcels), -(-weight_g // max_g), 1)
    out = []
    for k in range(parts):
        p = parcels // parts + (1 if k < parcels % parts else 0)
        w = weight_g // parts + (1 if k < weight_g % parts else 0)
        out.append((p, w))
    return out


def _vehicles(
    vans: Sequence[Van],
    start: int,
    params: DayParams,
    shift: tuple[str, str],
    reload: int | None = None,
    max_reloads: int = 0,
) -> tuple[Vehicle, ...]:
    brk: tuple[Break, ...] = ()
    if params.lunch:
        brk = (Break(hhmm(params.lunch[0]), hhmm(params.lunch[1]), params.lunch[2]),)
    return tuple(
        Vehicle(
            v.id,
            start,
            start,
            (v.capacity_g, v.capacity_parcels),
            TimeWindow(hhmm((v.shift or shift)[0]), hhmm((v.shift or shift)[1])),
            breaks=brk,
            fixed_cost=params.fixed_cost,
            cost_per_km=params.cost_per_km,
            reload_location=reload,
            max_reloads=max_reloads,
            reload_s=params.stop_s,
        )
        for v in vans
    )


def _problem(
    name: str,
    sites: Sequence[Site | Home],
    provider: MatrixProvider,
    vehicles: tuple[Vehicle, ...],
    services: tuple[Service, ...] = (),
    shipments: tuple[Shipment, ...] = (),
) -> Problem:
    locations = tuple(Location(s.id, s.lat, s.lon) for s in sites)
    dist, dur = provider.matrices(locations)
    return Problem(
        locations=locations,
        distance_m=dist,
        duration_s=dur,
        vehicles=vehicles,
        services=services,
        shipments=shipments,
        dimensions=DIMENSIONS,
        name=name,
        profile=_profile(provider),
    )


def van_day(
    hub: Site,
    intake: Sequence[Site],
    delivery: Sequence[Site],
    vans: Sequence[Van],
    consignments: Sequence[Consignment],
    params: DayParams | None = None,
    provider: MatrixProvider | None = None,
) -> Problem:
    """Mode (a): pickups at intake offices, deliveries at delivery offices, vans from the hub."""
    params = params or DayParams()
    provider = provider or CrowFlyProvider()
    sites = _distinct([hub, *intake, *delivery])
    index = {s.id: k for k, s in enumerate(sites)}
    by_id = {s.id: s for s in sites}
    pairs: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in consignments:
        if c.origin not in index or c.destination not in index:
            raise ValueError(f"consignment {c.origin}->{c.destination} names an unknown office")
        key = (c.origin, c.destination, c.ref)
        if c.ref and key in pairs:
            raise ValueError(f"consignment ref {c.ref!r} is used twice")
        pairs[key][0] += c.weight_g
        pairs[key][1] += c.parcels
    max_g = max(v.capacity_g for v in vans)
    max_p = max(v.capacity_parcels for v in vans)
    ships = []
    for (o, d, ref), (w, n) in sorted(pairs.items()):
        if ref and (n > max_p or w > max_g):
            raise ValueError(f"consignment {ref} ({n} parcels, {w} g) is larger than any van")
        loads = [(n, w)] if ref else _split(n, w, max_p, max_g)
        for k, (p, g) in enumerate(loads):
            handle = params.stop_s // 2 + params.per_parcel_s * p
            ships.append(
                Shipment(
                    ref or f"{o}>{d}#{k}",
                    Stop(index[o], handle, by_id[o].window),
                    Stop(index[d], handle, by_id[d].window),
                    (g, p),
                    penalty=10_000_000 + 100_000 * p,
                )
            )
    return _problem(
        "van-day",
        sites,
        provider,
        vehicles=_vehicles(vans, 0, params, params.shift),
        shipments=tuple(ships),
    )


def hub_and_spoke(
    hub: Site,
    intake: Sequence[Site],
    delivery: Sequence[Site],
    vans: Sequence[Van],
    consignments: Sequence[Consignment],
    params: DayParams | None = None,
    provider: MatrixProvider | None = None,
    sort_s: int = 3600,
    split_at: str = "12:30",
) -> tuple[Problem, Problem]:
    """Mode (b): a collection problem (intake offices -> hub, morning) and a delivery problem
    (hub -> delivery offices, after ``sort_s`` of sorting at the hub, with reloads)."""
    params = params or DayParams()
    provider = provider or CrowFlyProvider()
    sites = _distinct([hub, *intake, *delivery])
    index = {s.id: k for k, s in enumerate(sites)}
    by_id = {s.id: s for s in sites}
    max_g = max(v.capacity_g for v in vans)
    max_p = max(v.capacity_parcels for v in vans)
    inbound: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    outbound: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in consignments:
        inbound[c.origin][0] += c.weight_g
        inbound[c.origin][1] += c.parcels
        outbound[c.destination][0] += c.weight_g
        outbound[c.destination][1] += c.parcels
    hub_stop = Stop(0, params.stop_s, None)
    collect = []
    for o, (w, n) in sorted(inbound.items()):
        for k, (p, g) in enumerate(_split(n, w, max_p, max_g)):
            collect.append(
                Shipment(
                    f"{o}>HUB#{k}",
                    Stop(index[o], params.stop_s // 2 + params.per_parcel_s * p, by_id[o].window),
                    hub_stop,
                    (g, p),
                    penalty=10_000_000 + 100_000 * p,
                )
            )
    deliver = []
    for d, (w, n) in sorted(outbound.items()):
        for k, (p, g) in enumerate(_split(n, w, max_p, max_g)):
            deliver.append(
                Service(
                    f"HUB>{d}#{k}",
                    Stop(index[d], params.stop_s // 2 + params.per_parcel_s * p, by_id[d].window),
                    (g, p),
                    penalty=10_000_000 + 100_000 * p,
                )
            )
    morning = (params.shift[0], split_at)
    after_sort = hhmm(split_at) + sort_s
    afternoon = (f"{after_sort // 3600:02d}:{after_sort % 3600 // 60:02d}", params.shift[1])
    no_lunch = DayParams(**{**params.__dict__, "lunch": None})
    p1 = _problem(
        "hub-collection",
        sites,
        provider,
        vehicles=_vehicles(vans, 0, no_lunch, morning),
        shipments=tuple(collect),
    )
    p2 = _problem(
        "hub-delivery",
        sites,
        provider,
        vehicles=_vehicles(vans, 0, no_lunch, afternoon, reload=0, max_reloads=3),
        services=tuple(deliver),
    )
    return p1, p2


# How rounds are solved (with routing.solver's SolveOptions): a round's break is taken where a
# postman waits for a window to open, so the search leaves it off the windows (docs/routing.md,
# "Breaks"; bench/bench_dhaka.py's last mile: 293-298 of 300 homes against 279 with the break
# off every window after 13:00).
ROUND_BREAKS = "hopeful"  # SolveOptions.breaks for rounds


def last_mile(
    office: Site,
    homes: Sequence[Home],
    vans: Sequence[Van],
    params: DayParams | None = None,
    provider: MatrixProvider | None = None,
    max_reloads: int = 2,
) -> Problem:
    """Mode (c): rounds from one delivery office to homes, customer windows, reloads at the office."""
    params = params or DayParams(stop_s=120, per_parcel_s=30)
    provider = provider or CrowFlyProvider()
    sites: list[Site | Home] = [office, *homes]
    services = tuple(
        Service(
            h.id,
            Stop(
                k + 1,
                params.stop_s + params.per_parcel_s * h.parcels,
                TimeWindow(hhmm(h.window[0]), hhmm(h.window[1])),
            ),
            (h.weight_g, h.parcels),
            penalty=1_000_000,
        )
        for k, h in enumerate(homes)
    )
    return _problem(
        f"last-mile-{office.id}",
        sites,
        provider,
        vehicles=_vehicles(vans, 0, params, params.shift, reload=0, max_reloads=max_reloads),
        services=services,
    )
