"""The Dhaka day one job per parcel: 3,000 pickup-delivery pairs between the city's 32 offices
as a Li & Lim file, solved through the CLI (`python -m routing solve`) and by VROOM, beside the
same day written one job per office pair. Every solution is checked by bench/check_sol.py.

    .venv/bin/python bench/bench_parcels.py [--parcels 3000] [--seconds 10]

The files: coordinates in units of one second of driving at 15 km/h (4.17 m) from the hub,
windows in seconds after midnight (office hours; the vans' shift 08:30-17:30 at the depot),
6 s of handling per parcel at each end, vans of 220 parcels. The office-pair file has one pair
per intake -> delivery office pair with the summed demand and handling: the same day, which the
core's merging of co-located identical jobs (routing/merge.py) should solve as well.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import check_sol  # noqa: E402
import dhaka_day  # noqa: E402
import peers  # noqa: E402

from routing.io.bench import read_instance  # noqa: E402
from routing.matrix import hhmm  # noqa: E402

UNIT_M = 15_000 / 3600  # one second of driving at 15 km/h
HANDLE_S = 6
CAPACITY = 220
CAP_FACTOR = 12  # VROOM's answer is waited for this many times the time limit (at least 60 s)


def write_day(path: Path, parcels: int, seed: int, per_parcel: bool) -> int:
    """The city day as a Li & Lim file; returns the number of pickup-delivery pairs."""
    hub, intake, delivery, vans = dhaka_day.network("city")
    sites = {s.id: s for s in (*intake, *delivery)}
    lat0, lon0 = hub.lat, hub.lon

    def xy(lat: float, lon: float) -> tuple[float, float]:
        x = (lon - lon0) * 111_320 * math.cos(math.radians(lat0)) / UNIT_M
        y = (lat - lat0) * 110_574 / UNIT_M
        return round(x, 1), round(y, 1)

    rows = [(0, *xy(lat0, lon0), 0, hhmm("08:30"), hhmm("17:30"), 0, 0, 0)]
    pairs = 0
    for c in dhaka_day.consignments(intake, delivery, parcels, seed):
        o, d = sites[c.origin], sites[c.destination]
        for n in [1] * c.parcels if per_parcel else [c.parcels]:
            k = len(rows)
            ow, dw = o.window, d.window
            rows.append((k, *xy(o.lat, o.lon), n, ow.start_s, ow.end_s, HANDLE_S * n, 0, k + 1))
            rows.append((k + 1, *xy(d.lat, d.lon), -n, dw.start_s, dw.end_s, HANDLE_S * n, k, 0))
            pairs += 1
    lines = [f"{len(vans)}\t{CAPACITY}\t1"]
    lines += ["\t".join(str(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return pairs


def judge(path: Path, routes: list[list[int]]) -> tuple[str, float, int]:
    """check_sol's verdict, the km driven and the vans used."""
    inst = check_sol.parse_instance(path)
    errors, cost = check_sol.check(inst, routes, "exact")
    return ("ok" if not errors else f"{len(errors)} errors"), cost * UNIT_M / 1000, len(routes)


def ours_cli(path: Path, seconds: float) -> tuple[list[list[int]], float]:
    sol = path.with_suffix(".sol")
    t0 = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "routing",
            "solve",
            str(path),
            "--time-limit",
            str(seconds),
            "--workers",
            "2",
            "--out",
            str(sol),
            "--quiet",
        ],
        check=False,
        cwd=HERE.parent,
    )
    wall = time.monotonic() - t0
    routes = [
        [int(x) for x in line.split(":", 1)[1].split()]
        for line in sol.read_text().splitlines()
        if line.startswith("Route")
    ]
    return routes, wall


def vroom(path: Path, seconds: float) -> tuple[list[list[int]], float]:
    """VROOM in a process of its own, given CAP_FACTOR times the time limit to answer: on the
    one-job-per-parcel file it does not stop at its timeout (its construction heuristics run
    before the timeout is looked at)."""
    t0 = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--vroom", str(path), str(seconds)],
            capture_output=True,
            text=True,
            timeout=max(60.0, CAP_FACTOR * seconds),
            check=True,
        )
    except subprocess.TimeoutExpired:
        return [], time.monotonic() - t0
    return json.loads(done.stdout.strip().splitlines()[-1]), time.monotonic() - t0


def _vroom_routes(path: Path, seconds: float) -> list[list[int]]:
    # (VROOM refuses the x1000 integer costs of 6,000 nodes as an overflow risk: it gets the
    # file at x10, 0.4 m; check_sol judges its routes in exact arithmetic like ours.)
    problem = read_instance(path, "dimacs")
    steps = peers.vroom(problem, seconds, True)
    ids = problem.meta["node_ids"]
    return [[ids[i] for i in r] for r in peers.locations(problem, steps) if r]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--parcels", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0])
    ap.add_argument("--vroom", nargs=2, metavar=("FILE", "SECONDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.vroom:
        print(json.dumps(_vroom_routes(Path(args.vroom[0]), float(args.vroom[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        days = {}
        for name, per_parcel in (("parcel", True), ("office-pair", False)):
            path = Path(tmp) / f"dhaka-{name}.txt"
            days[name] = (path, write_day(path, args.parcels, args.seed, per_parcel))
        print(
            f"The Dhaka city day, {args.parcels} parcels, 18 vans of {CAPACITY}: one pair per "
            f"parcel ({days['parcel'][1]} pairs) and one per office pair "
            f"({days['office-pair'][1]} pairs)\n"
        )
        print("| day | solver | s | check | vans | km | wall s (read + solve) |")
        print("|---|---|---|---|---|---|---|")
        for sec in args.seconds:
            for day, solver in (
                ("parcel", "ours (CLI)"),
                ("parcel", "VROOM"),
                ("office-pair", "ours (CLI)"),
                ("office-pair", "VROOM"),
            ):
                path = days[day][0]
                routes, wall = (ours_cli if solver.startswith("ours") else vroom)(path, sec)
                if not routes:
                    print(f"| {day} | {solver} | {sec:g} | no answer in {wall:.0f} s | | | |")
                    continue
                verdict, km, vans = judge(path, routes)
                print(
                    f"| {day} | {solver} | {sec:g} | {verdict} | {vans} | {km:.1f} | {wall:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
