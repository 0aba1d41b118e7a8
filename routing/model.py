"""The routing problem: frozen, validated data in integer units (metres, seconds, grams,
parcels, cost units). Build one with the constructors below or ``Problem.from_dict``."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from routing.errors import InvalidProblem

DAY_S = 24 * 3600


@dataclass(frozen=True)
class TimeWindow:
    start_s: int
    end_s: int

    def check(self, where: str) -> None:
        if self.end_s < self.start_s:
            raise InvalidProblem(
                where, f"window ends ({self.end_s}) before it starts ({self.start_s})"
            )
        if self.start_s < 0:
            raise InvalidProblem(where, "window starts before time 0")


@dataclass(frozen=True)
class Location:
    id: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Break:
    """A driver break of ``duration_s`` starting within [earliest_start_s, latest_start_s]."""

    earliest_start_s: int
    latest_start_s: int
    duration_s: int


@dataclass(frozen=True)
class Vehicle:
    id: str
    start: int
    end: int
    capacity: tuple[int, ...]
    shift: TimeWindow
    max_duration_s: int | None = None
    breaks: tuple[Break, ...] = ()
    fixed_cost: int = 0
    cost_per_km: int = 1000
    # Multiple trips: the van may come back to ``reload_location`` to unload/reload up to
    # ``max_reloads`` times; each reload takes ``reload_s``.
    reload_location: int | None = None
    max_reloads: int = 0
    reload_s: int = 0


@dataclass(frozen=True)
class Stop:
    location: int
    service_s: int = 0
    window: TimeWindow | None = None


@dataclass(frozen=True)
class Service:
    """A one-stop job: deliver ``amount`` loaded at the vehicle's start (or a reload)."""

    id: str
    stop: Stop
    amount: tuple[int, ...]
    penalty: int | None = None  # None: must be served; else the cost of leaving it out
    vehicles: tuple[int, ...] | None = None  # pinned: only these vehicles may serve it


@dataclass(frozen=True)
class Shipment:
    """Pick up ``amount`` at ``pickup``, deliver it at ``delivery``, same vehicle, pickup first."""

    id: str
    pickup: Stop
    delivery: Stop
    amount: tuple[int, ...]
    penalty: int | None = None
    vehicles: tuple[int, ...] | None = None  # pinned: only these vehicles may serve it


@dataclass(frozen=True)
class VehicleRoute:
    """A vehicle's visits in order. A step is (kind, job id), kind "service", "pickup" or
    "delivery"; a shipment's two ends both. In ``Problem.locks`` the route is kept as it is
    (these visits, this order, nothing else); in ``Problem.initial`` it is where the search
    starts from."""

    vehicle: int
    steps: tuple[tuple[str, str], ...]


Lock = VehicleRoute


@dataclass(frozen=True)
class TravelProfile:
    """Time-of-day factors on the duration matrix: from ``start_s`` on, durations are scaled
    by ``percent``/100 until the next entry. Used to time a plan as the van actually drives."""

    periods: tuple[tuple[int, int], ...]

    @cached_property
    def _starts(self) -> tuple[int, ...]:
        return tuple(start for start, _ in self.periods)

    def _at(self, t_s: int) -> tuple[int, int]:
        """The percent in force at ``t_s`` and when it next changes (the next period's start,
        or midnight). Periods start at midnight, in increasing order (``validate``)."""
        day, tod = divmod(t_s, DAY_S)
        i = bisect_right(self._starts, tod)
        nxt = day * DAY_S + self._starts[i] if i < len(self._starts) else (day + 1) * DAY_S
        return self.periods[max(i - 1, 0)][1], nxt

    def percent_at(self, t_s: int) -> int:
        return self._at(t_s)[0]

    def drive(self, depart_s: int, base_s: int) -> int:
        """Arrival time of a drive that takes ``base_s`` at 100 %, leaving at ``depart_s``."""
        return self.drive_cs(depart_s, base_s * 100)

    def progress_cs(self, depart_s: int, until_s: int) -> int:
        """How far a drive that leaves at ``depart_s`` gets by ``until_s``, in 1/100 s at 100 %."""
        t, done = depart_s, 0
        while t < until_s:
            pct, nxt = self._at(t)
            nxt = min(nxt, until_s)
            done += (nxt - t) * 100 * 100 // pct
            t = nxt
        return done

    def drive_cs(self, depart_s: int, left_cs: int) -> int:
        """Arrival time of a drive of ``left_cs`` (1/100 s at 100 %), leaving at ``depart_s``."""
        t, left = depart_s, left_cs  # base-seconds x 100, to stay in integers
        while True:
            pct, nxt = self._at(t)
            can = (nxt - t) * 100 * 100 // pct
            if can >= left:
                return t + -(-left * pct // 10_000)
            left -= can
            t = nxt


@dataclass(frozen=True)
class Problem:
    locations: tuple[Location, ...]
    distance_m: tuple[tuple[int, ...], ...]
    duration_s: tuple[tuple[int, ...], ...]
    vehicles: tuple[Vehicle, ...]
    services: tuple[Service, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    profile: TravelProfile | None = None
    locks: tuple[Lock, ...] = ()
    # A plan to start from (a published plan being re-planned), and what moving one of its jobs
    # to another vehicle costs, in the objective's units (0: a start, no preference).
    initial: tuple[VehicleRoute, ...] = ()
    move_cost: int = 0
    dimensions: tuple[str, ...] = ("units",)
    name: str = "problem"
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def n_jobs(self) -> int:
        return len(self.services) + len(self.shipments)

    def travel_s(self, i: int, j: int, depart_s: int) -> int:
        """Seconds from i to j leaving at ``depart_s``. With a profile the van drives through
        the periods at each one's speed (so leaving later never arrives earlier)."""
        base = self.duration_s[i][j]
        if self.profile is None or base == 0:
            return base
        return self.profile.drive(depart_s, base) - depart_s

    def travel_paused_s(self, i: int, j: int, depart_s: int, pause_at_s: int, pause_s: int) -> int:
        """Arrival at j of a drive from i that leaves at ``depart_s`` and stops on the road at
        ``pause_at_s`` (before it would arrive) for ``pause_s``: the driver's break."""
        base = self.duration_s[i][j]
        if self.profile is None:
            return depart_s + base + pause_s
        done = self.profile.progress_cs(depart_s, pause_at_s)
        return self.profile.drive_cs(pause_at_s + pause_s, max(0, base * 100 - done))

    def arc_cost(self, vehicle: Vehicle, i: int, j: int) -> int:
        return self.distance_m[i][j] * vehicle.cost_per_km // 1000


def _square(name: str, m: Sequence[Sequence[int]], n: int) -> None:
    if len(m) != n:
        raise InvalidProblem(name, f"matrix has {len(m)} rows for {n} locations (must be square)")
    for i, row in enumerate(m):
        if len(row) != n:
            raise InvalidProblem(f"{name}[{i}]", f"row has {len(row)} entries for {n} locations")
        if n == 0 or (set(map(type, row)) == {int} and min(row) >= 0):
            continue  # the usual case, checked in C: a 6,000-node matrix in a second, not a minute
        for j, v in enumerate(row):
            if not isinstance(v, int) or isinstance(v, bool):
                raise InvalidProblem(f"{name}[{i}][{j}]", f"must be an integer, got {v!r}")
            if v < 0:
                raise InvalidProblem(f"{name}[{i}][{j}]", "must not be negative")


def _stop(p: Problem, s: Stop, where: str) -> None:
    if not 0 <= s.location < len(p.locations):
        raise InvalidProblem(f"{where}.location", f"unknown location {s.location}")
    if s.service_s < 0:
        raise InvalidProblem(f"{where}.service_s", "must not be negative")
    if s.window:
        s.window.check(f"{where}.window")


def _amount(p: Problem, a: tuple[int, ...], where: str) -> None:
    if len(a) != len(p.dimensions):
        raise InvalidProblem(where, f"has {len(a)} values for dimensions {list(p.dimensions)}")
    if any(x < 0 for x in a):
        raise InvalidProblem(where, "must not be negative")


def _pins(p: Problem, vehicles: tuple[int, ...] | None, where: str) -> None:
    if vehicles is None:
        return
    if not vehicles:
        raise InvalidProblem(where, "a pinned job needs at least one vehicle")
    for v in vehicles:
        if not isinstance(v, int) or not 0 <= v < len(p.vehicles):
            raise InvalidProblem(where, f"unknown vehicle {v!r}")


def _routes(p: Problem, routes: tuple[VehicleRoute, ...], name: str, verb: str) -> None:
    kinds: dict[str, tuple[str, ...]] = {s.id: ("service",) for s in p.services}
    kinds.update({s.id: ("pickup", "delivery") for s in p.shipments})
    vehicles: set[int] = set()
    jobs: set[str] = set()
    for k, route in enumerate(routes):
        w = f"{name}[{k}]"
        if not isinstance(route.vehicle, int) or not 0 <= route.vehicle < len(p.vehicles):
            raise InvalidProblem(f"{w}.vehicle", f"unknown vehicle {route.vehicle!r}")
        if route.vehicle in vehicles:
            raise InvalidProblem(f"{w}.vehicle", f"vehicle {route.vehicle} is {verb} twice")
        vehicles.add(route.vehicle)
        seen: list[tuple[str, str]] = []
        for s, (kind, job) in enumerate(route.steps):
            if job not in kinds or kind not in kinds[job]:
                raise InvalidProblem(f"{w}.steps[{s}]", f"no {kind} of a job {job!r}")
            if (kind, job) in seen or job in jobs:  # twice here, or in an earlier route
                raise InvalidProblem(f"{w}.steps[{s}]", f"{job!r} is {verb} twice")
            if kind == "delivery" and ("pickup", job) not in seen:
                raise InvalidProblem(f"{w}.steps[{s}]", f"{job!r} is delivered before its pickup")
            seen.append((kind, job))
        jobs.update(j for _, j in seen)
        for _, job in seen:
            if kinds[job] == ("pickup", "delivery") and ("delivery", job) not in seen:
                raise InvalidProblem(f"{w}.steps", f"{job!r} is picked up but not delivered")


def validate(p: Problem) -> None:
    """Raise InvalidProblem naming the first inconsistent field."""
    n = len(p.locations)
    if n == 0:
        raise InvalidProblem("locations", "at least one location is needed")
    ids = [loc.id for loc in p.locations]
    if len(set(ids)) != n:
        raise InvalidProblem("locations", "location ids must be unique")
    _square("distance_m", p.distance_m, n)
    _square("duration_s", p.duration_s, n)
    if not p.vehicles:
        raise InvalidProblem("vehicles", "at least one vehicle is needed")
    if not p.dimensions:
        raise InvalidProblem("dimensions", "at least one capacity dimension is needed")
    for k, v in enumerate(p.vehicles):
        w = f"vehicles[{k}]"
        for attr in ("start", "end"):
            if not 0 <= getattr(v, attr) < n:
                raise InvalidProblem(f"{w}.{attr}", f"unknown location {getattr(v, attr)}")
        if len(v.capacity) != len(p.dimensions):
            raise InvalidProblem(
                f"{w}.capacity", f"has {len(v.capacity)} values for {list(p.dimensions)}"
            )
        if any(c < 0 for c in v.capacity):
            raise InvalidProblem(f"{w}.capacity", "must not be negative")
        v.shift.check(f"{w}.shift")
        if v.max_duration_s is not None and v.max_duration_s <= 0:
            raise InvalidProblem(f"{w}.max_duration_s", "must be positive")
        if v.fixed_cost < 0 or v.cost_per_km < 0:
            raise InvalidProblem(f"{w}.fixed_cost", "costs must not be negative")
        for b, br in enumerate(v.breaks):
            if br.duration_s <= 0 or br.latest_start_s < br.earliest_start_s:
                raise InvalidProblem(
                    f"{w}.breaks[{b}]", "needs a positive duration and a valid start range"
                )
        if v.reload_location is not None and not 0 <= v.reload_location < n:
            raise InvalidProblem(f"{w}.reload_location", f"unknown location {v.reload_location}")
        if v.max_reloads < 0 or v.reload_s < 0:
            raise InvalidProblem(f"{w}.max_reloads", "must not be negative")
    job_ids: set[str] = set()
    for k, s in enumerate(p.services):
        w = f"services[{k}]"
        _stop(p, s.stop, f"{w}.stop")
        _amount(p, s.amount, f"{w}.amount")
        if s.penalty is not None and s.penalty < 0:
            raise InvalidProblem(f"{w}.penalty", "must not be negative")
        if s.id in job_ids:
            raise InvalidProblem(f"{w}.id", f"duplicate job id {s.id!r}")
        _pins(p, s.vehicles, f"{w}.vehicles")
        job_ids.add(s.id)
    for k, sh in enumerate(p.shipments):
        w = f"shipments[{k}]"
        _stop(p, sh.pickup, f"{w}.pickup")
        _stop(p, sh.delivery, f"{w}.delivery")
        _amount(p, sh.amount, f"{w}.amount")
        if sh.penalty is not None and sh.penalty < 0:
            raise InvalidProblem(f"{w}.penalty", "must not be negative")
        if sh.id in job_ids:
            raise InvalidProblem(f"{w}.id", f"duplicate job id {sh.id!r}")
        _pins(p, sh.vehicles, f"{w}.vehicles")
        job_ids.add(sh.id)
    _routes(p, p.locks, "locks", "locked")
    _routes(p, p.initial, "initial", "routed")
    if not isinstance(p.move_cost, int) or p.move_cost < 0:
        raise InvalidProblem("move_cost", "must be a whole number, not negative")
    if p.profile is not None:
        if not p.profile.periods or p.profile.periods[0][0] != 0:
            raise InvalidProblem("profile.periods", "must start at 0 s (midnight)")
        starts = [s for s, _ in p.profile.periods]
        if starts != sorted(set(starts)) or any(pct <= 0 for _, pct in p.profile.periods):
            raise InvalidProblem("profile.periods", "starts must increase and percents be positive")
