"""The solver: it chooses sequences; ``plan.schedule`` times them, so every plan it returns
passes ``plan.check``.

Search (routing/search.py, with OR-Tools): a first solution by insertion, then OR-Tools' own
iterated local search ("ils": SISR ruins, simulated annealing, through
``SolveWithIteratedLocalSearch``), ruin and recreate ("rr": SISR's iterations compiled with numba,
a recreate that checks windows, pairs and capacities, record-to-record acceptance, fleet
minimisation, OR-Tools' local search to descend within a share of the time; routing/light.py,
routing/sisr.py, routing/kernel.py; with reloads OR-Tools reinserts, routing/ruin.py), or
OR-Tools' guided local search ("gls"). ``workers`` > 1 runs a portfolio of configurations in
separate processes (one per core). Each configuration's plan is then finished on the real clock:
vans emptied where the search's clock was cautious (routing/squeeze.py), left-out jobs put where
there is room (routing/fill.py); the best is kept, with a re-plan's initial plan as a candidate
too. Co-located identical jobs are solved as one (routing/merge.py). docs/routing.md has the
measurements behind these choices.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from dataclasses import replace
from typing import Any

from routing import locks
from routing.assemble import build_plan
from routing.fill import fill
from routing.merge import Merged, merge
from routing.model import Problem
from routing.ortools_model import SolveOptions, _model, planning_factor
from routing.plan import Plan, Step, job_keys, longest_prefix, schedule, sequences_of
from routing.replan import vehicles_of
from routing.ruin import RR_OPERATORS_OFF
from routing.search import (
    INSERTION_ALL_UP_TO,
    INSERTION_MIN_NEIGHBOURS,
    INSERTION_NEIGHBOURS,
    Progress,
    _solve_once,
    _steps,
    _worker,
)
from routing.squeeze import squeezed

__all__ = [
    "INSERTION_ALL_UP_TO",
    "INSERTION_MIN_NEIGHBOURS",
    "INSERTION_NEIGHBOURS",
    "RR_OPERATORS_OFF",
    "SolveOptions",
    "_model",
    "build_plan",
    "planning_factor",
    "solve",
]
BREAKS = ("cautious", "hopeful")  # SolveOptions.breaks
FILL_SHARE, FILL_MAX_S = 0.05, 1.0  # of the time limit, kept for the real-clock fill
# Before it, where the search's clock is cautious (a time-of-day profile or breaks), each
# configuration's plan has vans emptied by the real clock (routing/squeeze.py) in this share.
SQUEEZE_SHARE, SQUEEZE_MAX_S = 0.1, 3.0

# Configurations of the portfolio, best first; worker k takes entry k. With two cores, ruin and
# recreate from both starts: with its iterations compiled (routing/sisr.py) it had the lowest
# median gap of every configuration on every family in bench/bench_search.py (docs/routing.md).
PORTFOLIO: tuple[tuple[str, str], ...] = (
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("rr", "PATH_CHEAPEST_ARC"),
    ("ils", "PARALLEL_CHEAPEST_INSERTION"),
    ("gls", "PATH_CHEAPEST_ARC"),
)
# With fewer vehicles first, the same: with SISR's fleet minimisation compiled, ruin and recreate
# reached the best known vehicle count where guided local search did not (Gehring-Homberger,
# Li & Lim).
PORTFOLIO_VEHICLES_FIRST: tuple[tuple[str, str], ...] = (
    ("rr", "PARALLEL_CHEAPEST_INSERTION"),
    ("rr", "PATH_CHEAPEST_ARC"),
    ("gls", "PATH_CHEAPEST_ARC"),
    ("gls", "PARALLEL_CHEAPEST_INSERTION"),
)


def solve(
    problem: Problem, options: SolveOptions | None = None, progress: Progress | None = None
) -> Plan:
    """Plan ``problem``. Never raises for an infeasible day: what cannot be routed is listed in
    ``plan.unassigned`` with a reason. ``progress`` gets the best plan so far, at most every
    PROGRESS_EVERY_S: {"cost", "seconds" (since this call), "config", "routed" (jobs),
    "jobs", "vehicles" (used)}; over a portfolio only what beats every earlier report."""
    opts = options or SolveOptions()
    if opts.breaks not in BREAKS:
        raise ValueError(f"breaks must be one of {', '.join(BREAKS)}, not {opts.breaks!r}")
    if problem.locks:
        return _solve_locked(problem, opts, progress)
    unloaded = _without_reloads(problem)
    if unloaded is not None:
        part = solve(unloaded, opts, progress)
        return build_plan(problem, sequences_of(unloaded, part), part.stats)
    if opts.merge:
        merged = merge(problem)
        if merged is not None:
            return _solve_merged(problem, merged, opts, progress)
    t0 = time.monotonic()
    limit = opts.time_limit_s
    # The last part of the time limit is the real-clock fill's (routing/fill.py), and before it,
    # in each configuration's process, the squeeze's (routing/squeeze.py).
    finish = min(FILL_SHARE * limit, FILL_MAX_S) if opts.fill else 0.0
    squeeze_s = min(SQUEEZE_SHARE * limit, SQUEEZE_MAX_S) if _squeezes(problem, opts) else 0.0
    until = t0 + limit - finish if squeeze_s else None
    opts = replace(opts, time_limit_s=limit - finish - squeeze_s)
    configs = (
        list(PORTFOLIO_VEHICLES_FIRST if opts.vehicles_first else PORTFOLIO)
        if opts.strategy == "auto"
        else [
            (
                opts.strategy,
                "PARALLEL_CHEAPEST_INSERTION"
                if opts.first_solution == "auto"
                else opts.first_solution,
            )
        ]
    )
    if opts.workers <= 1 or len(configs) == 1:
        routes, stats = _solve_once(problem, opts, configs[0], progress, t0)
        candidates = [squeezed(problem, [_steps(r) for r in routes], stats, until, opts)]
    else:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = []
        for w in range(opts.workers):
            o = replace(opts, seed=opts.seed + w)
            pr = ctx.Process(
                target=_worker,
                args=(problem, o, configs[w % len(configs)], q, t0, until),
                daemon=True,
            )
            pr.start()
            procs.append(pr)
        candidates = []
        reported = float("inf")
        deadline = time.monotonic() + opts.time_limit_s + 60
        while len(candidates) < len(procs) and time.monotonic() < deadline:
            try:
                kind, payload = q.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and q.empty():
                    break
                continue
            if kind == "progress" and progress and payload["cost"] < reported:
                reported = payload["cost"]
                progress(payload)
            elif kind == "done":
                candidates.append(payload)
        for pr in procs:
            pr.join(timeout=5)
            if pr.is_alive():
                pr.terminate()
    if problem.initial:
        # The plan re-planned from, where the real clock still holds it, is a candidate too: the
        # search reads it in warped time, where a plan its squeeze tightened does not hold, and
        # would move its loads for nothing. New jobs get the fill's places in it.
        candidates.append((_as_it_was(problem), {"config": "initial"}))
    # Each configuration's plan is filled before they are compared: the search that leaves
    # out more can be the one whose routes the real clock has more room in (bench_dhaka's
    # last-mile round: `rr` had been kept and filled, `ils` now wins once both are filled).
    best: Plan | None = None
    best_rank: tuple[int, ...] = ()
    for n, (sequences, stats) in enumerate(candidates):
        plan = build_plan(problem, sequences, stats)
        # What the re-timing dropped: 0 when planning with the clock.
        plan.stats["dropped_when_timed"] = sum(
            1 for u in plan.unassigned if u.code == "late_when_timed"
        )
        if opts.fill:  # the time left for the fill, shared by the plans still to fill
            share = (t0 + limit - time.monotonic()) / (len(candidates) - n)
            plan = _fill(problem, plan, time.monotonic() + max(0.05, share))
        rank = _rank(problem, plan, opts)
        if best is None or rank < best_rank:
            best, best_rank = plan, rank
    if best is None:
        best = build_plan(problem, [[] for _ in problem.vehicles], {"status": "no_solution"})
    firsts = [s["first_plan_s"] for _, s in candidates if s.get("first_plan_s", -1) >= 0]
    best.stats["first_plan_s"] = min(firsts, default=None)
    best.stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    best.stats["portfolio"] = [s.get("config") for _, s in candidates]
    return best


def _without_reloads(problem: Problem) -> Problem | None:
    """``problem`` with no reloads, where its vans may reload but all its jobs fit in the fleet
    at once: the compiled iterations (routing/sisr.py) cannot model a reload, and a plan without
    one is a plan of ``problem``. None where nothing is gained, or a reload may be needed."""
    if problem.initial or not any(
        v.reload_location is not None and v.max_reloads > 0 for v in problem.vehicles
    ):
        return None
    for d in range(len(problem.dimensions)):
        jobs = sum(s.amount[d] for s in problem.services)
        jobs += sum(s.amount[d] for s in problem.shipments)
        if jobs > sum(v.capacity[d] for v in problem.vehicles):
            return None
    return replace(
        problem,
        vehicles=tuple(replace(v, reload_location=None, max_reloads=0) for v in problem.vehicles),
    )


def _fill(problem: Problem, plan: Plan, deadline: float) -> Plan:
    """The search's plan with the jobs it left out put where the real clock still has room
    (routing/fill.py)."""
    if not plan.unassigned:
        return plan
    job = job_keys(problem)
    left = [job[u.job_id] for u in plan.unassigned]
    sequences, plan.stats["filled"] = fill(problem, sequences_of(problem, plan), left, deadline)
    return build_plan(problem, sequences, plan.stats) if plan.stats["filled"] else plan


def _solve_merged(
    problem: Problem, merged: Merged, opts: SolveOptions, progress: Progress | None
) -> Plan:
    """Co-located identical jobs solved as one (routing/merge.py), split back and timed as the
    original problem's plan."""
    t0 = time.monotonic()
    part = solve(merged.problem, replace(opts, merge=False), progress)
    stats = {
        **part.stats,
        "merged_jobs": f"{problem.n_jobs} -> {merged.problem.n_jobs}",
    }
    plan = build_plan(problem, merged.expand(sequences_of(merged.problem, part)), stats)
    plan.stats["dropped_when_timed"] = sum(
        1 for u in plan.unassigned if u.code == "late_when_timed"
    )
    plan.stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    return plan


def _solve_locked(problem: Problem, opts: SolveOptions, progress: Progress | None) -> Plan:
    """Locked routes stay as they are; the rest of the fleet plans the rest of the jobs, and the
    whole is timed and judged as one plan."""
    free = locks.free_part(problem)
    sequences = locks.locked_sequences(problem)
    stats: dict[str, Any] = {"locked_vehicles": len(problem.locks)}
    if free.problem is not None:
        part = solve(free.problem, opts, progress)
        for k, steps in free.sequences(part).items():
            sequences[k] = steps
        stats.update(part.stats)
    return build_plan(problem, sequences, stats)


def _squeezes(problem: Problem, opts: SolveOptions) -> bool:
    """Whether a plan's vans are worth emptying on the real clock: where the search's clock is
    cautious (a time-of-day profile, or breaks) and the plan is finished on the real clock;
    not for a fixed number of improvements (the squeeze is timed, and such a plan must not
    depend on the machine), nor where jobs should stay on the vans of an initial plan."""
    cautious = problem.profile is not None or any(v.breaks for v in problem.vehicles)
    churn = bool(problem.initial) and problem.move_cost > 0
    return opts.fill and cautious and not churn and opts.max_solutions is None


def _as_it_was(problem: Problem) -> list[list[Step]]:
    """``problem.initial`` as sequences, each route kept as far as it holds on the real clock
    (its longest prefix that does, without the shipments the cut splits) and only on a vehicle
    its jobs' pins allow; the jobs cut are left for the fill."""
    out = locks.sequences_for(problem, problem.initial)
    for k, steps in enumerate(out):
        pins = [
            (problem.services[j] if kind == "service" else problem.shipments[j]).vehicles
            for kind, j in steps
        ]
        if any(p is not None and k not in p for p in pins):
            out[k] = []
            continue

        def prefix(n: int, steps: list[Step] = steps) -> list[Step]:
            picked = {j for kind, j in steps[:n] if kind == "pickup"}
            dropped = {j for kind, j in steps[:n] if kind == "delivery"}
            return [st for st in steps[:n] if st[0] == "service" or st[1] in picked & dropped]

        def holds(n: int, k: int = k) -> bool:
            return not schedule(problem, problem.vehicles[k], prefix(n))[1]

        out[k] = prefix(longest_prefix(len(steps), holds))
    return out


def _rank(problem: Problem, plan: Plan, opts: SolveOptions) -> tuple[int, ...]:
    """Fewest jobs left out, then (with vehicles first) fewest vehicles, then cost, a job
    moved off its vehicle in ``problem.initial`` costing ``problem.move_cost``."""
    penalty = sum(1 for _ in plan.unassigned)
    cost = plan.cost
    if problem.initial and problem.move_cost:
        had = {job: problem.vehicles[r.vehicle].id for r in problem.initial for _, job in r.steps}
        now = vehicles_of(plan)
        cost += problem.move_cost * sum(1 for job, v in now.items() if had.get(job, v) != v)
    if opts.vehicles_first:
        return (penalty, plan.vehicles_used, cost)
    return (penalty, cost)
