"""What comes after the search on the city van day (routing/squeeze.py, routing/polish.py), side
by side on the same plan: the search's own plan (a run with the fill, and so the squeeze, off),
then the squeeze with the places checked as before this change (each end of a shipment alone,
its load not looked at) and as now (the two ends together and the van's load, before timing),
and the squeeze followed by polish and squeeze in turn, each without a time limit.

    .venv/bin/python bench/bench_squeeze.py [--seconds 8.5] [--parcels 3000] [--seeds 0 1]

Prints, per seed, each step's vans, km, parcels, the routes timed by plan.schedule and the
seconds. In a solve at 10 s these steps share 1 s (routing/solver.py's SQUEEZE_SHARE).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import dhaka_day  # noqa: E402

from routing import fill as filling  # noqa: E402
from routing import modes  # noqa: E402
from routing.model import Problem  # noqa: E402
from routing.plan import Step, sequences_of  # noqa: E402
from routing.solver import SolveOptions, solve  # noqa: E402
from routing.squeeze import settle, squeeze  # noqa: E402

FOREVER = 1e18


def _as_before() -> Callable[[], None]:
    """The fill's checks as they were: each end of a shipment alone, no load; undone by the
    function returned."""
    may_fit, overloads = filling.may_fit, filling.overloads

    def one_end(problem: Problem, places: Any, i: int, stop: Any, then: Any = None) -> bool:
        return may_fit(problem, places, i, stop) if then is None else True

    filling.may_fit = one_end  # type: ignore[assignment]
    filling.overloads = lambda places, amount, capacity: [len(places)] * len(places)  # type: ignore[assignment]

    def undo() -> None:
        filling.may_fit, filling.overloads = may_fit, overloads  # type: ignore[assignment]

    return undo


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=8.5, help="the search (the share at 10 s)")
    ap.add_argument("--parcels", type=int, default=3000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args()
    hub, intake, delivery, vans = dhaka_day.network("city")
    cons = dhaka_day.consignments(intake, delivery, args.parcels, 1)
    day = modes.van_day(hub, intake, delivery, vans, cons, modes.DayParams(fixed_cost=0))
    parcels = {s.id: s.amount[1] for s in day.shipments}
    timed = [0]
    schedule = filling.schedule

    def counted(*a: Any, **k: Any) -> Any:
        timed[0] += 1
        return schedule(*a, **k)

    print("| seed | step | vans | km | parcels | routes timed | seconds |")
    print("|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        plan = solve(day, SolveOptions(time_limit_s=args.seconds, seed=seed, fill=False))
        start = sequences_of(day, plan)
        steps: list[tuple[str, Callable[[list[list[Step]]], list[list[Step]]]]] = [
            ("the search's plan", lambda seqs: seqs),
            ("squeeze, places checked as before", lambda seqs: squeeze(day, seqs, FOREVER)[0]),
            (
                "squeeze, both ends and the load checked",
                lambda seqs: squeeze(day, seqs, FOREVER)[0],
            ),
            (
                "squeeze, then polish and squeeze in turn",
                lambda seqs: settle(day, seqs, FOREVER)[0],
            ),
        ]
        filling.schedule = counted  # type: ignore[assignment]
        try:
            for name, step in steps:
                undo = _as_before() if "as before" in name else lambda: None
                timed[0] = 0
                t0 = time.perf_counter()
                try:
                    seqs = step(start)
                finally:
                    undo()
                took, count = time.perf_counter() - t0, timed[0]
                out = checked_km(day, seqs)
                served = sum(
                    parcels[day.shipments[j].id] for s in seqs for k, j in s if k == "pickup"
                )
                print(
                    f"| {seed} | {name} | {sum(1 for s in seqs if s)} | {out:.1f} | {served:,} "
                    f"| {count:,} | {took:.2f} |",
                    flush=True,
                )
        finally:
            filling.schedule = schedule  # type: ignore[assignment]


def checked_km(problem: Problem, seqs: list[list[Step]]) -> float:
    """The km of ``seqs``, each route checked by plan.schedule (a step must leave them valid)."""
    km = 0
    for k, s in enumerate(seqs):
        if s:
            route, issues = filling.schedule(problem, problem.vehicles[k], s)
            assert not issues, issues[:2]
            km += route.distance_m
    return km / 1000


if __name__ == "__main__":
    main()
