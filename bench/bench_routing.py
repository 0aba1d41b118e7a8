"""Routing benchmark: our core against PyVRP, VROOM and a plain OR-Tools configuration on the
standard instances in ../shared/bench/vrp, every solution checked by bench/check_sol.py.

    .venv/bin/pip install pyvrp pyvroom      # peers: an extra of the benchmark only
    .venv/bin/python bench/bench_routing.py --time-limits 10 --sample 4
    .venv/bin/python bench/bench_routing.py --time-limits 10 60 --sample 0   # every instance (hours)

Prints per family and solver the median and worst gap to the best known solution and, for the
hierarchical families, how often the BKS vehicle count was matched. Solvers run one at a time.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import check_sol  # noqa: E402
import peers  # noqa: E402

from routing.io.bench import read_instance, true_cost  # noqa: E402

VRP = HERE.parent.parent / "shared" / "bench" / "vrp"
FAMILIES = {  # family: (folder, pattern, objective)
    "solomon": ("solomon", "*.txt", "dist"),
    "homberger": ("homberger", "*.txt", "hier"),
    "lilim": ("lilim", "*.txt", "hier"),
    "cvrp": ("cvrp", "*.vrp", "dist"),
}


def bks() -> dict[tuple[str, str], tuple[float, int]]:
    out = {}
    for r in csv.DictReader((VRP / "bks.csv").open()):
        out[(r["instance"], r["objective"])] = (float(r["bks_distance"]), int(r["bks_vehicles"]))
    return out


def sample(files: list[Path], n: int) -> list[Path]:
    if n <= 0 or n >= len(files):
        return files
    step = len(files) / n
    return [files[int(k * step)] for k in range(n)]


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    table = bks()
    rows = []
    for fam in args.families:
        folder, pattern, objective = FAMILIES[fam]
        files = sample(sorted((VRP / folder).glob(pattern)), args.sample)
        for path in files:
            conv = "exact" if objective == "hier" else None
            problem = read_instance(path, conv)
            inst = check_sol.parse_instance(path)
            best, best_veh = table[(path.stem, objective)]
            for t in args.time_limits:
                for name in args.solvers:
                    t0 = time.monotonic()
                    try:
                        steps = peers.SOLVERS[name](problem, t, objective == "hier")
                        routes_idx = peers.locations(problem, steps)
                        error = ""
                    except Exception as e:  # a peer that crashes is reported, not fatal
                        routes_idx, error = [], f"{type(e).__name__}: {e}"
                    wall = time.monotonic() - t0
                    ids = problem.meta["node_ids"]
                    routes = [[ids[i] for i in r] for r in routes_idx if r]
                    errs, cost = (
                        check_sol.check(inst, routes, problem.meta["convention"])
                        if routes
                        else (["no feasible solution"], float("nan"))
                    )
                    ok = not errs
                    row = {
                        "family": fam,
                        "instance": path.stem,
                        "objective": objective,
                        "seconds": t,
                        "solver": name,
                        "feasible": ok,
                        "cost": round(cost, 4) if ok else None,
                        "vehicles": len(routes) if ok else None,
                        "bks": best,
                        "bks_vehicles": best_veh,
                        "gap_pct": round(100 * (cost - best) / best, 3) if ok else None,
                        "wall_s": round(wall, 1),
                        "error": error or ("; ".join(errs[:2]) if errs else ""),
                    }
                    assert not ok or abs(cost - true_cost(problem, routes)) < 1e-6
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    return rows


def report(rows: list[dict[str, object]]) -> str:
    lines = [
        "| family | objective | s | solver | median gap % | worst gap % | feasible | BKS vehicles matched |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted(
        {(r["family"], r["objective"], r["seconds"], r["solver"]) for r in rows},
        key=lambda k: (str(k[0]), float(k[2]), str(k[3])),
    )  # type: ignore[arg-type]
    for fam, obj, sec, solver in keys:
        rs = [
            r
            for r in rows
            if (r["family"], r["objective"], r["seconds"], r["solver"]) == (fam, obj, sec, solver)
        ]
        gaps = [float(r["gap_pct"]) for r in rs if r["feasible"]]  # type: ignore[arg-type]
        med = f"{statistics.median(gaps):.2f}" if gaps else "-"
        worst = f"{max(gaps):.2f}" if gaps else "-"
        veh = sum(1 for r in rs if r["feasible"] and r["vehicles"] == r["bks_vehicles"])
        veh_s = f"{veh}/{len(rs)}" if obj == "hier" else "n/a (dist)"
        lines.append(
            f"| {fam} | {obj} | {sec:g} | {solver} | {med} | {worst} | "
            f"{sum(1 for r in rs if r['feasible'])}/{len(rs)} | {veh_s} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--time-limits", type=float, nargs="+", default=[10.0])
    ap.add_argument(
        "--sample", type=int, default=4, help="instances per family, spread over the set (0 = all)"
    )
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    ap.add_argument(
        "--solvers",
        nargs="+",
        default=[s for s in peers.SOLVERS if s != "ours-mean"],
        choices=list(peers.SOLVERS),
    )
    ap.add_argument("--out", type=Path, default=HERE / "out" / "routing.jsonl")
    args = ap.parse_args()
    rows = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    print()
    print(report(rows))


if __name__ == "__main__":
    main()
