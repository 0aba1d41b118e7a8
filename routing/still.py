"""Standing still on the real clock, in the search's warped units, compiled (numba) for the
insertion checks of routing/kernel.py: warped time runs at each period's speed (routing/clock.py),
so a drive is a constant there but a stop is not; ``leave`` times a stop at the hour it is made
and ``latest`` is its inverse. docs/routing.md ("Time") gives the argument."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from routing.clock import SCALE, Clock

DAY_S = 86_400
WARP = SCALE * 100  # a second at a period's p % is WARP // p warped units (routing/clock.py)


def tables(clock: Clock) -> tuple[Any, int, Any]:
    """What ``leave`` reads of ``clock`` (one with a profile): its periods (rows: start in
    seconds from midnight, percent, warped units at the start), the warped units of a whole
    day, and the moments of the day (seconds) at which driving gets faster (a lower percent;
    midnight after the last period included)."""
    starts, pcts, acc, per_day = clock._table
    warp = np.array(list(zip(starts, pcts, acc, strict=True)), np.int64)
    rise = np.array([s for k, s in enumerate(starts) if pcts[k] < pcts[k - 1]], np.int64)
    return warp, per_day, rise


def break_bound(clock: Clock, most_w: int, over_from_s: int) -> Any:
    """``leave``'s ``brk``: the most warped units one vehicle's breaks add (``most_w``), that
    in seconds at the slowest period, and the warped moment the first break can be over
    (``over_from_s``, seconds)."""
    slowest = max(clock._table[1])
    return np.array([most_w, -(-most_w * slowest // WARP) + 1, clock.at(over_from_s)], np.int64)


@njit(cache=True)
def _period(warp: Any, col: int, x: int) -> int:
    """The last period whose start (in seconds: ``col`` 0; warped: 2) is at or before ``x``."""
    k = 0
    for r in range(1, warp.shape[0]):
        if warp[r, col] > x:
            break
        k = r
    return k


@njit(cache=True)
def w_at(warp: Any, per_day: int, t: int) -> int:
    """Warped units from midnight of day 0 to second ``t`` (routing/clock.py's ``Clock.at``)."""
    day = t // DAY_S
    tod = t - day * DAY_S
    k = _period(warp, 0, tod)
    return int(day * per_day + warp[k, 2] + (tod - warp[k, 0]) * WARP // warp[k, 1])


@njit(cache=True)
def w_ceil(warp: Any, per_day: int, w: int) -> int:
    """The first second ``t`` with ``w_at(t) >= w``."""
    day, _, t_in = _start(warp, per_day, w)
    return int(day * DAY_S + t_in)


@njit(cache=True, inline="always")
def _start(warp: Any, per_day: int, w: int) -> tuple[int, int, int]:
    """``w_ceil(w)`` as its day, its period and its second within the day."""
    day = w // per_day
    rem = w - day * per_day
    k = _period(warp, 2, rem)
    return day, k, warp[k, 0] + ((rem - warp[k, 2]) * warp[k, 1] + WARP - 1) // WARP


@njit(cache=True)
def _stand(warp: Any, per_day: int, w: int, s: int) -> int:
    """Warped units that standing still for ``s`` seconds from warped moment ``w`` lasts (one
    more for the rounding)."""
    return w_at(warp, per_day, w_ceil(warp, per_day, w) + s) + 1 - w


@njit(cache=True)
def _rises(rise: Any, t0: int, t1: int) -> bool:
    """Driving gets faster at some second of [t0, t1]."""
    for d in range(t0 // DAY_S, t1 // DAY_S + 1):
        for r in range(len(rise)):
            b = d * DAY_S + rise[r]
            if t0 <= b <= t1:
                return True
    return False


@njit(cache=True)
def leave(warp: Any, per_day: int, brk: Any, rise: Any, a: int, s: int) -> int:
    """When a stop of ``s`` seconds that starts at warped moment ``a`` is over, in warped units.
    A break (``brk``: the most warped units a vehicle's breaks add, that in seconds at the
    slowest period, and the warped moment the first can end) may have delayed the stop by up
    to its length if the stop starts after it: then the stop is timed at the latest over the
    starts it could have, less the delay, so that a stop delayed by d is over by
    ``leave(a) + d`` and a break taken off the windows (routing/ortools_model.py) is never made
    up for with interest. Never earlier for a later ``a``."""
    if s == 0:
        return a
    # t = w_ceil(a) and end = w_at(t + s) + 1, the period found once where the stop ends in it
    day, k, t_in = _start(warp, per_day, a)
    t = day * DAY_S + t_in
    nxt = warp[k + 1, 0] if k + 1 < warp.shape[0] else DAY_S
    if t_in + s < nxt:
        end = day * per_day + warp[k, 2] + (t_in + s - warp[k, 0]) * WARP // warp[k, 1] + 1
    else:
        end = w_at(warp, per_day, t + s) + 1
    slack, slack_s, since = brk[0], brk[1], brk[2]
    if slack == 0 or a + slack < since:
        return int(end)  # no break can have come before
    lo = max(a, since)
    t0 = t if lo == a else w_ceil(warp, per_day, lo)
    if not _rises(rise, t0 - 1, t + slack_s + s):
        # it lasts no longer if it starts later: the latest start after a break is its first
        return int(end if lo == a else max(end, a + _stand(warp, per_day, lo, s)))
    most = max(end - a, _stand(warp, per_day, lo, s), _stand(warp, per_day, a + slack, s))
    # Its length is piecewise linear in its start: the largest is at an end or where the start
    # or the end crosses into another period.
    for d in range(t0 // DAY_S, (t + slack_s + s) // DAY_S + 2):
        for r in range(warp.shape[0]):
            b = d * DAY_S + warp[r, 0]
            x = w_at(warp, per_day, b)
            if lo < x < a + slack:
                most = max(most, _stand(warp, per_day, x, s))
            x = w_at(warp, per_day, b - s)
            if lo < x < a + slack:
                most = max(most, _stand(warp, per_day, x, s))
    return int(a + most + 1)


@njit(cache=True)
def latest(warp: Any, per_day: int, brk: Any, rise: Any, y: int, s: int) -> int:
    """The latest warped start of a stop of ``s`` seconds that is over by ``y`` (``leave``'s
    inverse)."""
    if s == 0:
        return y
    a = w_at(warp, per_day, w_ceil(warp, per_day, y) - 1 - s)  # over by y without a break
    if brk[0] == 0 or leave(warp, per_day, brk, rise, a, s) <= y:
        return a
    fastest = WARP // warp[0, 1] + 1
    for r in range(warp.shape[0]):
        fastest = max(fastest, WARP // warp[r, 1] + 1)
    lo, hi = y - fastest * (s + 2) - 4, a  # leave(lo) <= y < leave(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if leave(warp, per_day, brk, rise, mid, s) <= y:
            lo = mid
        else:
            hi = mid
    return int(lo)


@njit(cache=True, inline="always")
def clock_of(day: Any) -> tuple[Any, ...]:
    """What timing a stop reads of ``day``, as the caller's locals. The kernel's loops call
    ``leave`` and ``latest`` on these directly: an inlined helper taking them as arguments,
    with the branch between the constant service and ``leave`` inside it, made every place's
    check count references on each array (numba prunes those only within one block), and the
    insertion 3-4x slower on a day without a profile."""
    return (
        day.exact,
        day.svc,
        day.wsvc,
        day.warp,
        day.per_day,
        day.brk,
        day.rise,
        day.drive,
        day.loc,
    )
