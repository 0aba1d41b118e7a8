"""Problem validation names the field; the time-of-day profile never lets a later start arrive earlier."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.errors import InvalidProblem
from routing.model import Location, Problem, Service, Stop, TimeWindow, TravelProfile, Vehicle


def tiny(**kw: object) -> Problem:
    m = ((0, 10, 20), (10, 0, 10), (20, 10, 0))
    args: dict[str, object] = dict(
        locations=(Location("d"), Location("a"), Location("b")),
        distance_m=m,
        duration_s=m,
        vehicles=(Vehicle("v", 0, 0, (10,), TimeWindow(0, 1000)),),
        services=(Service("s1", Stop(1), (3,)), Service("s2", Stop(2), (4,))),
    )
    args.update(kw)
    return Problem(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"distance_m": ((0, 1), (1, 0))}, "distance_m"),
        ({"duration_s": ((0, 1, 2), (1, 0, 1), (2, 1))}, "duration_s[2]"),
        ({"distance_m": ((0, -1, 2), (1, 0, 1), (2, 1, 0))}, "distance_m[0][1]"),
        ({"vehicles": (Vehicle("v", 0, 7, (10,), TimeWindow(0, 1)),)}, "vehicles[0].end"),
        ({"vehicles": (Vehicle("v", 0, 0, (-1,), TimeWindow(0, 1)),)}, "vehicles[0].capacity"),
        ({"vehicles": (Vehicle("v", 0, 0, (1,), TimeWindow(5, 1)),)}, "vehicles[0].shift"),
        ({"vehicles": ()}, "vehicles"),
        ({"services": (Service("s", Stop(9), (1,)),)}, "services[0].stop.location"),
        (
            {"services": (Service("s", Stop(1, window=TimeWindow(9, 3)), (1,)),)},
            "services[0].stop.window",
        ),
        ({"services": (Service("s", Stop(1), (1, 2)),)}, "services[0].amount"),
        (
            {"services": (Service("s", Stop(1), (1,)), Service("s", Stop(2), (1,)))},
            "services[1].id",
        ),
        ({"profile": TravelProfile(((3600, 100),))}, "profile.periods"),
    ],
)
def test_invalid_input_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidProblem) as e:
        tiny(**change)
    assert e.value.field == field


def test_a_valid_problem_is_frozen() -> None:
    p = tiny()
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]
    assert replace(p, name="x").name == "x"


PROFILE = TravelProfile(((0, 100), (8 * 3600, 400), (11 * 3600, 250), (20 * 3600, 150)))


def test_profile_drives_through_the_periods() -> None:
    # 1 h of free-flow driving starting 7:30: 30 min at 100 %, then 30 min worth at 400 % = 2 h
    assert PROFILE.drive(7 * 3600 + 1800, 3600) == 7 * 3600 + 1800 + 1800 + 7200


@given(st.integers(0, 2 * 86400), st.integers(1, 7200), st.integers(0, 3600))
def test_leaving_later_never_arrives_earlier(t: int, base: int, delay: int) -> None:
    assert PROFILE.drive(t + delay, base) >= PROFILE.drive(t, base)
    assert PROFILE.drive(t, base) - t >= base  # never faster than free flow here
