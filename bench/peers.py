"""The peers the routing core is measured against, fed the same integer data as ours:
PyVRP, VROOM (pyvroom) and a plain OR-Tools configuration.

Each solver returns one list of steps per vehicle of the Problem, in the Problem's vehicle
order: ("service", i) / ("pickup", i) / ("delivery", i) with i the index of the job, so that
any result can be re-timed and checked by routing.plan.schedule on the vehicle that drives it.
Jobs left out simply do not appear."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from routing import modes
from routing.model import Problem
from routing.plan import Plan, Step, sequences_of
from routing.solver import SolveOptions, planning_factor, solve

BIG_FIXED = 1_000_000


def planning_durations(problem: Problem) -> list[list[int]]:
    """The durations every solver plans with: the matrix at the profile's mean over the shifts,
    the same figure our core uses, so that no peer plans at free-flow speed."""
    f = planning_factor(problem)
    return [[x * f // 100 for x in row] for row in problem.duration_s]


Routes = list[list[Step]]
# The stats of the last plan our core made (ours, ours-mean, ortools-plain): its routes come back
# with what the re-timing dropped already taken out, so bench_dhaka reads that count here.
LAST_STATS: dict[str, Any] = {}


def from_plan(problem: Problem, plan: Plan) -> Routes:
    return sequences_of(problem, plan)


def _core(problem: Problem, **options: Any) -> Routes:
    """Routes from our core with ``options``; its stats are kept in LAST_STATS."""
    plan = solve(problem, SolveOptions(**options))
    LAST_STATS.clear()
    LAST_STATS.update(plan.stats)
    return from_plan(problem, plan)


def ours(
    problem: Problem, seconds: float, hier: bool, seed: int = 0, workers: int = 2, **options: Any
) -> Routes:
    return _core(
        problem, time_limit_s=seconds, seed=seed, workers=workers, vehicles_first=hier, **options
    )


def round_options(name: str) -> dict[str, Any]:
    """What a solver is given on a round of homes: ours, the options DakGhor's rounds are
    planned with (``breaks``: routing.modes.ROUND_BREAKS); the peers, nothing more."""
    return {"breaks": modes.ROUND_BREAKS} if name == "ours" else {}


def ours_mean(problem: Problem, seconds: float, hier: bool, seed: int = 0) -> Routes:
    """Our core as it planned before the clock: static durations at the shifts' mean speed,
    the break off the end of the shift, no fill."""
    return _core(
        problem,
        time_limit_s=seconds,
        seed=seed,
        workers=2,
        vehicles_first=hier,
        time_model="mean",
        fill=False,
    )


def ortools_plain(problem: Problem, seconds: float, hier: bool, seed: int = 0) -> Routes:
    """What a planner gets from OR-Tools' documented recipe: path cheapest arc, then GLS, on
    static durations at the shifts' mean speed."""
    return _core(
        problem,
        time_limit_s=seconds,
        time_model="mean",
        fill=False,
        seed=seed,
        workers=1,
        strategy="gls",
        first_solution="PATH_CHEAPEST_ARC",
        vehicles_first=hier,
    )


def pyvrp(problem: Problem, seconds: float, hier: bool, seed: int = 0) -> Routes:
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    m = Model()
    locs = [m.add_location(x=0, y=0, name=str(k)) for k in range(len(problem.locations))]
    v0 = problem.vehicles[0]
    depot = m.add_depot(locs[v0.start], tw_early=v0.shift.start_s, tw_late=v0.shift.end_s)
    caps = sorted({v.capacity for v in problem.vehicles})
    for cap in caps:
        count = sum(1 for v in problem.vehicles if v.capacity == cap)
        m.add_vehicle_type(
            num_available=count,
            capacity=list(cap),
            start_depot=depot,
            end_depot=depot,
            tw_early=v0.shift.start_s,
            tw_late=v0.shift.end_s,
            fixed_cost=BIG_FIXED if hier else 0,
        )
    big = 2**62
    for s in problem.services:
        w = s.stop.window
        m.add_client(
            locs[s.stop.location],
            delivery=list(s.amount),
            service_duration=s.stop.service_s,
            tw_early=w.start_s if w else 0,
            tw_late=w.end_s if w else big,
            required=s.penalty is None,
            prize=s.penalty or 0,
        )
    for sh in problem.shipments:
        pw, dw = sh.pickup.window, sh.delivery.window
        m.add_shipment(
            locs[sh.pickup.location],
            locs[sh.delivery.location],
            pickup_tw_early=pw.start_s if pw else 0,
            pickup_tw_late=pw.end_s if pw else big,
            pickup_service_duration=sh.pickup.service_s,
            delivery_tw_early=dw.start_s if dw else 0,
            delivery_tw_late=dw.end_s if dw else big,
            delivery_service_duration=sh.delivery.service_s,
            amount=list(sh.amount),
            required=sh.penalty is None,
            prize=sh.penalty or 0,
        )
    dur = planning_durations(problem)
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            m.add_edge(a, b, distance=problem.distance_m[i][j], duration=dur[i][j])
    res = m.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    if not res.is_feasible():
        return []
    routes: Routes = [[] for _ in problem.vehicles]
    free = {cap: [k for k, v in enumerate(problem.vehicles) if v.capacity == cap] for cap in caps}
    for r in res.best.routes():
        steps: list[Step] = []
        for act in r.schedule():
            if act.is_depot():
                if steps and steps[-1][0] != "reload":
                    steps.append(("reload", -1))  # back at the depot mid-route: a reload
                continue
            if act.is_shipment():
                steps.append(("pickup" if act.is_pickup() else "delivery", act.idx))
            else:
                steps.append(("service", act.idx))
        while steps and steps[-1][0] == "reload":
            steps.pop()  # the final return is the route's end, not a reload
        routes[free[caps[r.vehicle_type()]].pop(0)] = steps
    return routes


def vroom(problem: Problem, seconds: float, hier: bool, seed: int = 0) -> Routes:
    import vroom as vr

    inp = vr.Input()
    inp.set_durations_matrix(profile="car", matrix_input=planning_durations(problem))
    inp.set_costs_matrix(profile="car", matrix_input=[list(r) for r in problem.distance_m])
    for k, v in enumerate(problem.vehicles):
        inp.add_vehicle(
            vr.Vehicle(
                id=k + 1,
                start=v.start,
                end=v.end,
                capacity=list(v.capacity),
                time_window=vr.TimeWindow(v.shift.start_s, v.shift.end_s),
                costs=vr.VehicleCosts(fixed=BIG_FIXED if hier else 0),
            )
        )
    jobs = []
    for k, s in enumerate(problem.services):
        tw = [vr.TimeWindow(s.stop.window.start_s, s.stop.window.end_s)] if s.stop.window else []
        jobs.append(
            vr.Job(
                id=k + 1,
                location=s.stop.location,
                default_service=s.stop.service_s,
                delivery=list(s.amount),
                time_windows=tw,
            )
        )
    if jobs:
        inp.add_job(jobs)
    for k, sh in enumerate(problem.shipments):

        def step(stop, sid):  # type: ignore[no-untyped-def]
            tw = [vr.TimeWindow(stop.window.start_s, stop.window.end_s)] if stop.window else []
            return vr.ShipmentStep(
                id=sid, location=stop.location, default_service=stop.service_s, time_windows=tw
            )

        inp.add_shipment(
            step(sh.pickup, 2 * k + 1),
            step(sh.delivery, 2 * k + 2),
            amount=vr.Amount(list(sh.amount)),
        )
    sol = inp.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds))
    routes: Routes = [[] for _ in problem.vehicles]
    for vid, grp in sol.routes.groupby("vehicle_id", sort=True):
        steps: list[Step] = []
        for t, jid in zip(grp["type"], grp["id"], strict=True):
            if t == "job":
                steps.append(("service", int(jid) - 1))
            elif t in ("pickup", "delivery"):
                steps.append((t, (int(jid) - 1) // 2))
        routes[int(vid) - 1] = steps
    return routes


SOLVERS = {
    "ours": ours,
    "ours-mean": ours_mean,
    "ortools-plain": ortools_plain,
    "pyvrp": pyvrp,
    "vroom": vroom,
}


def locations(problem: Problem, routes: Routes) -> list[list[int]]:
    """Routes as location indices (for the benchmark instances' node numbers)."""
    out = []
    for r in routes:
        seq = []
        for kind, j in r:
            if kind == "service":
                seq.append(problem.services[j].stop.location)
            elif kind == "pickup":
                seq.append(problem.shipments[j].pickup.location)
            elif kind == "delivery":
                seq.append(problem.shipments[j].delivery.location)
        if seq:
            out.append(seq)
    return out
