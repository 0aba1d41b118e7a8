"""Vans the real clock does not need, emptied: a step after the search where time has a profile.

The search plans in warped time and charges standing still at its longest (routing/clock.py): a
service is charged at its length in the hour of its window where warped time runs fastest, on
the Dhaka day midday's, where in the 6-7 km/h peaks the same service is 30-40 % shorter. On a
day whose vans are full on time, the search then opens vans the real clock does not need, and
each van opened drives its own way out and back. Here each route in use, fewest jobs first, is
emptied and its jobs put into the other routes in use by the fill (routing/fill.py: each
candidate place timed by ``plan.schedule``, the judge, so every route kept is valid on the real
clock); the result is kept when every job found a place and the routes cost less than before
(with fewer vehicles first, whatever the cost: one van fewer ranks first). A try that runs out
of time, or leaves a job without a place, is dropped. Locked vehicles are neither emptied nor
filled, and pins are kept (the fill's rules).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from routing.fill import fill
from routing.model import Problem
from routing.plan import Step, schedule
from routing.polish import polish

if TYPE_CHECKING:
    from routing.ortools_model import SolveOptions


def _cost(problem: Problem, k: int, steps: list[Step]) -> int:
    return schedule(problem, problem.vehicles[k], steps)[0].cost if steps else 0


def squeeze(
    problem: Problem, sequences: list[list[Step]], deadline: float, vehicles_first: bool = False
) -> tuple[list[list[Step]], int]:
    """``sequences`` with as many vans emptied as the real clock allows before ``deadline``
    (time.monotonic()), each at a lower cost (or, with ``vehicles_first``, at any cost); and
    how many were."""
    seqs = [list(s) for s in sequences]
    locked = {lock.vehicle for lock in problem.locks}
    cost = {k: _cost(problem, k, s) for k, s in enumerate(seqs) if s}
    order = sorted(
        (k for k, s in enumerate(seqs) if s and k not in locked), key=lambda k: (len(seqs[k]), k)
    )
    emptied = 0
    for k in order:
        if time.monotonic() >= deadline:
            break
        jobs = [
            ("service", j) if kind == "service" else ("shipment", j)
            for kind, j in seqs[k]
            if kind in ("service", "pickup")
        ]
        trial = [*seqs[:k], [], *seqs[k + 1 :]]  # its reloads go with it (fill copies)
        closed = [q for q, s in enumerate(trial) if not s]  # no van is opened instead
        new, placed = fill(problem, trial, jobs, deadline, closed, every=True)
        if placed < len(jobs):
            continue
        changed = {q: _cost(problem, q, new[q]) for q in range(len(new)) if new[q] != seqs[q]}
        before = sum(cost.get(q, 0) for q in changed)
        if vehicles_first or sum(changed.values()) < before:
            seqs = new
            cost.update(changed)
            emptied += 1
    return seqs, emptied


def squeezed(
    problem: Problem,
    sequences: list[list[Step]],
    stats: dict[str, Any],
    until: float | None,
    opts: SolveOptions,
) -> tuple[list[list[Step]], dict[str, Any]]:
    """A configuration's plan with ``squeeze`` run on it until ``until`` (None: as it is), then
    ``polish`` and ``squeeze`` in turn while a round moves something; and its stats with how
    many vans were emptied and how many jobs moved."""
    if until is None or stats.get("status") == "no_solution":
        return sequences, stats
    sequences, stats["squeezed"], stats["polished"] = settle(
        problem, sequences, until, opts.vehicles_first
    )
    return sequences, stats


def settle(
    problem: Problem, sequences: list[list[Step]], deadline: float, vehicles_first: bool = False
) -> tuple[list[list[Step]], int, int]:
    """``squeeze``, then ``polish`` and ``squeeze`` in turn while a round changes something
    (each round's moves can make room for another van's jobs), until ``deadline``; the
    sequences, how many vans were emptied and how many jobs moved."""
    sequences, emptied = squeeze(problem, sequences, deadline, vehicles_first)
    moves = 0
    while time.monotonic() < deadline:
        sequences, moved = polish(problem, sequences, deadline)
        moves += moved
        if not moved:
            break
        sequences, more = squeeze(problem, sequences, deadline, vehicles_first)
        emptied += more
        if not more:
            break
    return sequences, emptied, moves
