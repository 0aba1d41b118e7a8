"""Independent check of a VRPLIB .sol against its instance, written apart from the routing
package (its own parsing and arithmetic) so that it can judge the solver's output.

    python bench/check_sol.py INSTANCE SOLUTION [--convention dimacs|exact|nint]

Checks: every customer visited exactly once, capacity, time windows (service may start no
later than the due time; return to the depot by its due time), pickup before delivery on the
same route (Li & Lim), and recomputes the cost. Exit 0 when feasible.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path


def parse_instance(path: Path) -> dict:
    text = path.read_text()
    if path.suffix == ".vrp":
        cap = int(re.search(r"CAPACITY\s*:\s*(\d+)", text).group(1))
        coords = {}
        for ln in text.split("NODE_COORD_SECTION")[1].split("DEMAND_SECTION")[0].splitlines():
            if ln.split():
                i, x, y = ln.split()[:3]
                coords[int(i) - 1] = (float(x), float(y))
        demand = {}
        for ln in text.split("DEMAND_SECTION")[1].split("DEPOT_SECTION")[0].splitlines():
            if ln.split():
                i, d = ln.split()[:2]
                demand[int(i) - 1] = int(d)
        return {"kind": "cvrp", "cap": cap, "xy": coords, "demand": demand, "tw": None}
    rows = [ln.split() for ln in text.splitlines() if ln.split()]
    if len(rows[0]) == 3 and all(x.isdigit() for x in rows[0]):
        cap = int(rows[0][1])
        data = rows[1:]
        kind = "pdptw"
    else:
        k = next(i for i, r in enumerate(rows) if r[0].upper() == "NUMBER")
        cap = int(rows[k + 1][1])
        data = [r for r in rows[k + 2 :] if r[0].isdigit()]
        kind = "vrptw"
    xy, demand, tw, svc, pair = {}, {}, {}, {}, {}
    for r in data:
        i = int(r[0])
        xy[i] = (float(r[1]), float(r[2]))
        demand[i] = int(float(r[3]))
        tw[i] = (float(r[4]), float(r[5]))
        svc[i] = float(r[6])
        if kind == "pdptw":
            pair[i] = (int(r[7]), int(r[8]))
    return {
        "kind": kind,
        "cap": cap,
        "xy": xy,
        "demand": demand,
        "tw": tw,
        "svc": svc,
        "pair": pair,
    }


def dist(a: tuple[float, float], b: tuple[float, float], conv: str) -> float:
    d = math.hypot(a[0] - b[0], a[1] - b[1])
    return {"dimacs": math.floor(10 * d + 1e-9) / 10, "exact": d, "nint": float(int(d + 0.5))}[conv]


def check(inst: dict, routes: list[list[int]], conv: str) -> tuple[list[str], float]:
    errors: list[str] = []
    customers = [i for i in inst["xy"] if i != 0]
    seen = [c for r in routes for c in r]
    if sorted(seen) != sorted(customers):
        missing = set(customers) - set(seen)
        dup = {c for c in seen if seen.count(c) > 1}
        errors.append(f"coverage: missing {sorted(missing)[:5]}, repeated {sorted(dup)[:5]}")
    total = 0.0
    eps = 1e-6
    for k, r in enumerate(routes, 1):
        path = [0, *r, 0]
        load = 0 if inst["kind"] == "pdptw" else sum(inst["demand"][c] for c in r)
        if load > inst["cap"]:
            errors.append(f"route {k}: load {load} > capacity {inst['cap']}")
        t = inst["tw"][0][0] if inst["tw"] else 0.0
        on_board: set[int] = set()
        for a, b in zip(path, path[1:], strict=False):
            d = dist(inst["xy"][a], inst["xy"][b], conv)
            total += d
            if inst["tw"] is None:
                continue
            t = t + (inst["svc"][a] if a != 0 else 0) + d
            t = max(t, inst["tw"][b][0])
            if t > inst["tw"][b][1] + eps:
                errors.append(f"route {k}: node {b} starts at {t:.2f} after due {inst['tw'][b][1]}")
            if inst["kind"] == "pdptw" and b != 0:
                load += inst["demand"][b]
                if load > inst["cap"] or load < 0:
                    errors.append(f"route {k}: load {load} out of [0, {inst['cap']}] at node {b}")
                p_sib, _d_sib = inst["pair"][b]
                if p_sib == 0:
                    on_board.add(b)
                elif p_sib not in on_board:
                    errors.append(f"route {k}: delivery {b} before its pickup {p_sib}")
    return errors, total


def read_sol(path: Path) -> list[list[int]]:
    routes = []
    for ln in path.read_text().splitlines():
        m = re.match(r"Route\s*#?\s*\d+\s*:\s*(.*)", ln)
        if m:
            routes.append([int(x) for x in m.group(1).split()])
    return routes


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("instance", type=Path)
    ap.add_argument("solution", type=Path)
    ap.add_argument("--convention", choices=["dimacs", "exact", "nint"])
    a = ap.parse_args()
    inst = parse_instance(a.instance)
    conv = a.convention or (
        "nint" if inst["kind"] == "cvrp" else "exact" if inst["kind"] == "pdptw" else "dimacs"
    )
    errors, cost = check(inst, read_sol(a.solution), conv)
    print(
        f"{a.instance.stem}: {'feasible' if not errors else 'INFEASIBLE'}, cost {cost:.4f} ({conv})"
    )
    for e in errors[:20]:
        print("  " + e)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
