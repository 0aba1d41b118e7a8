"""The fill (routing/fill.py) on bench_dhaka's last-mile round: the left-over homes of a 10 s
search put back on the real clock, with the gaps that cannot be on time (``may_fit``) or cannot
take the load (``overloads``) skipped before timing and, side by side on the same plan, with
every candidate gap timed.

    .venv/bin/python bench/bench_fill.py [--seconds 10] [--homes 300]

Prints, for each way, the homes put back, the routes timed by plan.schedule and the seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import dhaka_day  # noqa: E402

from routing import fill as filling  # noqa: E402
from routing import modes  # noqa: E402
from routing.plan import sequences_of  # noqa: E402
from routing.solver import SolveOptions, solve  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=10.0, help="the search before the fill")
    ap.add_argument("--homes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    _, _, delivery, _ = dhaka_day.network("city")
    office = next(s for s in delivery if s.id == "MOH")
    riders = [modes.Van(f"R{k + 1}", 300_000, 60) for k in range(6)]
    problem = modes.last_mile(office, dhaka_day.homes(office, args.homes, args.seed), riders)
    plan = solve(problem, SolveOptions(time_limit_s=args.seconds, workers=2, fill=False))
    index = {s.id: i for i, s in enumerate(problem.services)}
    left = [("service", index[u.job_id]) for u in plan.unassigned]
    print(f"{args.homes} homes, {len(left)} left out by the search ({args.seconds:g} s)\n")
    print("| fill | homes put back | routes timed | seconds |\n|---|---|---|---|")
    timed = [0]
    schedule = filling.schedule

    def counted(*a: Any, **k: Any) -> Any:
        timed[0] += 1
        return schedule(*a, **k)

    may_fit, overloads = filling.may_fit, filling.overloads

    def no_load_check(places: Any, amount: Any, capacity: Any) -> list[int]:
        return [len(places)] * len(places)

    filling.schedule = counted  # type: ignore[assignment]
    try:
        for name, check, load in (
            ("every gap timed", lambda *a: True, no_load_check),
            ("gaps that cannot be on time or hold the load skipped", may_fit, overloads),
        ):
            filling.may_fit, filling.overloads = check, load  # type: ignore[assignment]
            timed[0] = 0
            t0 = time.perf_counter()
            _, n = filling.fill(problem, sequences_of(problem, plan), left, time.monotonic() + 600)
            print(f"| {name} | {n} | {timed[0]:,} | {time.perf_counter() - t0:.2f} |")
    finally:
        filling.schedule, filling.may_fit = schedule, may_fit  # type: ignore[assignment]
        filling.overloads = overloads  # type: ignore[assignment]


if __name__ == "__main__":
    main()
