"""The time dimension of the OR-Tools model (routing/ortools_model.py): drives, service,
windows, shifts and duration limits in the clock's units (routing/clock.py), and where a
vehicle's breaks are taken off them (docs/routing.md, "Time" and "Breaks")."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routing.clock import Clock
from routing.model import Break, Problem, TimeWindow

if TYPE_CHECKING:
    from routing.ortools_model import _Node


def time_dimension(
    problem: Problem,
    routing: Any,
    manager: Any,
    nodes: list[_Node],
    clock: Clock,
    *,
    off_windows: bool,
    off_shift: bool = True,
) -> tuple[list[int], list[list[int]], int]:
    """Time in the clock's units (routing/clock.py): every drive a constant, windows, shifts and
    limits mapped through the clock, standing still charged at its longest for the hours it can
    happen in, and (``off_shift``) the break taken off the end of the shift. With
    ``off_windows`` the break is also taken off every window that closes after it can begin (a
    stop planned there may come after it; a break taken before a stop delays it by at most that
    much), so what is on time here stays on time on the real clock. With neither, the real
    clock is left to find the break its place (``SolveOptions.breaks``, "hopeful"). (OR-Tools'
    break intervals model the break exactly but slowed the search down: docs/routing.md.) With
    a profile-less clock at the shifts' mean factor and no break off the windows, this is the
    model the core planned with before the clock. Returns the transit's parts: each node's
    service and the drives between locations; and the most any vehicle's breaks take off a
    window (0 without ``off_windows``)."""
    vehicles = problem.vehicles
    day = TimeWindow(min(v.shift.start_s for v in vehicles), max(v.shift.end_s for v in vehicles))
    locs = [nd.location for nd in nodes]

    def service_w(nd: _Node) -> int:
        if nd.stop is None:
            return 0
        w = nd.stop.window or day
        lo, hi = max(w.start_s, day.start_s), min(w.end_s, day.end_s)
        return clock.still(nd.stop.service_s, lo, max(lo, hi))

    service = [service_w(nd) for nd in nodes]
    drive = [[clock.drive(x) for x in row] for row in problem.duration_s]
    time_idx = routing.RegisterTransitMatrix(
        [
            [service[a] + drive[locs[a]][locs[b]] for b in range(len(nodes))]
            for a in range(len(nodes))
        ]
    )
    horizon = clock.at(day.end_s)
    routing.AddDimension(time_idx, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    brk = {
        k: [(b, clock.still(b.duration_s, b.earliest_start_s, b.latest_start_s)) for b in v.breaks]
        for k, v in enumerate(vehicles)
    }
    margin = _break_margin(brk) if off_windows else (lambda end_s: 0)
    _windows(routing, manager, nodes, time_dim, horizon, clock.at, margin)
    for k, v in enumerate(vehicles):
        start = clock.at(v.shift.start_s)
        off = sum(w for _, w in brk[k]) if off_shift else 0
        time_dim.CumulVar(routing.Start(k)).SetRange(start, start)
        time_dim.CumulVar(routing.End(k)).SetRange(start, max(start, clock.at(v.shift.end_s) - off))
        if v.max_duration_s is not None:
            time_dim.SetSpanUpperBoundForVehicle(
                max(0, clock.at(v.shift.start_s + v.max_duration_s) - start - off), k
            )
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))
    most = max((sum(w for _, w in b) for b in brk.values()), default=0)
    return service, drive, most if off_windows else 0


def _break_margin(brk: dict[int, list[tuple[Break, int]]]) -> Callable[[int], int]:
    """Warped units to take off a window closing at ``end_s``: the breaks any vehicle may have
    begun by then."""

    def margin(end_s: int) -> int:
        return max(
            (sum(w for b, w in breaks if b.earliest_start_s < end_s) for breaks in brk.values()),
            default=0,
        )

    return margin


def _windows(
    routing: Any,
    manager: Any,
    nodes: list[_Node],
    time_dim: Any,
    horizon: int,
    at: Callable[[int], int],
    margin: Callable[[int], int],
) -> None:
    for idx in range(routing.Size()):
        nd = nodes[manager.IndexToNode(idx)]
        if nd.stop is not None and nd.stop.window is not None:
            w = nd.stop.window
            if at(w.start_s) > horizon:
                routing.ActiveVar(idx).SetValue(0)  # opens after every shift ends: never served
            else:
                end = min(at(w.end_s) - margin(w.end_s), horizon)
                time_dim.CumulVar(idx).SetRange(at(w.start_s), max(at(w.start_s), end))
