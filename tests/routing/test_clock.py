"""Planning with the clock: warped time makes drives constants, the search's plans survive the
real clock, the break is taken on the way when the next stop would pass it, and left-over jobs
are put where the real clock has room."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from routing import modes, still
from routing.clock import SCALE, Clock
from routing.fill import fill
from routing.matrix import dhaka_profile, hhmm
from routing.model import (
    Break,
    Location,
    Lock,
    Problem,
    Service,
    Stop,
    TimeWindow,
    TravelProfile,
    Vehicle,
)
from routing.plan import schedule
from routing.solver import SolveOptions, solve
from tests.routing.test_modes import DELIVERY as MODES_DELIVERY
from tests.routing.test_modes import HUB, INTAKE

PROFILE = dhaka_profile()[1]
CLOCK = Clock(PROFILE)


@settings(max_examples=300, deadline=None)
@given(depart=st.integers(0, 2 * 86_400), base=st.integers(1, 30_000))
def test_in_warped_time_every_drive_takes_its_base_duration(depart: int, base: int) -> None:
    arrival = PROFILE.drive(depart, base)
    warped = CLOCK.at(arrival) - CLOCK.at(depart)
    assert SCALE * base - SCALE <= warped <= CLOCK.drive(base)


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 86_400),
    width=st.integers(0, 36_000),
    duration=st.integers(1, 7_200),
    at=st.floats(0, 1),
)
def test_standing_still_is_charged_at_its_longest(
    start: int, width: int, duration: int, at: float
) -> None:
    t = start + int(width * at)
    assert CLOCK.at(t + duration) - CLOCK.at(t) <= CLOCK.still(duration, start, start + width)


def test_without_a_profile_the_clock_is_the_identity() -> None:
    clock = Clock(None)
    assert (clock.at(12_345), clock.drive(600), clock.still(300, 0, 10**9)) == (12_345, 600, 300)


# Fast (100 %) until 09:00, four times slower after. One-way streets: D->A->B->D is 3 km, the
# other way round 15 km. Every drive takes 600 s at 100 %.
FAST_THEN_SLOW = TravelProfile(((0, 100), (hhmm("09:00"), 400)))
ONE_WAY = ((0, 1000, 5000), (5000, 0, 1000), (1000, 5000, 0))


def toy(leaves: str, b_closes: str) -> Problem:
    t = hhmm(leaves)
    return Problem(
        locations=(Location("D"), Location("A"), Location("B")),
        distance_m=ONE_WAY,
        duration_s=((0, 600, 600), (600, 0, 600), (600, 600, 0)),
        vehicles=(Vehicle("van", 0, 0, (10,), TimeWindow(t, t + 4 * 3600)),),
        services=(
            Service("A", Stop(1), (1,)),
            Service("B", Stop(2, 0, TimeWindow(0, hhmm(b_closes))), (1,)),
        ),
        profile=FAST_THEN_SLOW,
    )


def order(problem: Problem, **options: object) -> list[str | None]:
    plan = solve(problem, SolveOptions(time_limit_s=1, **options))  # type: ignore[arg-type]
    assert plan.check(problem) == [] and not plan.unassigned
    return [v.job_id for v in plan.routes[0].visits if v.kind == "service"]


def test_leaving_later_changes_the_best_order() -> None:
    # At 08:00 the short way (A, then B by 08:20) is driven before the slow hours; at 08:45 the
    # drive from A to B runs into them (B at 09:20, after it closes), so B comes first.
    assert order(toy("08:00", "09:10")) == ["A", "B"]
    assert order(toy("08:45", "09:10")) == ["B", "A"]


def test_the_clock_finds_the_order_the_mean_speed_misses() -> None:
    # At the shift's mean speed (325 %) A then B reaches B at 09:05, after 08:40: the old model
    # drives the 15 km way round; on the clock A then B is at B by 08:20.
    assert order(toy("08:00", "08:40")) == ["A", "B"]
    assert order(toy("08:00", "08:40"), time_model="mean", fill=False) == ["B", "A"]


def on_road_break(closes: str = "18:00") -> Problem:
    return Problem(
        locations=(Location("D"), Location("A")),
        distance_m=((0, 20_000), (20_000, 0)),
        duration_s=((0, 3600), (3600, 0)),
        vehicles=(
            Vehicle(
                "van",
                0,
                0,
                (10,),
                TimeWindow(hhmm("12:30"), hhmm("18:00")),
                breaks=(Break(hhmm("13:00"), hhmm("13:30"), 1800),),
            ),
        ),
        services=(Service("A", Stop(1, 600, TimeWindow(hhmm("09:00"), hhmm(closes))), (1,)),),
    )


def test_a_break_the_next_stop_would_pass_is_taken_on_the_road() -> None:
    p = on_road_break()
    route, issues = schedule(p, p.vehicles[0], [("service", 0)])
    assert issues == []
    kinds = [(v.kind, v.start_s, v.departure_s) for v in route.visits]
    # leaves 12:30, stops at 13:00 for 30 min on the way, arrives 14:00, serves until 14:10
    assert kinds[1] == ("break", hhmm("13:00"), hhmm("13:30"))
    assert kinds[2] == ("service", hhmm("14:00"), hhmm("14:10"))


def test_a_break_is_taken_while_waiting_for_a_window() -> None:
    p = on_road_break()
    late_open = replace(p.services[0], stop=Stop(1, 600, TimeWindow(hhmm("15:00"), hhmm("16:00"))))
    early = replace(p.vehicles[0], shift=TimeWindow(hhmm("11:30"), hhmm("18:00")))
    p = replace(p, services=(late_open,), vehicles=(early,))  # at A by 12:30, opens at 15:00
    route, issues = schedule(p, p.vehicles[0], [("service", 0)])
    assert issues == []
    assert [v.kind for v in route.visits] == ["start", "break", "service", "end"]
    assert (route.visits[1].location, route.visits[1].start_s) == (1, hhmm("13:00"))
    assert route.visits[2].start_s == hhmm("15:00")


DELIVERY = [*MODES_DELIVERY, modes.Site("UTT", 23.8759, 90.3795)]
VANS = [modes.Van(f"V{k}", 1_000_000, 220) for k in range(3)]
DAY = [
    modes.Consignment(o.id, d.id, 20_000 * (1 + k % 3), 10 + 7 * k)
    for k, (o, d) in enumerate((o, d) for o in INTAKE for d in DELIVERY)
]


def test_what_the_search_routes_the_real_clock_keeps() -> None:
    """Without the fill, every job the search routes is on time when timed with the Dhaka
    speeds and the lunch break: nothing is dropped by the re-timing."""
    problems = [modes.van_day(HUB, INTAKE, DELIVERY, VANS, DAY)]
    problems += modes.hub_and_spoke(HUB, INTAKE, DELIVERY, VANS, DAY)
    office = DELIVERY[0]
    homes = [
        modes.Home(f"H{k}", 23.76 + (k % 7) * 0.004, 90.35 + (k // 7) * 0.004, w, 1500)
        for k, w in enumerate([("10:00", "12:00"), ("13:00", "15:00"), ("15:00", "17:00")] * 10)
    ]
    problems.append(modes.last_mile(office, homes, VANS[:2]))
    for p in problems:
        for seed in (0, 1):
            plan = solve(p, SolveOptions(time_limit_s=2, seed=seed, fill=False))
            assert plan.check(p) == []
            assert [u for u in plan.unassigned if u.code == "late_when_timed"] == []


def _three_loads() -> Problem:
    """Two vans, three loads to the hub before 12:30 (the collection of a hub-and-spoke day)."""
    collect, _ = modes.hub_and_spoke(
        HUB,
        INTAKE,
        DELIVERY[:3],
        VANS[:2],
        [
            modes.Consignment("GPO", "MOH", 40_000, 30),
            modes.Consignment("MIR", "KHG", 25_000, 20),
            modes.Consignment("GPO", "DIL", 300_000, 240),
        ],
    )
    return collect


def test_a_feasible_collection_is_not_lost_to_the_cautious_model() -> None:
    """Two vans, three loads to the hub before 12:30: the search, charging stops at the
    midday rate, leaves one out; on the real clock it fits, and the fill puts it back."""
    collect = _three_loads()
    plan = solve(collect, SolveOptions(time_limit_s=2, max_solutions=100))
    assert plan.check(collect) == [] and not plan.unassigned


def services_problem(*, lock: bool = False, pin: tuple[int, ...] | None = None) -> Problem:
    locs = tuple(Location(x) for x in "DXYZ")
    d = tuple(tuple(abs(i - j) * 1000 for j in range(4)) for i in range(4))
    t = tuple(tuple(abs(i - j) * 600 for j in range(4)) for i in range(4))
    vans = tuple(Vehicle(f"v{k}", 0, 0, (2,), TimeWindow(0, 7200)) for k in range(2))
    jobs = (
        Service("x", Stop(1), (1,)),
        Service("y", Stop(2), (1,)),
        Service("z", Stop(3), (1,), vehicles=pin),
    )
    locks = (Lock(0, (("service", "x"), ("service", "y"))),) if lock else ()
    return Problem(locs, d, t, vans, jobs, locks=locks)


def test_the_fill_inserts_where_the_clock_has_room_and_respects_locks_and_pins() -> None:
    p = services_problem()
    seqs, n = fill(p, [[("service", 0), ("service", 1)], []], [("service", 2)], 1e18)
    # v0 is full (capacity 2): z goes to the empty van
    assert n == 1 and seqs == [[("service", 0), ("service", 1)], [("service", 2)]]
    p = services_problem(lock=True, pin=(0,))
    seqs, n = fill(p, [[("service", 0), ("service", 1)], []], [("service", 2)], 1e18)
    assert n == 0 and seqs[1] == []  # pinned to the locked van: stays out
    p = replace(
        services_problem(),
        vehicles=tuple(replace(v, shift=TimeWindow(0, 3000)) for v in p.vehicles),
    )
    seqs, n = fill(p, [[("service", 0)], []], [("service", 2)], 1e18)
    assert n == 0  # Z and back takes 3600 s: no van has the time


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n=st.integers(2, 7),
    shift_start=st.integers(hhmm("07:00"), hhmm("12:00")),
)
def test_the_fill_never_skips_a_gap_that_schedule_would_accept(
    data: st.DataObject, n: int, shift_start: int
) -> None:
    """``may_fit`` refuses a gap only when timing the route with the stop there
    (``plan.schedule``, the judge) finds it late somewhere: Dhaka's speeds, windows, a lunch
    break and the shift's end, on random routes."""
    from routing.fill import may_fit, timing

    size = n + 2
    coords = [data.draw(st.tuples(st.integers(0, 8000), st.integers(0, 8000))) for _ in range(size)]
    dist = tuple(tuple(abs(ax - bx) + abs(ay - by) for bx, by in coords) for ax, ay in coords)
    dur = tuple(tuple(d * 36 // 100 for d in row) for row in dist)  # 10 m/s at 100 %

    def window() -> TimeWindow | None:
        if not data.draw(st.booleans()):
            return None
        opens = data.draw(st.integers(shift_start, shift_start + 6 * 3600))
        return TimeWindow(opens, opens + data.draw(st.integers(600, 3 * 3600)))

    services = tuple(
        Service(f"s{j}", Stop(j + 1, data.draw(st.integers(0, 900)), window()), (1,))
        for j in range(n + 1)
    )
    van = Vehicle(
        "van",
        0,
        0,
        (100,),
        TimeWindow(shift_start, shift_start + data.draw(st.integers(3, 10)) * 3600),
        breaks=(Break(hhmm("13:00"), hhmm("14:00"), 1800),),
    )
    p = Problem(
        tuple(Location(f"L{j}") for j in range(size)),
        dist,
        dur,
        (van,),
        services,
        profile=PROFILE,
    )
    route = [("service", j) for j in data.draw(st.permutations(range(n)))]
    places = timing(p, 0, route)
    extra = services[n]
    for i in range(len(route) + 1):
        if not may_fit(p, places, i, extra.stop):
            trial = [*route[:i], ("service", n), *route[i:]]
            assert schedule(p, van, trial)[1], (i, trial)


def test_the_search_times_each_stop_at_its_hour() -> None:
    """The same three loads with the fill off: charged at its longest, a stop of the morning
    peak keeps a load out of the search's plan; timed at its hour (``exact_stops``, the
    default) the search routes all three, and the real clock keeps them."""
    collect = _three_loads()
    cautious = solve(
        collect, SolveOptions(time_limit_s=2, max_solutions=100, fill=False, exact_stops=False)
    )
    exact = solve(collect, SolveOptions(time_limit_s=2, max_solutions=100, fill=False))
    assert len(cautious.unassigned) == 1
    assert exact.check(collect) == [] and not exact.unassigned
    assert exact.stats["dropped_when_timed"] == 0


STILL_WARP, PER_DAY, STILL_RISE = still.tables(CLOCK)
LUNCH_W = CLOCK.still(1800, hhmm("13:00"), hhmm("14:00"))
LUNCH = still.break_bound(CLOCK, LUNCH_W, hhmm("13:30"))


@settings(max_examples=400, deadline=None)
@given(t=st.integers(0, 2 * 86_400), w=st.integers(0, 2 * PER_DAY))
def test_the_compiled_clock_is_the_clock(t: int, w: int) -> None:
    per_day = PER_DAY
    assert still.w_at(STILL_WARP, per_day, t) == CLOCK.at(t)
    first = still.w_ceil(STILL_WARP, per_day, w)
    assert CLOCK.at(first) >= w > CLOCK.at(first - 1)


@settings(max_examples=400, deadline=None)
@example(a=CLOCK.at(hhmm("19:00")), s=3_600, late=1.0, breaks=True)  # delayed into 20:00's speed
@given(
    a=st.integers(CLOCK.at(hhmm("07:00")), CLOCK.at(hhmm("19:00"))),
    s=st.integers(0, 3_600),
    late=st.floats(0, 1),
    breaks=st.booleans(),
)
def test_a_stop_timed_at_its_hour_is_over_by_then_even_after_a_break(
    a: int, s: int, late: float, breaks: bool
) -> None:
    """Whenever on the real clock a stop starts that the search starts at ``a`` (no later), it
    is over by ``leave(a)``; after a break that delayed it by d, by ``leave(a) + d``; and
    ``latest`` is ``leave``'s inverse."""
    per_day = PER_DAY
    brk = LUNCH if breaks else np.zeros(3, np.int64)
    end = still.leave(STILL_WARP, per_day, brk, STILL_RISE, a, s)
    start = still.w_ceil(STILL_WARP, per_day, a + 1) - 1  # the last second at or before a
    assert CLOCK.at(start + s) <= end
    if breaks:
        d = int(LUNCH_W * late)
        if a + d >= LUNCH[2]:
            start = still.w_ceil(STILL_WARP, per_day, a + d + 1) - 1
            assert CLOCK.at(start + s) <= end + d
    y = end + int(late * 5_000)
    first = still.latest(STILL_WARP, per_day, brk, STILL_RISE, y, s)
    assert still.leave(STILL_WARP, per_day, brk, STILL_RISE, first, s) <= y
    assert still.leave(STILL_WARP, per_day, brk, STILL_RISE, first + 1, s) > y
