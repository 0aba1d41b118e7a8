"""Compiled iterations of ruin and recreate (numba): SISR's ruin (strings of neighbouring visits,
Christiaens & Vanden Berghe 2020), the compiled recreate (routing/kernel.py), record-to-record
acceptance and, with fewer vehicles first, SISR's fleet minimisation, thousands of iterations a
second. routing/ruin.py drives them in slices and runs OR-Tools' descents between slices.

``State`` holds the current, best and candidate plans and the fleet minimisation's plan; its
scalars live in ``State.num`` (indices below) so that compiled code can update them.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numba.core.dispatcher import Dispatcher

from routing import kernel, still
from routing.kernel import MAX_STRING, Day, Work, insert, routes_cost, work_for

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
    reps = day.reps
    partners = day.partner[reps]
    num[NEVER_OUT] = int(
        np.sum(day.never[reps] | ((partners >= 0) & day.never[np.maximum(partners, 0)]))
    )
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
def figures(day: Day, seq: Any, n: Any, served: Any) -> tuple[int, int, int, int]:
    """A plan's cost with the penalties of the jobs it leaves out, the jobs left out, the
    vehicles used, and its travel cost (without fixed costs and penalties)."""
    served[:] = False
    used = 0
    fixed = 0
    for k in range(len(n)):
        if n[k]:
            used += 1
            fixed += day.fixed[k]
        for t in range(n[k]):
            served[seq[k, t]] = True
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


@njit(cache=True)
def ruin(day: Day, seq: Any, n: Any, removed: Any, avg_removed: int, absent_too: bool) -> Any:
    """SISR's ruin on the routes ``seq``/``n``: from a random visit and its nearest, one string
    of consecutive visits from each route met (a shipment leaves whole). The routes are
    compacted; the removed visits are returned in the order to put them back, with
    ``absent_too`` the jobs no route had among them (as in SISR, every job out is put back: a
    first plan that left jobs out no longer needs OR-Tools' descent to take them in)."""
    v = len(n)
    removed[:] = False
    where = np.full(len(removed), -1, np.int64)
    pos = np.zeros(len(removed), np.int64)
    for k in range(v):
        for t in range(n[k]):
            where[seq[k, t]] = k
            pos[seq[k, t]] = t
    touched = np.zeros(v, np.bool_)
    target = np.random.randint(1, 2 * avg_removed + 1)
    count = 0
    seed = day.visits[np.random.randint(0, len(day.visits))]
    for c in range(-1, day.nbr.shape[1]):
        if count >= target:
            break
        idx = seed if c < 0 else day.nbr[seed, c]
        if idx < 0:
            break
        k = where[idx]
        if k < 0 or touched[k]:
            continue
        touched[k] = True
        length = np.random.randint(1, min(n[k], MAX_STRING) + 1)
        lo = max(0, min(pos[idx] - np.random.randint(0, length), n[k] - length))
        for t in range(lo, lo + length):
            for j in (seq[k, t], day.partner[seq[k, t]]):
                if j >= 0 and not removed[j]:
                    removed[j] = True
                    count += 1
    for x in day.reps:
        if absent_too and where[x] < 0 and not removed[x] and not day.never[x]:
            removed[x] = True  # (its partner is put back with it)
            count += 1
    out = np.empty(count, np.int64)
    c = 0
    for x in day.reps:
        if where[x] < 0 and removed[x]:
            out[c] = x
            c += 1
    for k in range(v):
        kept = 0
        for t in range(n[k]):
            x = seq[k, t]
            if removed[x]:
                out[c] = x
                c += 1
            else:
                seq[k, kept] = x
                kept += 1
        n[k] = kept
    return recreate_order(day, out)


@njit(cache=True)
def recreate_order(day: Day, out: Any) -> Any:
    """The removed visits in the order to put back, as SISR draws it: at random (4 in 11),
    largest demand first (4 in 11), farthest from the first vehicle's start first (2 in 11) or
    closest first (1 in 11)."""
    np.random.shuffle(out)
    mode = np.random.randint(0, 11)
    if mode < 4 or len(out) < 2:
        return out
    key = np.empty(len(out))
    home = day.loc[day.starts[0]]
    for i in range(len(out)):
        if mode < 8:
            key[i] = -float(day.dem[out[i], 0])
        else:
            d = float(day.dist[home, day.loc[out[i]]])
            key[i] = -d if mode < 10 else d
    return out[np.argsort(key, kind="mergesort")]


@njit(cache=True)
def rebuild(day: Day, st: State, avg_removed: int, blink: float) -> None:
    """The candidate: the current plan ruined and recreated."""
    copy(st.cur, st.cur_n, st.new, st.new_n)
    order = ruin(day, st.new, st.new_n, st.removed, avg_removed, True)
    insert(day, st.new, st.new_n, order, st.open_all, st.work, blink)


@njit(cache=True)
def shortest(n: Any) -> int:
    """One of the used routes with fewest visits (ties drawn at random)."""
    best, best_key = -1, 0.0
    for k in range(len(n)):
        if n[k]:
            key = n[k] + np.random.random() * 0.5
            if best < 0 or key < best_key:
                best, best_key = k, key
    return best


@njit(cache=True)
def fleet_step(day: Day, st: State, avg_removed: int, blink: float) -> None:
    """SISR's fleet minimisation: a plan with one route fewer than the best, its jobs absent,
    ruined and rebuilt without opening a vehicle, absent jobs first (the most often absent
    first); a rebuild that leaves none absent is offered as a best, one that leaves fewer
    absent, or jobs that were absent less often, replaces it."""
    if st.num[FM_ACTIVE] != EMPTYING:
        k = shortest(st.best_n)
        copy(st.best, st.best_n, st.fm, st.fm_n)
        st.fm_absent[:] = False
        for t in range(st.fm_n[k]):
            st.fm_absent[st.fm[k, t]] = True
        st.fm_n[k] = 0
        for j in range(len(st.fm_n)):
            st.fm_closed[j] = st.fm_n[j] == 0
        st.num[FM_ACTIVE] = EMPTYING
    absent_step(day, st, avg_removed, blink, True)


@njit(cache=True)
def take_in_step(day: Day, st: State, avg_removed: int, blink: float, vf: bool) -> None:
    """The same for the jobs the best leaves out (those a plan can have): a plan that is the
    best with them absent, ruined and rebuilt, absent jobs first; one that leaves fewer absent
    is offered as a best, one whose absent jobs were absent less often replaces it. Where a
    window or a load keeps jobs out, taking one in needs other jobs moved first, which an
    acceptance on cost alone (a job's penalty against a share of the travel) never allows."""
    if st.num[FM_ACTIVE] != TAKING_IN:
        copy(st.best, st.best_n, st.fm, st.fm_n)
        st.served[:] = False
        for k in range(len(st.fm_n)):
            for t in range(st.fm_n[k]):
                st.served[st.fm[k, t]] = True
        st.fm_absent[:] = False
        for x in day.reps:
            p = day.partner[x]
            if not st.served[x] and not day.never[x] and not (p >= 0 and day.never[p]):
                st.fm_absent[x] = True
                if p >= 0:
                    st.fm_absent[p] = True
        st.fm_closed[:] = False
        st.num[FM_ACTIVE] = TAKING_IN
    absent_step(day, st, avg_removed, blink, vf)


@njit(cache=True)
def absent_step(day: Day, st: State, avg_removed: int, blink: float, vf: bool) -> None:
    """One step of ``fleet_step`` or ``take_in_step`` on the plan ``State.fm``."""
    num = st.num
    copy(st.fm, st.fm_n, st.new, st.new_n)
    # (the jobs the best left out stay out: this plan is to take in the emptied route's)
    removed = ruin(day, st.new, st.new_n, st.removed, avg_removed, False)
    absent = np.flatnonzero(st.fm_absent)
    key = np.empty(len(absent))
    for i in range(len(absent)):
        key[i] = -st.absences[absent[i]] + np.random.random() * 0.5
    order = np.concatenate((absent[np.argsort(key)], removed))
    insert(day, st.new, st.new_n, order, st.fm_closed, st.work, blink)
    st.served[:] = False
    for k in range(len(st.new_n)):
        for t in range(st.new_n[k]):
            st.served[st.new[k, t]] = True
    before = after = count = 0
    for x in absent:
        before += st.absences[x] + (0 if st.served[x] else 1)
    now_absent = np.zeros(len(st.fm_absent), np.bool_)
    for x in order:
        if not st.served[x] and not now_absent[x]:
            now_absent[x] = True
            st.absences[x] += 1
            after += st.absences[x]
            count += 1
    taking_in = num[FM_ACTIVE] == TAKING_IN
    if count == 0 or (taking_in and count < len(absent)):
        # (emptying: jobs the best had left out are still out, at their penalties)
        if keep(day, st, vf):
            copy(st.new, st.new_n, st.cur, st.cur_n)
            st.num[CUR_COST] = st.num[BEST_COST]
        num[FM_ACTIVE] = 0
    elif count < len(absent) or after < before:
        copy(st.new, st.new_n, st.fm, st.fm_n)
        st.fm_absent[:] = now_absent


@njit(cache=True)
def iterate(
    day: Day,
    st: State,
    count: int,
    thr_from: float,
    thr_to: float,
    seed: int,
    vf: bool,
    fleet_share: float,
    take_share: float,
    avg_removed: int,
    blink: float,
) -> None:
    """``count`` iterations: while the best leaves out jobs a plan can have, a share
    ``take_share`` of them takes them in; otherwise, with fewer vehicles first (``vf``), a share
    ``fleet_share`` minimises the fleet; the others ruin and recreate the current plan and offer
    the result, the acceptance threshold going linearly from ``thr_from`` to ``thr_to``."""
    np.random.seed(seed)
    for it in range(count):
        if st.num[BEST_MISSING] > st.num[NEVER_OUT]:
            if np.random.random() < take_share:
                st.num[TAKE_IN] += 1
                take_in_step(day, st, avg_removed, blink, vf)
                continue
        elif fleet_share > 0 and st.num[BEST_USED] > 1 and np.random.random() < fleet_share:
            st.num[FLEET] += 1
            fleet_step(day, st, avg_removed, blink)
            continue
        st.num[LIGHT] += 1
        rebuild(day, st, avg_removed, blink)
        offer(day, st, vf, thr_from + (thr_to - thr_from) * it / max(1, count))


@njit(cache=True)
def rebuild_once(day: Day, st: State, seed: int, avg_removed: int, blink: float) -> None:
    """One candidate (the current plan ruined and recreated), not yet offered."""
    np.random.seed(seed)
    rebuild(day, st, avg_removed, blink)


@njit(cache=True)
def insert_seeded(
    day: Day, seq: Any, n: Any, order: Any, closed: Any, wk: Work, seed: int, blink: float
) -> None:
    """``kernel.insert`` with numba's random source seeded (for the blinks)."""
    np.random.seed(seed)
    insert(day, seq, n, order, closed, wk, blink)


def load(seq: Any, n: Any, routes: list[list[int]]) -> None:
    """Python routes into the arrays ``seq``/``n``."""
    for k, r in enumerate(routes):
        n[k] = len(r)
        seq[k, : len(r)] = r


def unload(seq: Any, n: Any) -> list[list[int]]:
    """The arrays ``seq``/``n`` as Python routes."""
    return [seq[k, : n[k]].tolist() for k in range(len(n))]


def _compiled_with_this_kernel() -> None:
    """numba keys each function's cache on its own file only: an edit of routing/kernel.py or
    routing/still.py would leave the cached machine code that has their functions inlined
    (this module's, and the kernel's for still.py's) as it was. A hash of both sources is kept
    beside that cache; when it differs, this module's and the kernel's functions are compiled
    again."""
    stamp = hashlib.sha256(
        b"".join(Path(m.__file__).read_bytes() for m in (kernel, still))  # type: ignore[arg-type]
    ).hexdigest()
    mine = [
        f
        for module in (globals(), vars(kernel))
        for f in module.values()
        if isinstance(f, Dispatcher) and f.py_func.__module__ in (__name__, kernel.__name__)
    ]
    marker = Path(iterate._cache.cache_path) / "sisr.kernel.sha256"  # type: ignore[attr-defined]
    try:
        if marker.read_text() == stamp:
            return
    except OSError:
        pass
    for f in mine:
        f._cache.flush()  # type: ignore[attr-defined]
    with contextlib.suppress(OSError):
        marker.write_text(stamp)


_compiled_with_this_kernel()
