"""Co-located identical jobs solved as one: a day given one job per parcel (thousands of jobs
between a few dozen offices) becomes a day of loads, the search runs on that, and the plan is
split back into the parcels.

Two locations are the same place when their rows of distances and durations are equal (then
the distance between them is 0 in both directions). Jobs merge when they are at the same places
with the same service time, windows, amount, pins and kind of penalty; a merged job carries at
most a quarter of the smallest vehicle's capacity (so a van's leftover room can still take one),
is served for the sum of their service times, and must start early enough that the last of its
jobs still starts inside its window. Split back, its jobs follow each other at that place, so
the plan ``plan.schedule`` times for the original problem is the one the search made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TypeVar

from routing.model import Problem, Service, Shipment, Stop, TimeWindow
from routing.plan import Step

J = TypeVar("J", Service, Shipment)
MERGE_AT_MOST = 0.5  # merge only when that leaves at most this share of the jobs
CHUNK_SHARE = 4  # a merged job carries at most 1/CHUNK_SHARE of the smallest capacity


@dataclass(frozen=True)
class Merged:
    problem: Problem  # the distinct places and the merged jobs
    services: tuple[tuple[int, ...], ...]  # merged service j -> the original services in it
    shipments: tuple[tuple[int, ...], ...]  # merged shipment j -> the original shipments in it

    def expand(self, sequences: list[list[Step]]) -> list[list[Step]]:
        """The merged problem's routes as the original problem's: each merged visit becomes
        its jobs' visits, one after the other."""
        out = []
        for seq in sequences:
            steps: list[Step] = []
            for kind, j in seq:
                if kind == "reload":
                    steps.append((kind, j))
                else:
                    members = self.services[j] if kind == "service" else self.shipments[j]
                    steps.extend((kind, m) for m in members)
            out.append(steps)
        return out


def _places(problem: Problem) -> list[int]:
    """Each location -> the first location at the same place."""
    first: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
    return [
        first.setdefault((problem.distance_m[i], problem.duration_s[i]), i)
        for i in range(len(problem.locations))
    ]


def _chunk_limit(problem: Problem, amount: tuple[int, ...]) -> int:
    limit = 10**9
    for v in problem.vehicles:
        for cap, a in zip(v.capacity, amount, strict=True):
            if a > 0:
                limit = min(limit, cap // (a * CHUNK_SHARE))
    return max(1, limit)


def _fits(stop: Stop, k: int) -> bool:
    """``k`` of these stops in a row still start inside the window."""
    w = stop.window
    return w is None or w.end_s - (k - 1) * stop.service_s >= w.start_s


def _merged_stop(stop: Stop, k: int, where: int) -> Stop:
    w = stop.window
    window = None if w is None else TimeWindow(w.start_s, w.end_s - (k - 1) * stop.service_s)
    return Stop(where, stop.service_s * k, window)


def _chunks(
    problem: Problem, group: list[int], stops: list[Stop], amount: tuple[int, ...]
) -> list[list[int]]:
    size = _chunk_limit(problem, amount)
    while size > 1 and not all(_fits(s, size) for s in stops):
        size -= 1
    return [group[i : i + size] for i in range(0, len(group), size)]


def _summed(jobs: tuple[J, ...], part: list[int]) -> J:
    """The first job of ``part`` carrying all their amounts and, if optional, penalties."""
    first = jobs[part[0]]
    penalty = None if first.penalty is None else sum(jobs[j].penalty or 0 for j in part)
    return replace(first, amount=tuple(a * len(part) for a in first.amount), penalty=penalty)


def merge(problem: Problem) -> Merged | None:
    """``problem`` with its co-located identical jobs merged, or None where that would not
    leave at most MERGE_AT_MOST of the jobs (or locks or a start name jobs: they stay as
    given)."""
    if problem.locks or problem.initial or problem.n_jobs < 2:
        return None
    place = _places(problem)

    def key_stop(s: Stop) -> tuple[object, ...]:
        return (place[s.location], s.service_s, s.window)

    svc_groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for j, s in enumerate(problem.services):
        svc_groups[(key_stop(s.stop), s.amount, s.vehicles, s.penalty is None)].append(j)
    shp_groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for j, sh in enumerate(problem.shipments):
        k = (key_stop(sh.pickup), key_stop(sh.delivery), sh.amount, sh.vehicles, sh.penalty is None)
        shp_groups[k].append(j)
    services: list[Service] = []
    svc_members: list[tuple[int, ...]] = []
    for group in svc_groups.values():
        first = problem.services[group[0]]
        for part in _chunks(problem, group, [first.stop], first.amount):
            svc_members.append(tuple(part))
            services.append(
                replace(
                    _summed(problem.services, part),
                    stop=_merged_stop(first.stop, len(part), place[first.stop.location]),
                )
            )
    shipments: list[Shipment] = []
    shp_members: list[tuple[int, ...]] = []
    for group in shp_groups.values():
        sh = problem.shipments[group[0]]
        for part in _chunks(problem, group, [sh.pickup, sh.delivery], sh.amount):
            shp_members.append(tuple(part))
            shipments.append(
                replace(
                    _summed(problem.shipments, part),
                    pickup=_merged_stop(sh.pickup, len(part), place[sh.pickup.location]),
                    delivery=_merged_stop(sh.delivery, len(part), place[sh.delivery.location]),
                )
            )
    if len(services) + len(shipments) > MERGE_AT_MOST * problem.n_jobs:
        return None
    return Merged(
        _on_places(problem, place, tuple(services), tuple(shipments)),
        tuple(svc_members),
        tuple(shp_members),
    )


def _on_places(
    problem: Problem,
    place: list[int],
    services: tuple[Service, ...],
    shipments: tuple[Shipment, ...],
) -> Problem:
    """The problem on its distinct places only (the matrices shrink with them)."""
    keep = sorted(set(place))
    new = {old: k for k, old in enumerate(keep)}

    def at(s: Stop) -> Stop:
        return replace(s, location=new[place[s.location]])

    return replace(
        problem,
        locations=tuple(problem.locations[i] for i in keep),
        distance_m=tuple(tuple(problem.distance_m[i][j] for j in keep) for i in keep),
        duration_s=tuple(tuple(problem.duration_s[i][j] for j in keep) for i in keep),
        vehicles=tuple(
            replace(
                v,
                start=new[place[v.start]],
                end=new[place[v.end]],
                reload_location=None
                if v.reload_location is None
                else new[place[v.reload_location]],
            )
            for v in problem.vehicles
        ),
        services=tuple(replace(s, stop=at(s.stop)) for s in services),
        shipments=tuple(
            replace(s, pickup=at(s.pickup), delivery=at(s.delivery)) for s in shipments
        ),
        name=f"{problem.name} (merged)",
        meta={},
    )
