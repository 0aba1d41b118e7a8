"""Compiled cheapest insertion for ruin and recreate: the routes, their times and loads as
arrays, the insertion checks of routing/recreate.py in machine code (numba), so that a rebuild
costs microseconds where the same loops in Python cost milliseconds.

A ``Day`` (routing/day.py) holds what the checks read, indexed by OR-Tools' routing indices
(the visits, the vehicles' starts, then their ends); ``Routes`` holds one plan as
``seq[k, :n[k]]`` (the visits of vehicle k, without start and end). Each stop's earliest
(``a``) and latest (``z``) start of service and its load on arrival (``cum``) are kept per
route (Savelsbergh's insertion: a place is checked in constant time for a visit, in one forward
pass per pickup place for a pair).

Times are the search's warped units (routing/clock.py), in which every drive is a constant.
With ``Day.exact`` a stop lasts what standing still lasts at the hour it is made (``leave``),
not its longest over its window as in OR-Tools' model: Savelsbergh's checks hold for any
service that ends later when it starts later, the latest start of a stop then being the
inverse (``latest``). docs/routing.md ("Time") gives the argument and the break's part in it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from routing.day import Day, Work, work_for
from routing.still import clock_of, latest, leave

__all__ = [  # Day, Work and work_for are defined in routing/day.py
    "BIG",
    "BLINK",
    "MAX_STRING",
    "Day",
    "Work",
    "alike",
    "best_pair",
    "best_visit",
    "insert",
    "prepare",
    "put",
    "routes_cost",
    "work_for",
]

BLINK = 0.01  # each place is skipped with this chance (SISR's blinks, Christiaens & Vanden
# Berghe 2020): the same ruin recreates differently
MAX_STRING = 10  # longest string of consecutive visits removed from one route
BIG = 1 << 62


# Numba passes a NamedTuple of arrays as one large struct and counts references on every field
# read inside a loop: the hot functions read the fields they need into locals first, and the
# small helpers take arrays (measured: a visit's best place 11 us against 0.8 us on R112).


@njit(cache=True, inline="always")
def stop(starts: Any, ends: Any, seq: Any, n: Any, k: int, t: int) -> int:
    """The t-th stop of vehicle k's route counting its start (0) and end (n[k] + 1)."""
    if t == 0:
        return int(starts[k])
    if t == n[k] + 1:
        return int(ends[k])
    return int(seq[k, t - 1])


@njit(cache=True, inline="always")
def arc(costm: Any, loc: Any, c: int, u: int, w: int) -> int:
    """What driving from u to w costs in class c of cost per km (OR-Tools' arc cost matrix)."""
    return int(costm[c, loc[u], loc[w]])


@njit(cache=True, inline="always")
def over(cum: Any, dem: Any, cap: Any, k: int, t: int, x: int, sign: int = 1) -> bool:
    """The load on arrival at the t-th stop of route k (t = 0: on leaving its start), plus x's
    demand (``sign`` -1: minus it, a one-stop job's amount), breaks a capacity."""
    for d in range(dem.shape[1]):
        c = cum[k, t, d] + sign * dem[x, d]
        if c < 0 or c > cap[k, d]:
            return True
    return False


@njit(cache=True, inline="always")
def move(had: Any, move_cost: int, x: int, k: int) -> int:
    """What putting job visit x on vehicle k costs for leaving the vehicle it had."""
    return move_cost if had[x] >= 0 and had[x] != k else 0


@njit(cache=True)
def prepare(day: Day, seq: Any, n: Any, k: int, wk: Work) -> None:
    """Earliest and latest start of service and load on arrival along vehicle k's route."""
    starts, ends, lo, hi, dem = day.starts, day.ends, day.lo, day.hi, day.dem
    ex, svc, wsvc, warp, per_day, brk, rise, drive, loc = clock_of(day)
    a, z, cum, path = wk.a, wk.z, wk.cum, wk.path
    m = n[k] + 2
    dims = dem.shape[1]
    for t in range(m):
        path[k, t] = stop(starts, ends, seq, n, k, t)
    for d in range(dims):  # one-stop jobs are on board from the start
        cum[k, 0, d] = 0
    partner = day.partner
    for t in range(1, m - 1):
        s = path[k, t]
        if partner[s] < 0:
            for d in range(dims):
                cum[k, 0, d] -= dem[s, d]
    prev = stop(starts, ends, seq, n, k, 0)
    for t in range(1, m):
        for d in range(dims):
            cum[k, t, d] = cum[k, t - 1, d] + dem[prev, d]
        prev = stop(starts, ends, seq, n, k, t)
    if day.timed:
        prev = stop(starts, ends, seq, n, k, 0)
        a[k, 0] = lo[prev]
        for t in range(1, m):
            s = stop(starts, ends, seq, n, k, t)
            done = (
                leave(warp, per_day, brk, rise, a[k, t - 1], wsvc[prev])
                if ex
                else a[k, t - 1] + svc[prev]
            )
            a[k, t] = max(lo[s], done + drive[loc[prev], loc[s]])
            prev = s
        nxt = stop(starts, ends, seq, n, k, m - 1)
        z[k, m - 1] = hi[nxt]
        for t in range(m - 2, -1, -1):
            s = stop(starts, ends, seq, n, k, t)
            by = z[k, t + 1] - drive[loc[s], loc[nxt]]  # service at s over by then
            z[k, t] = min(
                hi[s], latest(warp, per_day, brk, rise, by, wsvc[s]) if ex else by - svc[s]
            )
            nxt = s
    wk.dirty[k] = False


@njit(cache=True)
def alike(day: Day, n: Any, closed: Any, wk: Work) -> None:
    """The vehicles not to try: the closed, and each empty vehicle alike an earlier empty one
    (it would give the same places at the same cost)."""
    v = len(day.starts)
    skip, vclass = wk.skip, day.vclass
    for k in range(v):
        skip[k] = closed[k]
    if not day.alike:
        return
    for k in range(v):
        if n[k] != 0 or closed[k]:
            continue
        for j in range(k):
            if n[j] == 0 and not closed[j] and vclass[j] == vclass[k]:
                skip[k] = True
                break


# A stop's end is written out at each check, ``leave(...) if ex else a + svc[u]``: ``leave`` where
# the day times stops at their hour (routing/still.py), OR-Tools' constant service elsewhere
# (a helper holding that branch made every check count references on its arrays: clock_of).


@njit(cache=True, inline="always")
def placing(day: Day) -> tuple[Any, ...]:
    """The fields of ``day`` a place's check reads, as locals of the caller (inlined)."""
    return (
        day.lo,
        day.hi,
        day.dem,
        day.costm,
        day.rclass,
        day.cap,
        day.fixed,
        day.allowed,
        day.had,
    )


@njit(cache=True)
def best_visit(day: Day, seq: Any, n: Any, wk: Work, x: int, blink: float) -> tuple[int, int]:
    """The cheapest feasible place for visit x: (vehicle, after which stop), or (-1, -1)."""
    lo, hi, dem, costm, rclass, cap, fixed, allowed, had = placing(day)
    ex, svc, wsvc, warp, per_day, brk, rise, drive, loc = clock_of(day)
    move_cost, timed = day.move_cost, day.timed
    a, z, cum, skip, dirty, path = wk.a, wk.z, wk.cum, wk.skip, wk.dirty, wk.path
    best_k, best_i, best = -1, -1, BIG
    lx, hx = lo[x], hi[x]
    for k in range(len(skip)):
        if skip[k] or not allowed[x, k]:
            continue
        if dirty[k]:
            prepare(day, seq, n, k, wk)
        m = n[k] + 2
        # x is on board from the start to its stop: the load on leaving the start and on
        # arriving at every stop up to x's grows, so the places are those before the first
        # stop whose load would then break a capacity (x after stop i arrives with stop i+1's).
        room = m - 1
        for t in range(m):
            if over(cum, dem, cap, k, t, x, -1):
                room = t - 1
                break
        if room <= 0:
            continue
        c = rclass[k]
        base = move(had, move_cost, x, k) + (fixed[k] if m == 2 else 0)
        u = path[k, 0]
        for i in range(room):
            w = path[k, i + 1]
            if timed:  # (earliest and latest starts only grow along a route)
                if a[k, i] > hx:
                    break  # x's window has closed by the time this stop starts
                if z[k, i + 1] < lx:
                    u = w
                    continue  # the next stop must start before x's window opens
            delta = base + arc(costm, loc, c, u, x) + arc(costm, loc, c, x, w)
            delta -= arc(costm, loc, c, u, w)
            if delta < best and not (blink > 0 and np.random.random() < blink):
                ok = True
                if timed:
                    done = (
                        leave(warp, per_day, brk, rise, a[k, i], wsvc[u])
                        if ex
                        else a[k, i] + svc[u]
                    )
                    ax = max(lx, done + drive[loc[u], loc[x]])
                    done = leave(warp, per_day, brk, rise, ax, wsvc[x]) if ex else ax + svc[x]
                    ok = ax <= hx and max(lo[w], done + drive[loc[x], loc[w]]) <= z[k, i + 1]
                if ok:
                    best_k, best_i, best = k, i, delta
            u = w
    return best_k, best_i


@njit(cache=True)
def best_pair(
    day: Day, seq: Any, n: Any, wk: Work, pk: int, dl: int, blink: float
) -> tuple[int, int, int]:
    """The cheapest feasible places for a pickup and its delivery: (vehicle, after which stop
    the pickup, after which the delivery), or (-1, -1, -1). The pickup goes next to one of its
    nearest visits or the depot (``Day.close``), the delivery anywhere after it."""
    lo, hi, dem, costm, rclass, cap, fixed, allowed, had = placing(day)
    ex, svc, wsvc, warp, per_day, brk, rise, drive, loc = clock_of(day)
    move_cost, timed, close = day.move_cost, day.timed, day.close
    a, z, cum, skip, dirty, path, full = wk.a, wk.z, wk.cum, wk.skip, wk.dirty, wk.path, wk.full
    best_k, best_i, best_j, best = -1, -1, -1, BIG
    for k in range(len(skip)):
        if skip[k] or not allowed[pk, k]:
            continue
        if dirty[k]:
            prepare(day, seq, n, k, wk)
        m = n[k] + 2
        c = rclass[k]
        base = move(had, move_cost, pk, k) + (fixed[k] if m == 2 else 0)
        for t in range(m):  # the load on arrival from the pickup's successor grows
            full[t] = over(cum, dem, cap, k, t, pk)
        for i in range(m - 1):
            u = path[k, i]
            w = path[k, i + 1]
            if timed and a[k, i] > hi[pk]:
                break  # (as in best_visit)
            if full[i + 1] or (timed and z[k, i + 1] < lo[pk]):
                continue
            if 0 < i < m - 2 and not close[pk, u] and not close[pk, w]:
                continue
            dp = base + arc(costm, loc, c, u, pk) + arc(costm, loc, c, pk, w)
            dp -= arc(costm, loc, c, u, w)
            if dp >= best or (blink > 0 and np.random.random() < blink):
                continue  # (the delivery adds at least 0: triangle inequality)
            ap = 0
            if timed:
                done = leave(warp, per_day, brk, rise, a[k, i], wsvc[u]) if ex else a[k, i] + svc[u]
                ap = max(lo[pk], done + drive[loc[u], loc[pk]])
                if ap > hi[pk]:
                    continue
            # the delivery right after the pickup
            delta = base + arc(costm, loc, c, u, pk) + arc(costm, loc, c, pk, dl)
            delta += arc(costm, loc, c, dl, w) - arc(costm, loc, c, u, w)
            if delta < best:
                ok = True
                if timed:
                    done = leave(warp, per_day, brk, rise, ap, wsvc[pk]) if ex else ap + svc[pk]
                    ad = max(lo[dl], done + drive[loc[pk], loc[dl]])
                    done = leave(warp, per_day, brk, rise, ad, wsvc[dl]) if ex else ad + svc[dl]
                    ok = ad <= hi[dl] and max(lo[w], done + drive[loc[dl], loc[w]]) <= z[k, i + 1]
                if ok:
                    best_k, best_i, best_j, best = k, i, i, delta
            # the delivery later: walk on from the pickup's successor
            t = 0
            if timed:
                done = leave(warp, per_day, brk, rise, ap, wsvc[pk]) if ex else ap + svc[pk]
                t = max(lo[w], done + drive[loc[pk], loc[w]])
            for j in range(i + 1, m - 1):
                sj = path[k, j]
                if (timed and t > hi[sj]) or full[j + 1]:
                    break
                w2 = path[k, j + 1]
                delta = dp + arc(costm, loc, c, sj, dl) + arc(costm, loc, c, dl, w2)
                delta -= arc(costm, loc, c, sj, w2)
                # service at sj is over at the same moment either way: timed once
                over_sj = 0
                if timed:
                    over_sj = leave(warp, per_day, brk, rise, t, wsvc[sj]) if ex else t + svc[sj]
                if delta < best:
                    ok = True
                    if timed:
                        ad = max(lo[dl], over_sj + drive[loc[sj], loc[dl]])
                        ok = ad <= hi[dl]
                        done = leave(warp, per_day, brk, rise, ad, wsvc[dl]) if ex else ad + svc[dl]
                        ok = ok and max(lo[w2], done + drive[loc[dl], loc[w2]]) <= z[k, j + 1]
                    if ok:
                        best_k, best_i, best_j, best = k, i, j, delta
                if timed:
                    t = max(lo[w2], over_sj + drive[loc[sj], loc[w2]])
    return best_k, best_i, best_j


@njit(cache=True)
def put(seq: Any, n: Any, k: int, pos: int, x: int) -> None:
    """x into vehicle k's route at position pos (after the pos-th stop counting the start)."""
    for t in range(n[k], pos, -1):
        seq[k, t] = seq[k, t - 1]
    seq[k, pos] = x
    n[k] += 1


@njit(cache=True)
def insert(day: Day, seq: Any, n: Any, order: Any, closed: Any, wk: Work, blink: float) -> None:
    """Each visit of ``order`` (with its shipment's other end) at its cheapest feasible place in
    the routes ``seq``/``n``, in that order; one with no feasible place stays out. Vehicles
    ``closed`` are not used."""
    for k in range(len(day.starts)):
        wk.dirty[k] = True
    for i in range(len(wk.done)):
        wk.done[i] = False
    alike(day, n, closed, wk)
    for x in order:
        if wk.done[x] or day.never[x]:
            continue  # (never served: a window that opens after every shift has ended)
        p = day.partner[x]
        wk.done[x] = True
        if p >= 0:
            wk.done[p] = True
            pk, dl = (x, p) if day.pickup[x] else (p, x)
            k, i, j = best_pair(day, seq, n, wk, pk, dl, blink)
            if k < 0:
                continue
            opened = n[k] == 0
            put(seq, n, k, j, dl)
            put(seq, n, k, i, pk)
        else:
            k, i = best_visit(day, seq, n, wk, x, blink)
            if k < 0:
                continue
            opened = n[k] == 0
            put(seq, n, k, i, x)
        wk.dirty[k] = True
        if opened:
            alike(day, n, closed, wk)


@njit(cache=True)
def routes_cost(day: Day, seq: Any, n: Any) -> int:
    """The routes' fixed, travel and move costs as OR-Tools counts them (not the penalties)."""
    starts, ends, loc, costm, rclass, fixed, had = (
        day.starts,
        day.ends,
        day.loc,
        day.costm,
        day.rclass,
        day.fixed,
        day.had,
    )
    move_cost = day.move_cost
    total = 0
    for k in range(len(starts)):
        if n[k] == 0:
            continue
        total += fixed[k]
        u = stop(starts, ends, seq, n, k, 0)
        for t in range(1, n[k] + 2):
            w = stop(starts, ends, seq, n, k, t)
            total += arc(costm, loc, rclass[k], u, w)
            if t <= n[k]:
                total += move(had, move_cost, w, k)
            u = w
    return total
