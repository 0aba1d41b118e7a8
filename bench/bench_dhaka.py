"""Dhaka benchmark: the seeded van day (18 vans, 11 -> 21 offices, ~220 office pairs, a few
thousand parcels, office hours, a lunch break, time-of-day speeds) on the city network and on
the far-suburb stress case, the city's hub-and-spoke day, a re-plan of the city day at 13:00
(bench/replan_day.py) and a 300-stop last-mile round, planned by our core, a plain OR-Tools
configuration and VROOM (and PyVRP), each result
re-timed by routing.plan.schedule with the time-of-day speeds: what cannot be kept is dropped
and counted, so every solver is judged by the same clock.

    .venv/bin/python bench/bench_dhaka.py [--parcels 3000] [--seconds 10 60]
        [--networks city far-suburb] [--fixed-km 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import dhaka_day  # noqa: E402
import peers  # noqa: E402
import replan_day  # noqa: E402

from routing import modes  # noqa: E402
from routing.model import Problem  # noqa: E402
from routing.plan import Plan  # noqa: E402
from routing.solver import SolveOptions, build_plan, solve  # noqa: E402


def evaluate(problem: Problem, routes: peers.Routes) -> dict[str, float]:
    """The routes re-timed on the real clock. Our core's routes (ours, ours-mean, plain
    OR-Tools) come back already re-timed: what that dropped is in its stats, taken here."""
    dropped_before = int(peers.LAST_STATS.get("dropped_when_timed", 0))
    peers.LAST_STATS.clear()
    plan = build_plan(problem, routes, {})
    assert plan.check(problem) == [], plan.check(problem)[:3]
    parcels = {s.id: s.amount[1] for s in (*problem.services, *problem.shipments)}
    served = sum(
        parcels[v.job_id]
        for r in plan.routes
        for v in r.visits
        if v.kind in ("service", "delivery") and v.job_id
    )
    stops = 0  # places a van stops at: visits to the same place in a row count once
    for r in plan.routes:
        places = [v.location for v in r.visits if v.kind in ("service", "pickup", "delivery")]
        stops += sum(1 for i, p in enumerate(places) if i == 0 or places[i - 1] != p)
    return {
        "parcels": served,
        "stops": stops,
        "of": sum(parcels.values()),
        "km": plan.distance_m / 1000,
        "vans": plan.vehicles_used,
        "jobs_dropped": len(plan.unassigned),
        # jobs the solver routed that the real clock could not keep
        "retimed_out": sum(1 for u in plan.unassigned if u.code == "late_when_timed")
        + dropped_before,
    }


def same_jobs(problem: Problem, routes: peers.Routes) -> Problem:
    """``problem`` with only the shipments that ``routes`` still serve once re-timed."""
    plan = build_plan(problem, routes, {})
    served = {v.job_id for r in plan.routes for v in r.visits if v.kind == "delivery"}
    return replace(problem, shipments=tuple(s for s in problem.shipments if s.id in served))


def row(name: str, sec: float, r: dict[str, float], wall: float) -> str:
    km_per_100 = 100 * r["km"] / max(1, r["parcels"])
    return (
        f"| {name} | {sec:g} | {int(r['parcels'])}/{int(r['of'])} | {r['km']:.1f} | {km_per_100:.2f} | "
        f"{int(r['vans'])} | {int(r.get('stops', 0))} | {int(r.get('retimed_out', 0))} | "
        f"{wall:.1f} |"
    )


HEADER = (
    "| solver | s | parcels delivered | km | km per 100 parcels | vans | stops "
    "| jobs dropped when re-timed | wall s |\n|---|---|---|---|---|---|---|---|---|"
)


def van_days(
    args: argparse.Namespace,
    network: str,
    hub: modes.Site,
    intake: list[modes.Site],
    delivery: list[modes.Site],
    vans: list[modes.Van],
) -> None:
    """(a) the van day, and on the city network (a') and (b)."""
    cons = dhaka_day.consignments(intake, delivery, args.parcels, args.seed)
    params = modes.DayParams(fixed_cost=round(args.fixed_km * modes.DayParams.cost_per_km))
    day = modes.van_day(hub, intake, delivery, vans, cons, params)
    title = NETWORK_TITLES[network]
    print(
        f"== {title}: {len(intake)} intake and {len(delivery)} delivery offices; van day: "
        f"{len(day.shipments)} shipments over {len({(c.origin, c.destination) for c in cons})} "
        f"office pairs, {args.parcels} parcels, {len(day.vehicles)} vans\n"
    )
    print("(a) van day, intake -> delivery as shipments\n" + HEADER)
    kept: dict[float, Problem] = {}
    published: peers.Routes | None = None
    for sec in args.seconds:
        for name in args.solvers:
            t0 = time.monotonic()
            routes = peers.SOLVERS[name](day, sec, False)
            first = peers.LAST_STATS.get("first_plan_s") if name == "ours" else None
            print(
                row(name, sec, evaluate(day, routes), time.monotonic() - t0)
                + (f"  first plan after {first:.2f} s" if first is not None else ""),
                flush=True,
            )
            if name == "vroom":
                kept[sec] = same_jobs(day, routes)
            if name == "ours" and published is None:
                published = routes
    if network != "city":
        print()
        return
    if published is not None:
        replan(args, day, build_plan(day, published, {}), (hub, intake, delivery, vans))
    if kept and "ours" in args.solvers:
        print(
            "\n(a') the same van day cut to the shipments VROOM kept: both solvers again\n" + HEADER
        )
        for sec, sub in kept.items():
            for name in ("ours", "vroom"):
                t0 = time.monotonic()
                routes = peers.SOLVERS[name](sub, sec, False)
                print(row(name, sec, evaluate(sub, routes), time.monotonic() - t0), flush=True)

    collect, deliver = modes.hub_and_spoke(hub, intake, delivery, vans, cons)
    print(
        "\n(b) hub and spoke: collection to the hub, then delivery runs (ours with reloads;\n"
        "VROOM and PyVRP as modelled here, without)\n" + HEADER
    )
    for sec in args.seconds:
        for name in [n for n in args.solvers if n in ("ours", "vroom", "pyvrp")]:
            t0 = time.monotonic()
            a = evaluate(collect, peers.SOLVERS[name](collect, sec, False))
            b = evaluate(deliver, peers.SOLVERS[name](deliver, sec, False))
            both = {
                "parcels": min(a["parcels"], b["parcels"]),
                "of": a["of"],
                "km": a["km"] + b["km"],
                "vans": max(a["vans"], b["vans"]),
                "stops": a["stops"] + b["stops"],
                "jobs_dropped": a["jobs_dropped"] + b["jobs_dropped"],
                "retimed_out": a["retimed_out"] + b["retimed_out"],
            }
            print(
                row(f"{name} (collect + deliver)", sec, both, time.monotonic() - t0)
                + f"  collected {int(a['parcels'])}, delivery runs carry {int(b['parcels'])}",
                flush=True,
            )
    print()


def replan(
    args: argparse.Namespace,
    day: Problem,
    published: Plan,
    network: tuple[modes.Site, list[modes.Site], list[modes.Site], list[modes.Van]],
) -> None:
    """(d) ours' plan of (a), published, re-planned at 13:00 (bench/replan_day.py)."""
    hub, intake, delivery, vans = network
    late = dhaka_day.consignments(intake, delivery, args.late_parcels, args.seed + 1, pairs=60)
    m = replan_day.midday(day, published, 13 * 3600, late, hub, intake, delivery, vans)
    parcels = {s.id: s.amount[1] for s in m.problem.shipments}
    print(
        f"\n(d) re-plan at 13:00 of ours' plan above: {m.done_stops} of {m.all_stops} stops made, "
        f"{replan_day.LOCKED_ROUTES} routes locked, {args.late_parcels} parcels accepted since; "
        f"{len(m.problem.shipments)} shipments ({sum(parcels.values())} parcels) left\n"
        "| re-plan | s | first plan s | parcels routed | km | loads moved to another van "
        "| locked routes untouched | plan.check | wall s |\n|---|---|---|---|---|---|---|---|---|"
    )
    variants = (
        ("afresh", m.problem),
        (
            f"from the published plan, {replan_day.MOVE_COST // 1000} km to move a load",
            replace(m.problem, initial=m.start, move_cost=replan_day.MOVE_COST),
        ),
    )
    for name, problem in variants:
        t0 = time.monotonic()
        plan = solve(problem, SolveOptions(time_limit_s=args.replan_seconds, workers=2))
        wall = time.monotonic() - t0
        errors = plan.check(problem)
        routed = sum(
            parcels[v.job_id]
            for r in plan.routes
            for v in r.visits
            if v.kind == "delivery" and v.job_id
        )
        print(
            f"| {name} | {args.replan_seconds:g} | {plan.stats.get('first_plan_s')} | "
            f"{routed}/{sum(parcels.values())} | {plan.distance_m / 1000:.1f} | "
            f"{replan_day.moved(m, plan)} | {'yes' if replan_day.untouched(m, plan) else 'NO'} | "
            f"{'passes' if not errors else f'{len(errors)} errors'} | {wall:.1f} |",
            flush=True,
        )


NETWORK_TITLES = {
    "city": "city network (the service)",
    "far-suburb": "far-suburb network (stress case: the earlier seed, 8 offices 15-40 km out)",
}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--parcels", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0])
    ap.add_argument(
        "--fixed-km",
        type=float,
        default=0.0,
        help="a cost per van used on the van days, in km of driving (default 0: km only)",
    )
    ap.add_argument("--homes", type=int, default=300)
    ap.add_argument("--late-parcels", type=int, default=300, help="accepted after the plan")
    ap.add_argument("--replan-seconds", type=float, default=5.0)
    ap.add_argument(
        "--solvers", nargs="+", default=["ours", "ours-mean", "ortools-plain", "vroom", "pyvrp"]
    )
    ap.add_argument(
        "--networks",
        nargs="+",
        choices=sorted(dhaka_day.NETWORKS),
        default=["city", "far-suburb"],
        help="the city network, and the far-suburb stress case (default: both)",
    )
    args = ap.parse_args()
    for network in args.networks:
        hub, intake, delivery, vans = dhaka_day.network(network)
        van_days(args, network, hub, intake, delivery, vans)
    hub, intake, delivery, vans = dhaka_day.network("city")
    office = next(s for s in delivery if s.id == "MOH")
    homes = dhaka_day.homes(office, args.homes, args.seed)
    riders = [modes.Van(f"R{k + 1}", 300_000, 60) for k in range(6)]
    lm = modes.last_mile(office, homes, riders)
    print(
        f"\n(c) last mile: {args.homes} homes around {office.id}, 6 vans of 60 parcels, 2 reloads each\n"
        + HEADER
    )
    for sec in args.seconds:
        for name in args.solvers:
            t0 = time.monotonic()
            routes = peers.SOLVERS[name](lm, sec, False, **peers.round_options(name))
            print(row(name, sec, evaluate(lm, routes), time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    main()
