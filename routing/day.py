"""What the compiled insertion (routing/kernel.py) reads and writes: ``Day``, the day's arrays
indexed by OR-Tools' routing indices (the visits, the vehicles' starts, then their ends) or by
vehicle, and ``Work``, the scratch arrays of one insertion (per route, each stop's earliest and
latest start of service and its load on arrival). routing/recreate.py builds a ``Day`` from
OR-Tools' model.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Day(NamedTuple):
    """What the insertion reads; every array is indexed by routing index (``loc`` … ``close``)
    or by vehicle (``starts`` … ``vclass``)."""

    loc: Any  # int64[S]: the location of each index
    lo: Any  # int64[S]: earliest start of service (time dimension's cumul min)
    hi: Any  # int64[S]: latest (its max; a vehicle's end also by its span)
    svc: Any  # int64[S]: service, in the clock's units (the time transit is svc + drive)
    dem: Any  # int64[S, D]: what the load changes by at each index (a one-stop job: minus its
    # amount, on board from the start; a pickup plus, its delivery minus)
    partner: Any  # int64[S]: the other end of a shipment, -1 for a service
    pickup: Any  # bool[S]: a shipment's pickup
    allowed: Any  # bool[S, V]: the vehicles that may serve the index (pins)
    had: Any  # int64[S]: the vehicle the initial plan had the job on, -1
    never: Any  # bool[S]: can never be served (a window, its own or its shipment's other end's,
    # opens after every shift)
    close: Any  # bool[S, S]: close[p, x]: x is among the nearest visits of pickup p
    nbr: Any  # int64[S, K]: each visit's nearest visits (for the ruin), -1 past the end
    reps: Any  # int64[J]: one index per job (the first of its visits)
    pen: Any  # int64[J]: what leaving that job out costs
    visits: Any  # int64[N]: the job visits
    starts: Any  # int64[V]
    ends: Any  # int64[V]
    rate: Any  # int64[V]: cost per km
    cap: Any  # int64[V, D]
    fixed: Any  # int64[V]
    vclass: Any  # int64[V]: vehicles alike (depots, shift, costs, capacity) share a class
    dist: Any  # int64[L, L]: metres
    costm: Any  # int64[C, L, L]: the arc costs of each class of cost per km (OR-Tools' matrices)
    rclass: Any  # int64[V]: each vehicle's class of cost per km
    drive: Any  # int64[L, L]: the clock's units
    move_cost: int  # charged when a job leaves the vehicle ``had`` names
    timed: bool  # a time dimension constrains the routes
    alike: bool  # of empty vehicles alike, try only the first (no pins, no initial plan)
    # With ``exact``, what routing/still.py's ``leave`` reads: each index's service in real
    # seconds; the clock's periods (rows: start in seconds from midnight, percent, warped units
    # at the start) and the warped units of a whole day; the breaks (the most warped units one
    # vehicle's add, that in seconds at the slowest period, the warped moment the first can
    # end); and the moments of the day (seconds) at which driving gets faster.
    exact: bool = False
    wsvc: Any = None  # int64[S]
    warp: Any = None  # int64[P, 3]
    per_day: int = 1
    brk: Any = None  # int64[3]
    rise: Any = None  # int64[R]


class Work(NamedTuple):
    """Scratch arrays of one insertion: per route, earliest/latest start and load on arrival."""

    a: Any  # int64[V, M]
    z: Any  # int64[V, M]
    cum: Any  # int64[V, M, D]
    path: Any  # int64[V, M]: each route's stops with its start and end
    full: Any  # bool[M]: scratch: a stop's load on arrival would break a capacity
    dirty: Any  # bool[V]: path, a, z and cum must be computed again
    skip: Any  # bool[V]: not tried (closed, or an empty vehicle alike an earlier one)
    done: Any  # bool[S]


def work_for(day: Day, width: int) -> Work:
    """Scratch arrays for routes of up to ``width`` visits."""
    v, d, s = len(day.starts), day.dem.shape[1], len(day.loc)
    m = width + 2
    return Work(
        np.zeros((v, m), np.int64),
        np.zeros((v, m), np.int64),
        np.zeros((v, m, d), np.int64),
        np.zeros((v, m), np.int64),
        np.zeros(m, np.bool_),
        np.ones(v, np.bool_),
        np.zeros(v, np.bool_),
        np.zeros(s, np.bool_),
    )
