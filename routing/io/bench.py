"""Standard instances as Problems: Solomon / Gehring-Homberger (VRPTW), Li & Lim (PDPTW) and
CVRPLIB .vrp (CVRP), with the distance conventions of shared/bench/vrp/README.md:

* dimacs: floor(10 d), times alike (Solomon, distance objective); costs reported / 10
* exact:  double precision, here ceil(1000 d) so that a plan feasible in integers is feasible
          in doubles (GH, Li & Lim, hierarchical objective); costs recomputed in doubles
* nint:   round(d) (CVRPLIB X)
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from routing.errors import FormatError
from routing.model import Location, Problem, Service, Shipment, Stop, TimeWindow, Vehicle
from routing.plan import Plan

SCALE = {"dimacs": 10, "exact": 1000, "nint": 1}


def scaled(d: float, convention: str) -> int:
    if convention == "dimacs":
        return math.floor(10 * d + 1e-9)
    if convention == "exact":
        return math.ceil(1000 * d - 1e-9)
    if convention == "nint":
        return int(d + 0.5)
    raise ValueError(f"unknown convention {convention!r}")


def _matrix(xy: list[tuple[float, float]], convention: str) -> tuple[tuple[int, ...], ...]:
    """Pairwise distances under ``convention``, computed as arrays: a Li & Lim file of one job
    per parcel has 6,000 nodes (36 million distances, 45 s one by one in Python, 2 s here)."""
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    d = np.hypot(pts[:, 0, None] - pts[None, :, 0], pts[:, 1, None] - pts[None, :, 1])
    if convention == "dimacs":
        m = np.floor(10 * d + 1e-9)
    elif convention == "exact":
        m = np.ceil(1000 * d - 1e-9)
    elif convention == "nint":
        m = np.floor(d + 0.5)
    else:
        raise ValueError(f"unknown convention {convention!r}")
    return tuple(map(tuple, m.astype(np.int64).tolist()))


def _rows(path: Path) -> list[list[str]]:
    return [ln.split() for ln in path.read_text().splitlines() if ln.strip()]


def read_solomon(
    path: str | Path, convention: str = "dimacs", vehicles: int | None = None
) -> Problem:
    """Solomon / Gehring-Homberger text: NAME, VEHICLE NUMBER CAPACITY, CUSTOMER rows."""
    p = Path(path)
    rows = _rows(p)
    try:
        i = next(k for k, r in enumerate(rows) if r[0].upper() == "NUMBER")
        fleet, cap = int(rows[i + 1][0]), int(rows[i + 1][1])
        data = [r for r in rows[i + 2 :] if r[0].isdigit() and len(r) >= 7]
        cust = [
            (
                int(r[0]),
                float(r[1]),
                float(r[2]),
                int(float(r[3])),
                int(float(r[4])),
                int(float(r[5])),
                int(float(r[6])),
            )
            for r in data
        ]
    except (StopIteration, ValueError, IndexError) as e:
        raise FormatError(f"{p.name}: not a Solomon file ({e})") from None
    s = SCALE[convention]
    xy = [(c[1], c[2]) for c in cust]
    m = _matrix(xy, convention)
    depot = cust[0]
    shift = TimeWindow(depot[4] * s, depot[5] * s)
    veh = tuple(Vehicle(f"v{k + 1}", 0, 0, (cap,), shift) for k in range(vehicles or fleet))
    services = tuple(
        Service(str(c[0]), Stop(k, c[6] * s, TimeWindow(c[4] * s, c[5] * s)), (c[3],))
        for k, c in enumerate(cust)
        if k > 0
    )
    return Problem(
        locations=tuple(Location(str(c[0])) for c in cust),
        distance_m=m,
        duration_s=m,
        vehicles=veh,
        services=services,
        name=p.stem,
        meta={
            "family": "vrptw",
            "convention": convention,
            "node_ids": [c[0] for c in cust],
            "xy": xy,
            "scale": s,
        },
    )


def read_lilim(path: str | Path, convention: str = "exact", vehicles: int | None = None) -> Problem:
    """Li & Lim PDPTW: 'K Q speed', then 'id x y demand ready due service pickup delivery'."""
    p = Path(path)
    rows = _rows(p)
    try:
        fleet, cap = int(rows[0][0]), int(rows[0][1])
        data = [
            [int(float(x)) if k != 1 and k != 2 else float(x) for k, x in enumerate(r)]
            for r in rows[1:]
        ]
    except (ValueError, IndexError) as e:
        raise FormatError(f"{p.name}: not a Li & Lim file ({e})") from None
    s = SCALE[convention]
    index = {int(r[0]): k for k, r in enumerate(data)}
    xy = [(float(r[1]), float(r[2])) for r in data]
    m = _matrix(xy, convention)
    depot = data[0]
    shift = TimeWindow(int(depot[4]) * s, int(depot[5]) * s)
    veh = tuple(Vehicle(f"v{k + 1}", 0, 0, (cap,), shift) for k in range(vehicles or fleet))

    def stop(r: list[Any]) -> Stop:
        return Stop(index[int(r[0])], int(r[6]) * s, TimeWindow(int(r[4]) * s, int(r[5]) * s))

    ships = []
    for r in data[1:]:
        if int(r[7]) == 0 and int(r[8]) > 0:  # a pickup, its delivery in column 9
            d = data[index[int(r[8])]]
            ships.append(Shipment(f"{int(r[0])}-{int(d[0])}", stop(r), stop(d), (int(r[3]),)))
    return Problem(
        locations=tuple(Location(str(int(r[0]))) for r in data),
        distance_m=m,
        duration_s=m,
        vehicles=veh,
        shipments=tuple(ships),
        name=p.stem,
        meta={
            "family": "pdptw",
            "convention": convention,
            "node_ids": [int(r[0]) for r in data],
            "xy": xy,
            "scale": s,
        },
    )


def read_vrplib(path: str | Path, vehicles: int | None = None) -> Problem:
    """CVRPLIB .vrp with EUC_2D coordinates, DEMAND_SECTION and DEPOT_SECTION (nint distances)."""
    p = Path(path)
    text = p.read_text()
    try:
        cap = int(re.search(r"CAPACITY\s*:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
        coords_txt = text.split("NODE_COORD_SECTION")[1].split("DEMAND_SECTION")[0]
        dem_txt = text.split("DEMAND_SECTION")[1].split("DEPOT_SECTION")[0]
        depot_id = int(text.split("DEPOT_SECTION")[1].split()[0])
    except (AttributeError, IndexError, ValueError) as e:
        raise FormatError(f"{p.name}: not a CVRPLIB file ({e})") from None
    coords = {
        int(r[0]): (float(r[1]), float(r[2]))
        for r in (ln.split() for ln in coords_txt.splitlines())
        if r
    }
    demand = {int(r[0]): int(r[1]) for r in (ln.split() for ln in dem_txt.splitlines()) if r}
    ids = sorted(coords, key=lambda k: (k != depot_id, k))
    xy = [coords[k] for k in ids]
    m = _matrix(xy, "nint")
    kmin = int(mk.group(1)) if (mk := re.search(r"-k(\d+)", p.stem)) else max(1, len(ids) // 10)
    n_veh = vehicles or kmin + max(3, kmin // 4)
    total = sum(demand.values())
    if n_veh * cap < total:
        raise FormatError(f"{p.name}: {n_veh} vehicles cannot carry the total demand {total}")
    veh = tuple(Vehicle(f"v{k + 1}", 0, 0, (cap,), TimeWindow(0, 10**9)) for k in range(n_veh))
    services = tuple(Service(str(k - 1), Stop(i), (demand[k],)) for i, k in enumerate(ids) if i > 0)
    return Problem(
        locations=tuple(Location(str(k)) for k in ids),
        distance_m=m,
        duration_s=tuple(tuple(0 for _ in ids) for _ in ids),
        vehicles=veh,
        services=services,
        name=p.stem,
        meta={
            "family": "cvrp",
            "convention": "nint",
            "node_ids": [k - 1 for k in ids],
            "xy": xy,
            "scale": 1,
        },
    )


def read_instance(path: str | Path, convention: str | None = None) -> Problem:
    """Pick the reader by content: .vrp is CVRPLIB, a first line of three numbers Li & Lim,
    else Solomon. ``convention`` overrides the family default (dimacs for Solomon)."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file")
    if p.suffix == ".vrp":
        return read_vrplib(p)
    first = p.read_text().split("\n", 1)[0].split()
    if len(first) == 3 and all(re.fullmatch(r"\d+", x) for x in first):
        return read_lilim(p, convention or "exact")
    return read_solomon(p, convention or "dimacs")


def route_node_ids(problem: Problem, plan: Plan) -> list[list[int]]:
    """Each route as the instance's own node numbers (depot left out)."""
    ids = problem.meta["node_ids"]
    return [
        [ids[v.location] for v in r.visits if v.kind in ("service", "pickup", "delivery")]
        for r in plan.routes
    ]


def true_cost(problem: Problem, routes: list[list[int]]) -> float:
    """Total distance of routes under the instance's convention, in the instance's units."""
    conv = problem.meta["convention"]
    ids = problem.meta["node_ids"]
    pos = {nid: k for k, nid in enumerate(ids)}
    xy = problem.meta["xy"]
    total = 0.0
    for r in routes:
        path = [0, *[pos[n] for n in r], 0]
        for a, b in zip(path, path[1:], strict=False):
            d = math.hypot(xy[a][0] - xy[b][0], xy[a][1] - xy[b][1])
            total += {
                "dimacs": math.floor(10 * d + 1e-9) / 10,
                "exact": d,
                "nint": float(int(d + 0.5)),
            }[conv]
    return total


def write_sol(problem: Problem, plan: Plan) -> str:
    """VRPLIB .sol: 'Route #k: ids' with the instance's numbers, then 'Cost X'."""
    routes = [r for r in route_node_ids(problem, plan) if r]
    lines = [f"Route #{k}: {' '.join(map(str, r))}" for k, r in enumerate(routes, 1)]
    cost = true_cost(problem, routes)
    conv = problem.meta["convention"]
    lines.append(
        f"Cost {cost:.1f}"
        if conv == "dimacs"
        else f"Cost {cost:.0f}"
        if conv == "nint"
        else f"Cost {cost:.4f}"
    )
    return "\n".join(lines) + "\n"
