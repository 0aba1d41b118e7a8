"""DakGhor's own JSON format for problems (docs/routing.md); plans use ``Plan.to_dict``."""

from __future__ import annotations

from typing import Any

from routing.errors import InvalidProblem
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
    VehicleRoute,
)


def _tw(d: Any, where: str) -> TimeWindow | None:
    if d is None:
        return None
    if not (isinstance(d, list | tuple) and len(d) == 2):
        raise InvalidProblem(where, "a window is [start_s, end_s]")
    return TimeWindow(_int(d[0], where), _int(d[1], where))


def _int(x: Any, where: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise InvalidProblem(where, f"must be an integer, got {x!r}")
    return x


def _ints(xs: Any, where: str) -> tuple[int, ...]:
    if not isinstance(xs, list | tuple):
        raise InvalidProblem(where, "must be a list of integers")
    return tuple(_int(x, where) for x in xs)


def _loc(d: Any, ids: dict[str, int], where: str) -> int:
    if isinstance(d, str):
        if d not in ids:
            raise InvalidProblem(where, f"unknown location {d!r}")
        return ids[d]
    return _int(d, where)


def _stop(d: Any, ids: dict[str, int], where: str) -> Stop:
    if not isinstance(d, dict):
        raise InvalidProblem(where, "a stop is {location, service_s, window}")
    return Stop(
        _loc(d.get("location"), ids, f"{where}.location"),
        _int(d.get("service_s", 0), f"{where}.service_s"),
        _tw(d.get("window"), f"{where}.window"),
    )


def _pinned(d: dict[str, Any], where: str) -> tuple[int, ...] | None:
    return None if d.get("vehicles") is None else _ints(d["vehicles"], where)


def _vehicle_routes(d: dict[str, Any], name: str) -> tuple[VehicleRoute, ...]:
    out = []
    for k, x in enumerate(d.get(name, [])):
        steps = []
        for s, st in enumerate(x["steps"]):
            if not isinstance(st, list | tuple) or len(st) != 2:
                raise InvalidProblem(f"{name}[{k}].steps[{s}]", "must be [kind, job id]")
            steps.append((str(st[0]), str(st[1])))
        out.append(VehicleRoute(_int(x["vehicle"], f"{name}[{k}].vehicle"), tuple(steps)))
    return tuple(out)


def problem_from_dict(d: dict[str, Any]) -> Problem:
    """Build and validate a Problem; InvalidProblem names the first bad field."""
    try:
        locs = tuple(Location(str(x["id"]), x.get("lat"), x.get("lon")) for x in d["locations"])
        ids = {loc.id: k for k, loc in enumerate(locs)}
        matrix = d["distance_m"]
        durations = d.get("duration_s", matrix)
        vehicles = tuple(
            Vehicle(
                id=str(v["id"]),
                start=_loc(v["start"], ids, f"vehicles[{k}].start"),
                end=_loc(v.get("end", v["start"]), ids, f"vehicles[{k}].end"),
                capacity=_ints(v["capacity"], f"vehicles[{k}].capacity"),
                shift=_tw(v["shift"], f"vehicles[{k}].shift") or TimeWindow(0, 0),
                max_duration_s=v.get("max_duration_s"),
                breaks=tuple(
                    Break(*_ints(b, f"vehicles[{k}].breaks")) for b in v.get("breaks", [])
                ),
                fixed_cost=_int(v.get("fixed_cost", 0), f"vehicles[{k}].fixed_cost"),
                cost_per_km=_int(v.get("cost_per_km", 1000), f"vehicles[{k}].cost_per_km"),
                reload_location=(
                    _loc(v["reload_location"], ids, f"vehicles[{k}].reload_location")
                    if v.get("reload_location") is not None
                    else None
                ),
                max_reloads=_int(v.get("max_reloads", 0), f"vehicles[{k}].max_reloads"),
                reload_s=_int(v.get("reload_s", 0), f"vehicles[{k}].reload_s"),
            )
            for k, v in enumerate(d["vehicles"])
        )
        services = tuple(
            Service(
                str(s["id"]),
                _stop(s["stop"], ids, f"services[{k}].stop"),
                _ints(s["amount"], f"services[{k}].amount"),
                s.get("penalty"),
                _pinned(s, f"services[{k}].vehicles"),
            )
            for k, s in enumerate(d.get("services", []))
        )
        shipments = tuple(
            Shipment(
                str(s["id"]),
                _stop(s["pickup"], ids, f"shipments[{k}].pickup"),
                _stop(s["delivery"], ids, f"shipments[{k}].delivery"),
                _ints(s["amount"], f"shipments[{k}].amount"),
                s.get("penalty"),
                _pinned(s, f"shipments[{k}].vehicles"),
            )
            for k, s in enumerate(d.get("shipments", []))
        )
        profile = (
            TravelProfile(tuple((int(a), int(b)) for a, b in d["profile"]))
            if d.get("profile")
            else None
        )
        return Problem(
            locations=locs,
            distance_m=tuple(tuple(row) for row in matrix),
            duration_s=tuple(tuple(row) for row in durations),
            vehicles=vehicles,
            services=services,
            shipments=shipments,
            profile=profile,
            locks=_vehicle_routes(d, "locks"),
            initial=_vehicle_routes(d, "initial"),
            move_cost=_int(d.get("move_cost", 0), "move_cost"),
            dimensions=tuple(d.get("dimensions", ["units"])),
            name=str(d.get("name", "problem")),
        )
    except KeyError as e:
        raise InvalidProblem(str(e.args[0]), "is required") from None
    except TypeError as e:
        raise InvalidProblem("problem", f"malformed: {e}") from None


def problem_to_dict(p: Problem) -> dict[str, Any]:
    def stop(s: Stop) -> dict[str, Any]:
        return {
            "location": s.location,
            "service_s": s.service_s,
            "window": [s.window.start_s, s.window.end_s] if s.window else None,
        }

    def pins(v: tuple[int, ...] | None) -> list[int] | None:
        return None if v is None else list(v)

    return {
        "name": p.name,
        "dimensions": list(p.dimensions),
        "locations": [{"id": loc.id, "lat": loc.lat, "lon": loc.lon} for loc in p.locations],
        "distance_m": [list(r) for r in p.distance_m],
        "duration_s": [list(r) for r in p.duration_s],
        "profile": [list(x) for x in p.profile.periods] if p.profile else None,
        "vehicles": [
            {
                "id": v.id,
                "start": v.start,
                "end": v.end,
                "capacity": list(v.capacity),
                "shift": [v.shift.start_s, v.shift.end_s],
                "max_duration_s": v.max_duration_s,
                "breaks": [[b.earliest_start_s, b.latest_start_s, b.duration_s] for b in v.breaks],
                "fixed_cost": v.fixed_cost,
                "cost_per_km": v.cost_per_km,
                "reload_location": v.reload_location,
                "max_reloads": v.max_reloads,
                "reload_s": v.reload_s,
            }
            for v in p.vehicles
        ],
        "services": [
            {
                "id": s.id,
                "stop": stop(s.stop),
                "amount": list(s.amount),
                "penalty": s.penalty,
                "vehicles": pins(s.vehicles),
            }
            for s in p.services
        ],
        "shipments": [
            {
                "id": s.id,
                "pickup": stop(s.pickup),
                "delivery": stop(s.delivery),
                "amount": list(s.amount),
                "penalty": s.penalty,
                "vehicles": pins(s.vehicles),
            }
            for s in p.shipments
        ],
        "locks": [{"vehicle": x.vehicle, "steps": [list(st) for st in x.steps]} for x in p.locks],
        "initial": [
            {"vehicle": x.vehicle, "steps": [list(st) for st in x.steps]} for x in p.initial
        ],
        "move_cost": p.move_cost,
    }
