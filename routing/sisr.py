"""Compiled iterations of ruin and recreate (numba): SISR's ruin (strings of neighbouring visits,
Christiaens & Vanden Berghe 2020), the compiled recreate (routing/kernel.py), record-to-record
acceptance and, with fewer vehicles first, SISR's fleet minimisation, thousands of iterations a
second. routing/light.py drives them in slices and runs OR-Tools' descents between slices.
The plans they work on and their figures: routing/state.py.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit
from numba.core.dispatcher import Dispatcher

from routing import day as day_types
from routing import kernel, state, still
from routing.kernel import MAX_STRING, Day, Work, insert
from routing.state import (
    ACCEPTED,
    BEST_COST,
    BEST_MISSING,
    BEST_USED,
    CUR_COST,
    EMPTYING,
    FLEET,
    FM_ACTIVE,
    IMPROVED,
    LIGHT,
    NEVER_OUT,
    TAKE_IN,
    TAKING_IN,
    State,
    copy,
    figures,
    keep,
    load,
    mark_served,
    offer,
    state_for,
    unload,
)

# The plans' API (routing/state.py) is used through this module too.
__all__ = [
    "ACCEPTED",
    "BEST_COST",
    "BEST_MISSING",
    "BEST_USED",
    "CUR_COST",
    "EMPTYING",
    "FLEET",
    "FM_ACTIVE",
    "IMPROVED",
    "LIGHT",
    "NEVER_OUT",
    "State",
    "TAKE_IN",
    "TAKING_IN",
    "absent_step",
    "copy",
    "figures",
    "fleet_step",
    "insert_seeded",
    "iterate",
    "keep",
    "load",
    "mark_served",
    "offer",
    "rebuild",
    "rebuild_once",
    "recreate_order",
    "ruin",
    "shortest",
    "state_for",
    "take_in_step",
    "unload",
]


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
            key[i] = -abs(float(day.dem[out[i], 0]))  # (a one-stop job's is negative)
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
        mark_served(st.fm, st.fm_n, st.served)
        st.fm_absent[:] = False
        for x in day.reps:
            if not st.served[x] and not day.never[x]:
                st.fm_absent[x] = True
                if day.partner[x] >= 0:
                    st.fm_absent[day.partner[x]] = True
        st.fm_closed[:] = False
        st.num[FM_ACTIVE] = TAKING_IN
    absent_step(day, st, avg_removed, blink, vf)


@njit(cache=True)
def absent_step(day: Day, st: State, avg_removed: int, blink: float, vf: bool) -> None:
    """One step of ``fleet_step`` or ``take_in_step`` on the plan ``State.fm``."""
    num = st.num
    copy(st.fm, st.fm_n, st.new, st.new_n)
    # (jobs neither on this plan nor absent from it stay out: emptying a route, the best's own)
    removed = ruin(day, st.new, st.new_n, st.removed, avg_removed, False)
    absent = np.flatnonzero(st.fm_absent)
    key = np.empty(len(absent))
    for i in range(len(absent)):
        key[i] = -st.absences[absent[i]] + np.random.random() * 0.5
    order = np.concatenate((absent[np.argsort(key)], removed))
    insert(day, st.new, st.new_n, order, st.fm_closed, st.work, blink)
    mark_served(st.new, st.new_n, st.served)
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
    if count == 0 or (num[FM_ACTIVE] == TAKING_IN and count < len(absent)):
        # (emptying: jobs the best had left out are still out, at their penalties)
        if keep(day, st, vf):
            copy(st.new, st.new_n, st.cur, st.cur_n)
            num[CUR_COST] = num[BEST_COST]
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


def _compiled_with_this_kernel() -> None:
    """numba keys each function's cache on its own file only: an edit of routing/kernel.py,
    routing/still.py, routing/state.py or routing/day.py would leave the cached machine code
    that has their functions inlined (this module's, the state's and the kernel's for
    still.py's) as it was. A hash of the sources is kept beside that cache; when it differs,
    this module's, the state's and the kernel's functions are compiled again."""
    modules = (kernel, still, state, day_types)
    stamp = hashlib.sha256(
        b"".join(Path(m.__file__).read_bytes() for m in modules)  # type: ignore[arg-type]
    ).hexdigest()
    names = (__name__, kernel.__name__, state.__name__)
    mine = [
        f
        for module in (globals(), vars(kernel), vars(state))
        for f in module.values()
        if isinstance(f, Dispatcher) and f.py_func.__module__ in names
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
