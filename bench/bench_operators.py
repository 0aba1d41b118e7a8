"""What one local-search descent costs in OR-Tools, operator by operator: the reason ruin and
recreate leaves the path-LNS operators out (docs/routing.md).

    .venv/bin/python bench/bench_operators.py [INSTANCE ...]
    .venv/bin/python bench/bench_operators.py dhaka     # the seeded city van day (bench_dhaka)
    .venv/bin/python bench/bench_operators.py lastmile  # its 300-home last-mile round

For each operator that OR-Tools enables by default, a model of the instance is closed with that
operator alone, a first solution is found and improved by greedy descent, and then one more
descent is timed from that local optimum (the price of proving a local optimum, which every
ruin-and-recreate iteration pays). Also timed: all default operators, all but the two path-LNS
operators (our `rr` set), that set without the full pair relocation (what `rr` uses above
routing.ruin.PAIR_RELOCATE_UP_TO nodes), and the classic moves only. Median of 3 descents; read
the ratios. The last column is the first solution with its greedy descent, in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import dhaka_day  # noqa: E402
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # noqa: E402

from routing import modes  # noqa: E402
from routing.io.bench import read_instance  # noqa: E402
from routing.model import Problem  # noqa: E402
from routing.solver import (  # noqa: E402
    INSERTION_ALL_UP_TO,
    INSERTION_MIN_NEIGHBOURS,
    INSERTION_NEIGHBOURS,
    RR_OPERATORS_OFF,
    SolveOptions,
    _model,
)

VRP = HERE.parent.parent / "shared" / "bench" / "vrp"
DEFAULT = [str(VRP / "homberger" / "rc1_2_1.txt"), str(VRP / "cvrp" / "X-n237-k14.vrp")]
CLASSIC = ("use_relocate", "use_exchange", "use_two_opt", "use_or_opt", "use_cross")
ON, OFF = 3, 2  # OptionalBoolean BOOL_TRUE, BOOL_FALSE


def instance(name: str) -> tuple[Problem, bool]:
    """The problem and whether vehicles count first: a benchmark file, ``dhaka`` (the seeded
    city van day of bench/bench_dhaka.py: 3,000 parcels, 18 vans, the clock) or ``lastmile``
    (its last-mile round: 300 homes with windows, 6 riders with reloads)."""
    if name in ("dhaka", "lastmile"):
        hub, intake, delivery, vans = dhaka_day.network("city")
        if name == "lastmile":  # bench_dhaka's (c): 300 homes around MOH, 6 riders, reloads
            office = next(s for s in delivery if s.id == "MOH")
            riders = [modes.Van(f"R{k + 1}", 300_000, 60) for k in range(6)]
            return modes.last_mile(office, dhaka_day.homes(office, 300, 1), riders), False
        cons = dhaka_day.consignments(intake, delivery, 3000, 1)
        return modes.van_day(hub, intake, delivery, vans, cons), False
    path = Path(name)
    hier = path.parent.name in ("homberger", "lilim")
    return read_instance(path, "exact" if hier else None), hier


def descent_ms(name: str, enabled: set[str]) -> tuple[float, float]:
    """One descent from a local optimum in ms (median of 3), and the seconds the first
    solution and the greedy descent to that local optimum took."""
    problem, hier = instance(name)
    routing = _model(problem, SolveOptions(vehicles_first=hier)).routing
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    if routing.Size() > INSERTION_ALL_UP_TO:  # as the solver starts above that size
        gci = params.global_cheapest_insertion_first_solution_parameters
        gci.neighbors_ratio, gci.min_neighbors = INSERTION_NEIGHBOURS, INSERTION_MIN_NEIGHBOURS
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    params.time_limit.FromSeconds(60)
    ops = params.local_search_operators
    for f in ops.DESCRIPTOR.fields:
        if getattr(ops, f.name) == ON:
            setattr(ops, f.name, ON if f.name in enabled else OFF)
    t0 = time.perf_counter()
    solution = routing.SolveWithParameters(params)
    first_s = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        routing.FastSolveFromAssignmentWithParameters(solution, params, False)
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times), first_s


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("instances", nargs="*", default=DEFAULT, help="files, dhaka or lastmile")
    args = ap.parse_args()
    ops = pywrapcp.DefaultRoutingSearchParameters().local_search_operators
    default_on = {f.name for f in ops.DESCRIPTOR.fields if getattr(ops, f.name) == ON}
    sets = {f"only {name}": {name} for name in sorted(default_on)}
    sets["all default operators"] = default_on
    sets["default minus path-LNS (rr)"] = default_on - set(RR_OPERATORS_OFF)
    sets["rr minus full pair relocation (rr above 300 nodes)"] = sets[
        "default minus path-LNS (rr)"
    ] - {"use_relocate_pair"}
    sets["classic moves only"] = set(CLASSIC)
    for name in args.instances:
        print(f"\n{Path(name).stem}: one descent from a local optimum, ms (median of 3)")
        rows = [(label, *descent_ms(name, enabled)) for label, enabled in sets.items()]
        base = {label: ms for label, ms, _ in rows}["classic moves only"]
        print(f"  {'operators':72s} {'ms':>8s}  {'':>14s}  first solution + descent")
        for label, ms, first_s in sorted(rows, key=lambda r: -r[1]):
            print(f"  {label:72s} {ms:8.1f}  {ms / base:6.1f}x classic  {first_s:6.1f} s")


if __name__ == "__main__":
    main()
