"""Command line: ``python -m routing solve INSTANCE``, ``python -m routing plan PROBLEM.json`` and
``python -m routing compile`` (the search's machine code, ahead of the first solve)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from routing import light
from routing.errors import RoutingError
from routing.io.bench import read_instance, route_node_ids, true_cost, write_sol
from routing.io.native import problem_from_dict
from routing.solver import SolveOptions, solve


def _progress(quiet: bool) -> Any:
    def show(p: dict[str, Any]) -> None:
        if not quiet:
            print(f"  {p['seconds']:7.2f}s  cost {p['cost']}  ({p['config']})", file=sys.stderr)

    return show


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m routing", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser(
        "solve", help="solve a Solomon, Gehring-Homberger, Li & Lim or CVRPLIB instance"
    )
    s.add_argument("instance", type=Path)
    s.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
    s.add_argument("--out", type=Path, help="write the VRPLIB .sol here")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=1, help="portfolio processes (default 1)")
    s.add_argument(
        "--objective", choices=["dist", "hier"], help="default: dist (Solomon, X), hier (Li & Lim)"
    )
    s.add_argument(
        "--strategy", default="auto", choices=["auto", "rr", "gls", "ils", "tabu", "greedy"]
    )
    s.add_argument("--quiet", action="store_true")
    p = sub.add_parser(
        "plan", help="solve a problem in DakGhor's JSON format; prints the plan JSON"
    )
    p.add_argument("problem", type=Path)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", type=Path, help="write the plan JSON here instead of stdout")
    p.add_argument("--quiet", action="store_true")
    sub.add_parser(
        "compile",
        help="compile the search's machine code into numba's cache (make install runs it; "
        "a first solve would otherwise spend tens of seconds of its time limit on it)",
    )
    args = ap.parse_args(argv)
    if args.cmd == "compile":
        t0 = time.monotonic()
        light.warm()
        print(
            f"routing: search compiled (or loaded from the cache) in {time.monotonic() - t0:.1f} s"
        )
        return 0
    try:
        if args.cmd == "solve":
            objective = args.objective
            is_lilim = (
                args.instance.suffix != ".vrp"
                and len(args.instance.read_text().split("\n", 1)[0].split()) == 3
            )
            if objective is None:
                objective = (
                    "hier" if is_lilim or args.instance.parent.name == "homberger" else "dist"
                )
            problem = read_instance(args.instance, None if objective == "dist" else "exact")
            opts = SolveOptions(
                time_limit_s=args.time_limit,
                seed=args.seed,
                workers=args.workers,
                strategy=args.strategy,
                vehicles_first=objective == "hier",
            )
            plan = solve(problem, opts, _progress(args.quiet))
            violations = plan.check(problem)
            routes = [r for r in route_node_ids(problem, plan) if r]
            print(
                f"{problem.name}: {len(routes)} routes, cost {true_cost(problem, routes):.4f}, "
                f"unassigned {len(plan.unassigned)}, violations {len(violations)}"
            )
            for v in violations[:10]:
                print(f"  violation: {v}", file=sys.stderr)
            if args.out:
                args.out.write_text(write_sol(problem, plan))
            return 1 if violations or plan.unassigned else 0
        problem = problem_from_dict(json.loads(args.problem.read_text()))
        plan = solve(
            problem,
            SolveOptions(time_limit_s=args.time_limit, seed=args.seed, workers=args.workers),
            _progress(args.quiet),
        )
        out = json.dumps({**plan.to_dict(), "violations": plan.check(problem)}, indent=1)
        if args.out:
            args.out.write_text(out)
        else:
            print(out)
        return 0
    except (RoutingError, OSError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
