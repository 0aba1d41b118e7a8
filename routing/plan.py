"""A plan: ordered stops per vehicle with times and loads, and its own independent check
(``check``, in routing/verify.py).

``schedule`` is the one definition of how a route unfolds in time (travel with the time-of-day
profile, waiting for windows, the driver break, reloads); the solver only chooses sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from routing.model import Problem, Stop, Vehicle
from routing.violations import Violation

# A step of a route, as the solver hands it over: ("service", i), ("pickup", i),
# ("delivery", i) with i the index of the job, or ("reload", -1).
Step = tuple[str, int]


@dataclass(frozen=True)
class Visit:
    kind: str  # start, end, service, pickup, delivery, reload, break
    location: int
    job_id: str | None
    arrival_s: int
    start_s: int
    departure_s: int
    load: tuple[int, ...]  # on board after the visit


@dataclass(frozen=True)
class Route:
    vehicle_id: str
    visits: tuple[Visit, ...]
    distance_m: int
    duration_s: int
    cost: int


@dataclass(frozen=True)
class Unassigned:
    job_id: str
    reason: str  # for people who read English logs and the CLI
    code: str = "no_room"  # for programs: one of REASONS


# Why a job was left out, as a code a product can put in its own words.
REASONS = (
    "too_big",  # more than the largest (allowed) vehicle takes
    "window",  # a time window no (allowed) vehicle can reach within its shift
    "pair",  # pickup and delivery cannot both fit one (allowed) vehicle's shift and windows
    "pinned_locked",  # pinned only to vehicles whose routes are locked
    "late_when_timed",  # broke its route once timed with time-of-day speeds and breaks
    "no_room",  # no room left in the fleet's capacity, shifts and windows
)


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def distance_m(self) -> int:
        return sum(r.distance_m for r in self.routes)

    @property
    def duration_s(self) -> int:
        return sum(r.duration_s for r in self.routes)

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.routes)

    @property
    def vehicles_used(self) -> int:
        return len(self.routes)

    def check(self, problem: Problem) -> list[Violation]:
        """Recompute everything from the problem; return every violation found (empty = valid)."""
        return check(problem, self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "routes": [
                {
                    "vehicle": r.vehicle_id,
                    "distance_m": r.distance_m,
                    "duration_s": r.duration_s,
                    "cost": r.cost,
                    "visits": [
                        {
                            "kind": v.kind,
                            "location": v.location,
                            "job": v.job_id,
                            "arrival_s": v.arrival_s,
                            "start_s": v.start_s,
                            "departure_s": v.departure_s,
                            "load": list(v.load),
                        }
                        for v in r.visits
                    ],
                }
                for r in self.routes
            ],
            "unassigned": [
                {"job": u.job_id, "reason": u.reason, "code": u.code} for u in self.unassigned
            ],
            "summary": {
                "vehicles": self.vehicles_used,
                "distance_m": self.distance_m,
                "duration_s": self.duration_s,
                "cost": self.cost,
            },
            "stats": self.stats,
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Plan:
        routes = []
        for r in d["routes"]:
            visits = tuple(
                Visit(
                    v["kind"],
                    int(v["location"]),
                    v.get("job"),
                    int(v["arrival_s"]),
                    int(v["start_s"]),
                    int(v["departure_s"]),
                    tuple(int(x) for x in v["load"]),
                )
                for v in r["visits"]
            )
            routes.append(
                Route(
                    r["vehicle"], visits, int(r["distance_m"]), int(r["duration_s"]), int(r["cost"])
                )
            )
        un = tuple(
            Unassigned(u["job"], u["reason"], u.get("code", "no_room"))
            for u in d.get("unassigned", [])
        )
        return Plan(tuple(routes), un, dict(d.get("stats", {})))


def job_stop(problem: Problem, step: Step) -> Stop:
    """The stop of a job's step: a service's stop, a shipment's pickup or delivery."""
    kind, j = step
    if kind == "service":
        return problem.services[j].stop
    if kind == "pickup":
        return problem.shipments[j].pickup
    if kind == "delivery":
        return problem.shipments[j].delivery
    raise ValueError(f"unknown step kind {kind!r}")


def _add(a: Sequence[int], b: Sequence[int], sign: int = 1) -> tuple[int, ...]:
    return tuple(x + sign * y for x, y in zip(a, b, strict=True))


def _trip_services(problem: Problem, steps: Sequence[Step], i: int) -> tuple[int, ...]:
    """What a trip starting at step i must carry out for its services (up to the next reload)."""
    total = tuple(0 for _ in problem.dimensions)
    for kind, j in steps[i:]:
        if kind == "reload":
            break
        if kind == "service":
            total = _add(total, problem.services[j].amount)
    return total


def schedule(
    problem: Problem, vehicle: Vehicle, steps: Sequence[Step]
) -> tuple[Route, list[Violation]]:
    """Time a sequence for a vehicle: the canonical semantics of a route.

    Returns the route and the problems found (late arrival, over capacity, shift overrun...).
    The break is taken when the van leaves the first stop it leaves at or after the break's
    earliest start; if it would only leave its next stop after the break's latest start, it takes
    the break at the earliest start on the way there (on the road, or waiting at that stop).
    """
    issues: list[Violation] = []
    vid = vehicle.id
    t = vehicle.shift.start_s
    loc = vehicle.start
    load = _trip_services(problem, steps, 0)
    visits = [Visit("start", loc, None, t, t, t, load)]
    distance = 0
    pending_breaks = sorted(vehicle.breaks, key=lambda b: b.earliest_start_s)

    def maybe_break(now: int, at: int) -> int:
        while pending_breaks and now >= pending_breaks[0].earliest_start_s - 0:
            br = pending_breaks.pop(0)
            start = max(now, br.earliest_start_s)
            if start > br.latest_start_s:
                issues.append(
                    Violation(
                        f"{vid}: break starts at {start}, after its latest start {br.latest_start_s}",
                        "break_late",
                        vehicle=vid,
                        at_s=start,
                        limit_s=br.latest_start_s,
                    )
                )
            visits.append(Visit("break", at, None, now, start, start + br.duration_s, load))
            now = start + br.duration_s
        return now

    def capacity_check(kind: str, job_id: str | None) -> None:
        for d, (x, cap) in enumerate(zip(load, vehicle.capacity, strict=True)):
            if 0 <= x <= cap:  # (the search times many routes: a finding only costs when made)
                continue
            where = "at start" if kind == "start" else f"after {kind} {job_id}"
            dim, on = problem.dimensions[d], {"vehicle": vid, "kind": kind, "job": job_id}
            if x > cap:
                text = f"{vid}: {dim} load {x} > capacity {cap} {where}"
                issues.append(
                    Violation(text, "over_capacity", dimension=dim, value=x, limit=cap, **on)
                )
            else:
                text = f"{vid}: negative {dim} load {x} {where}"
                issues.append(Violation(text, "negative_load", dimension=dim, value=x, **on))

    def leg(now: int, at: int, to: Stop) -> tuple[int, int]:
        """Arrival at ``to`` and the start of its service. A van that would leave ``to`` only
        after its next break's latest start takes the break at its earliest start on the way:
        on the road, or while it waits at ``to`` for the window to open."""
        arrival = now + problem.travel_s(at, to.location, now)
        opens = to.window.start_s if to.window is not None else 0
        start = max(arrival, opens)
        if pending_breaks:
            br = pending_breaks[0]
            e = br.earliest_start_s
            if now < e < start + to.service_s and start + to.service_s > br.latest_start_s:
                pending_breaks.pop(0)
                if e < arrival:
                    visits.append(Visit("break", at, None, e, e, e + br.duration_s, load))
                    arrival = problem.travel_paused_s(at, to.location, now, e, br.duration_s)
                    start = max(arrival, opens)
                else:
                    visits.append(Visit("break", to.location, None, e, e, e + br.duration_s, load))
                    start = max(start, e + br.duration_s)
        return arrival, start

    capacity_check("start", None)
    for idx, (kind, j) in enumerate(steps):
        if kind == "reload":
            if vehicle.reload_location is None:
                issues.append(
                    Violation(
                        f"{vid}: reload but the vehicle has no reload location",
                        "no_reload_site",
                        vehicle=vid,
                    )
                )
                continue
            stop = Stop(vehicle.reload_location, vehicle.reload_s)
            job_id = None
        else:
            stop, job_id = job_stop(problem, (kind, j)), job_id_of(problem, kind, j)
        t = maybe_break(t, loc)
        arrival, start = leg(t, loc, stop)
        distance += problem.distance_m[loc][stop.location]
        if stop.window is not None and start > stop.window.end_s:
            issues.append(
                Violation(
                    f"{vid}: {kind} {job_id} starts at {start}, after its window end {stop.window.end_s}",
                    "after_window",
                    vehicle=vid,
                    kind=kind,
                    job=job_id,
                    at_s=start,
                    limit_s=stop.window.end_s,
                )
            )
        if kind == "reload":
            load = _add(
                _trip_services(problem, steps, idx + 1), tuple(0 for _ in problem.dimensions)
            )
            # shipments on board stay on board across a reload
            load = _add(load, _on_board(problem, steps[:idx]))
        elif kind == "service":
            load = _add(load, problem.services[j].amount, -1)
        elif kind == "pickup":
            load = _add(load, problem.shipments[j].amount)
        else:
            load = _add(load, problem.shipments[j].amount, -1)
        t = start + stop.service_s
        loc = stop.location
        visits.append(Visit(kind, loc, job_id, arrival, start, t, load))
        capacity_check(kind, job_id)
    t = maybe_break(t, loc)
    arrival, _ = leg(t, loc, Stop(vehicle.end))
    distance += problem.distance_m[loc][vehicle.end]
    visits.append(Visit("end", vehicle.end, None, arrival, arrival, arrival, load))
    for br in pending_breaks:
        # A van back before the break window closes needs no break on the road.
        if arrival > br.latest_start_s:
            issues.append(
                Violation(
                    f"{vid}: break (latest start {br.latest_start_s}) not taken on a route ending at {arrival}",
                    "break_missed",
                    vehicle=vid,
                    limit_s=br.latest_start_s,
                    at_s=arrival,
                )
            )
    end = vehicle.shift.end_s
    if arrival > end:
        text = f"{vid}: back at {arrival}, after the shift end {end}"
        issues.append(Violation(text, "after_shift", vehicle=vid, at_s=arrival, limit_s=end))
    duration = arrival - vehicle.shift.start_s
    most = vehicle.max_duration_s
    if most is not None and duration > most:
        text = f"{vid}: route takes {duration} s > max {most} s"
        issues.append(Violation(text, "too_long", vehicle=vid, value_s=duration, limit_s=most))
    if sum(1 for k, _ in steps if k == "reload") > vehicle.max_reloads:
        text = f"{vid}: more reloads than the {vehicle.max_reloads} allowed"
        issues.append(Violation(text, "too_many_reloads", vehicle=vid, limit=vehicle.max_reloads))
    cost = vehicle.fixed_cost + distance * vehicle.cost_per_km // 1000
    return Route(vid, tuple(visits), distance, duration, cost), issues


def _on_board(problem: Problem, steps: Iterable[Step]) -> tuple[int, ...]:
    load = tuple(0 for _ in problem.dimensions)
    for kind, j in steps:
        if kind == "pickup":
            load = _add(load, problem.shipments[j].amount)
        elif kind == "delivery":
            load = _add(load, problem.shipments[j].amount, -1)
    return load


def steps_of(problem: Problem, route: Route) -> list[Step]:
    """The job sequence of a route, read back from its visits (by job id)."""
    svc = {s.id: i for i, s in enumerate(problem.services)}
    shp = {s.id: i for i, s in enumerate(problem.shipments)}
    out: list[Step] = []
    for v in route.visits:
        if v.kind == "reload":
            out.append(("reload", -1))
        elif v.kind == "service" and v.job_id in svc:
            out.append(("service", svc[v.job_id]))
        elif v.kind in ("pickup", "delivery") and v.job_id in shp:
            out.append((v.kind, shp[v.job_id]))
        elif v.kind in ("service", "pickup", "delivery"):
            out.append((v.kind, -1))
    return out


def sequences_of(problem: Problem, plan: Plan) -> list[list[Step]]:
    """The plan's routes as step sequences, one per vehicle of the problem, in its order."""
    index = {v.id: k for k, v in enumerate(problem.vehicles)}
    out: list[list[Step]] = [[] for _ in problem.vehicles]
    for r in plan.routes:
        out[index[r.vehicle_id]] = steps_of(problem, r)
    return out


def job_keys(problem: Problem) -> dict[str, tuple[str, int]]:
    """Each job's id -> ("service" | "shipment", its index): how the fill names a job."""
    keys = {s.id: ("service", j) for j, s in enumerate(problem.services)}
    keys.update({s.id: ("shipment", j) for j, s in enumerate(problem.shipments)})
    return keys


def longest_prefix(n: int, holds: Callable[[int], bool]) -> int:
    """The largest m <= n with ``holds(m)``, for a ``holds`` true up to some length and false
    past it (a route's prefixes: one that holds is cut shorter and still holds); 0 if none."""
    lo, hi = 0, n  # the prefix of lo holds; none longer than hi does
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if holds(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def job_id_of(problem: Problem, kind: str, j: int) -> str:
    return problem.services[j].id if kind == "service" else problem.shipments[j].id


def check(problem: Problem, plan: Plan) -> list[Violation]:
    """Independent check of a plan against a problem (routing/verify.py): coverage, pairing,
    times, loads, totals; every violation found (empty = valid)."""
    from routing.verify import check as verify  # (it reads this module's schedule)

    return verify(problem, plan)
