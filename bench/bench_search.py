"""Which OR-Tools search wins: our core's configurations one at a time, one process each, on the
same instances and time limit, gap to the best known solution (every solution checked by
bench/check_sol.py).

    .venv/bin/python bench/bench_search.py --seconds 10 --sample 2

Configurations: guided local search from path cheapest arc (OR-Tools' documented recipe) and
from parallel cheapest insertion; OR-Tools' own iterated local search (ils: SISR ruins and
simulated annealing through RoutingModel.SolveWithIteratedLocalSearch) and our ruin and recreate
(rr: SISR's iterations compiled, OR-Tools' descents between them), each from both starts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_routing  # noqa: E402
import check_sol  # noqa: E402
import peers  # noqa: E402

from routing.io.bench import read_instance  # noqa: E402
from routing.solver import SolveOptions, solve  # noqa: E402

CONFIGS = (
    ("gls", "PATH_CHEAPEST_ARC"),
    ("gls", "PARALLEL_CHEAPEST_INSERTION"),
    ("ils", "PARALLEL_CHEAPEST_INSERTION"),
    ("ils", "PATH_CHEAPEST_ARC"),
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("rr", "PATH_CHEAPEST_ARC"),
)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sample", type=int, default=2, help="instances per family")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    table = bench_routing.bks()
    gaps: dict[tuple[str, str], list[float]] = {}
    vehicles: dict[tuple[str, str], list[int]] = {}
    print("| instance | " + " | ".join(f"{m}/{f}" for m, f in CONFIGS) + " |")
    print("|---" * (len(CONFIGS) + 1) + "|")
    for fam, (folder, pattern, objective) in bench_routing.FAMILIES.items():
        files = sorted((bench_routing.VRP / folder).glob(pattern))
        for path in bench_routing.sample(files, args.sample):
            hier = objective == "hier"
            problem = read_instance(path, "exact" if hier else None)
            inst = check_sol.parse_instance(path)
            best, best_veh = table[(path.stem, objective)]
            cells = []
            for meta, first in CONFIGS:
                label = f"{meta}/{first}"
                plan = solve(
                    problem,
                    SolveOptions(
                        time_limit_s=args.seconds,
                        seed=args.seed,
                        strategy=meta,
                        first_solution=first,
                        vehicles_first=hier,
                    ),
                )
                steps = peers.from_plan(problem, plan)
                ids = problem.meta["node_ids"]
                routes = [[ids[i] for i in r] for r in peers.locations(problem, steps) if r]
                errs, cost = check_sol.check(inst, routes, problem.meta["convention"])
                if errs or plan.unassigned:
                    cells.append("infeasible")
                    continue
                gap = 100 * (cost - best) / best
                gaps.setdefault((fam, label), []).append(gap)
                vehicles.setdefault((fam, label), []).append(int(len(routes) == best_veh))
                veh = f" ({len(routes)}/{best_veh} veh)" if hier else ""
                cells.append(f"{gap:.2f}{veh}")
            print(f"| {fam}/{path.stem} | " + " | ".join(cells) + " |", flush=True)
    print("\n| family | " + " | ".join(f"{m}/{f}" for m, f in CONFIGS) + " |")
    print("|---" * (len(CONFIGS) + 1) + "|")
    for fam in bench_routing.FAMILIES:
        cells = []
        for meta, first in CONFIGS:
            g = gaps.get((fam, f"{meta}/{first}"), [])
            v = vehicles.get((fam, f"{meta}/{first}"), [])
            hier = bench_routing.FAMILIES[fam][2] == "hier"
            cell = f"{statistics.median(g):.2f}" if g else "-"
            if hier and v:
                cell += f" ({sum(v)}/{len(v)} BKS veh)"
            cells.append(cell)
        print(f"| {fam} median gap % | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
