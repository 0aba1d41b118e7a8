"""What one local-search descent costs in OR-Tools, operator by operator: the reason ruin and
recreate leaves the path-LNS operators out (docs/routing.md).

    .venv/bin/python bench/bench_operators.py [INSTANCE ...]

For each operator that OR-Tools enables by default, a model of the instance is closed with that
operator alone, a first solution is found and improved by greedy descent, and then one more
descent is timed from that local optimum (the price of proving a local optimum, which every
ruin-and-recreate iteration pays). Also timed: all default operators, all but the two path-LNS
operators (our `rr` set), and the classic moves only. Median of 3 descents; read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # noqa: E402

from routing.io.bench import read_instance  # noqa: E402
from routing.solver import RR_OPERATORS_OFF, SolveOptions, _model  # noqa: E402

VRP = HERE.parent.parent / "shared" / "bench" / "vrp"
DEFAULT = [VRP / "homberger" / "rc1_2_1.txt", VRP / "cvrp" / "X-n237-k14.vrp"]
CLASSIC = ("use_relocate", "use_exchange", "use_two_opt", "use_or_opt", "use_cross")
ON, OFF = 3, 2  # OptionalBoolean BOOL_TRUE, BOOL_FALSE


def descent_ms(path: Path, enabled: set[str]) -> float:
    hier = path.parent.name in ("homberger", "lilim")
    problem = read_instance(path, "exact" if hier else None)
    routing = _model(problem, SolveOptions(vehicles_first=hier)).routing
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    params.time_limit.FromSeconds(60)
    ops = params.local_search_operators
    for f in ops.DESCRIPTOR.fields:
        if getattr(ops, f.name) == ON:
            setattr(ops, f.name, ON if f.name in enabled else OFF)
    solution = routing.SolveWithParameters(params)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        routing.FastSolveFromAssignmentWithParameters(solution, params, False)
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("instances", nargs="*", type=Path, default=DEFAULT)
    args = ap.parse_args()
    ops = pywrapcp.DefaultRoutingSearchParameters().local_search_operators
    default_on = {f.name for f in ops.DESCRIPTOR.fields if getattr(ops, f.name) == ON}
    sets = {f"only {name}": {name} for name in sorted(default_on)}
    sets["all default operators"] = default_on
    sets["default minus path-LNS (rr)"] = default_on - set(RR_OPERATORS_OFF)
    sets["classic moves only"] = set(CLASSIC)
    for path in args.instances:
        print(f"\n{path.stem}: one descent from a local optimum, ms (median of 3)")
        rows = [(label, descent_ms(path, enabled)) for label, enabled in sets.items()]
        base = dict(rows)["classic moves only"]
        for label, ms in sorted(rows, key=lambda r: -r[1]):
            print(f"  {label:72s} {ms:8.1f}  {ms / base:6.1f}x classic")


if __name__ == "__main__":
    main()
