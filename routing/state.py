"""The plans of the compiled iterations (routing/sisr.py) and their figures: ``State`` holds the
current, best and candidate plans and the plan of the fleet minimisation or take-in steps; its
scalars live in ``State.num`` (indices below) so that compiled code can update them. A plan's
cost with the penalties of what it leaves out, which plan is better, and record-to-record
acceptance.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit

from routing.kernel import Day, Work, routes_cost, work_for

# State.num: the plans' figures and the counters
CUR_COST, BEST_COST, BEST_MISSING, BEST_USED = 0, 1, 2, 3
FM_ACTIVE, IMPROVED, LIGHT, ACCEPTED, FLEET = 4, 5, 6, 7, 8
TAKE_IN, NEVER_OUT = 9, 10  # take-in steps made; jobs no plan can have (Day.never)
# State.num[FM_ACTIVE]: what the plan ``State.fm`` is working at
EMPTYING, TAKING_IN = 1, 2


class State(NamedTuple):
    cur: Any  # int64[V, W]: the current plan's routes (cur_n their lengths)
    cur_n: Any
    best: Any
    best_n: Any
    new: Any  # the candidate
    new_n: Any
    fm: Any  # fleet minimisation's plan: one route fewer than the best, some jobs absent
    fm_n: Any
    fm_absent: Any  # bool[S]
    fm_closed: Any  # bool[V]: the vehicles it may not open
    absences: Any  # int64[S]: how often each visit was left absent
    removed: Any  # bool[S]: scratch
    served: Any  # bool[S]: scratch
    open_all: Any  # bool[V]: all False (no vehicle closed)
    num: Any  # int64[16]
    work: Work


def state_for(day: Day) -> State:
    """Empty plans and scratch arrays for ``day``."""
    v, s = len(day.starts), len(day.loc)
    width = len(day.visits) + 1

    def routes() -> tuple[Any, Any]:
        return np.zeros((v, width), np.int64), np.zeros(v, np.int64)

    (cur, cur_n), (best, best_n), (new, new_n), (fm, fm_n) = routes(), routes(), routes(), routes()
    num = np.zeros(16, np.int64)
    num[NEVER_OUT] = int(np.sum(day.never[day.reps]))
    return State(
        cur,
        cur_n,
        best,
        best_n,
        new,
        new_n,
        fm,
        fm_n,
        np.zeros(s, np.bool_),
        np.zeros(v, np.bool_),
        np.zeros(s, np.int64),
        np.zeros(s, np.bool_),
        np.zeros(s, np.bool_),
        np.zeros(v, np.bool_),
        num,
        work_for(day, width),
    )


@njit(cache=True)
def copy(src: Any, src_n: Any, dst: Any, dst_n: Any) -> None:
    for k in range(len(src_n)):
        dst_n[k] = src_n[k]
        for t in range(src_n[k]):
            dst[k, t] = src[k, t]


@njit(cache=True)
def mark_served(seq: Any, n: Any, served: Any) -> None:
    """``served``: whether each index is on one of the routes ``seq``/``n``."""
    served[:] = False
    for k in range(len(n)):
        for t in range(n[k]):
            served[seq[k, t]] = True


@njit(cache=True)
def figures(day: Day, seq: Any, n: Any, served: Any) -> tuple[int, int, int, int]:
    """A plan's cost with the penalties of the jobs it leaves out, the jobs left out, the
    vehicles used, and its travel cost (without fixed costs and penalties)."""
    mark_served(seq, n, served)
    used = 0
    fixed = 0
    for k in range(len(n)):
        if n[k]:
            used += 1
            fixed += day.fixed[k]
    missing = 0
    out = 0
    for j in range(len(day.reps)):
        if not served[day.reps[j]]:
            missing += 1
            out += day.pen[j]
    cost = routes_cost(day, seq, n)
    return cost + out, missing, used, cost - fixed


@njit(cache=True)
def better(vf: bool, cost: int, missing: int, used: int, num: Any) -> bool:
    """Whether a plan beats the best: with fewer vehicles first, fewer jobs left out, then fewer
    vehicles, then cost (the fixed cost per vehicle alone is not hierarchical on long
    distances); otherwise cost."""
    if vf:
        if missing != num[BEST_MISSING]:
            return bool(missing < num[BEST_MISSING])
        if used != num[BEST_USED]:
            return bool(used < num[BEST_USED])
    return bool(cost < num[BEST_COST])


@njit(cache=True)
def keep(day: Day, st: State, vf: bool) -> bool:
    """The candidate as the best, if it is better; whether it was."""
    cost, missing, used, _ = figures(day, st.new, st.new_n, st.served)
    return keep_figures(st, vf, cost, missing, used)


@njit(cache=True)
def keep_figures(st: State, vf: bool, cost: int, missing: int, used: int) -> bool:
    """``keep`` with the candidate's figures already known."""
    if not better(vf, cost, missing, used, st.num):
        return False
    copy(st.new, st.new_n, st.best, st.best_n)
    st.num[BEST_COST], st.num[BEST_MISSING], st.num[BEST_USED] = cost, missing, used
    st.num[IMPROVED] += 1
    return True


@njit(cache=True)
def offer(day: Day, st: State, vf: bool, threshold: float) -> None:
    """The candidate is kept if it is the best, and becomes the current plan by
    record-to-record travel: up to ``threshold`` (a share of its travel cost) above the best;
    with fewer vehicles first, never with more vehicles than the best."""
    cost, missing, used, travel = figures(day, st.new, st.new_n, st.served)
    keep_figures(st, vf, cost, missing, used)
    if cost <= st.num[BEST_COST] + threshold * max(0, travel) and (
        not vf or used <= st.num[BEST_USED]
    ):
        copy(st.new, st.new_n, st.cur, st.cur_n)
        st.num[CUR_COST] = cost
        st.num[ACCEPTED] += 1


def load(seq: Any, n: Any, routes: list[list[int]]) -> None:
    """Python routes into the arrays ``seq``/``n``."""
    for k, r in enumerate(routes):
        n[k] = len(r)
        seq[k, : len(r)] = r


def unload(seq: Any, n: Any) -> list[list[int]]:
    """The arrays ``seq``/``n`` as Python routes."""
    return [seq[k, : n[k]].tolist() for k in range(len(n))]
