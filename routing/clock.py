"""The clock as the search sees it: time-of-day speeds turned into a warped time in which every
drive takes exactly its duration at the profile's 100 %, so OR-Tools can plan with static
transits and still keep the real clock (docs/routing.md, "Time").

With a travel profile, real time t maps to warped time W(t) = the driving (in 1/100 s at 100 %)
one could do from midnight to t. A drive of ``base`` seconds at 100 % that leaves at t arrives
at the real moment whose W is W(t) + 100·base, whatever the hour: in W every drive is a
constant. ``TravelProfile.drive`` is that same integral, so W and ``plan.schedule`` agree to the
rounding of a second, which each arc's margin absorbs. What W cannot make constant is what
happens standing still (service, reloads, the break): a stop of s real seconds lasts
W(t + s) - W(t), more in a fast hour than in a slow one. The search charges each with its
largest value over the hours it can happen in, so a plan that is on time in W is on time on
the real clock (leaving earlier never arrives later), and ``plan.check`` stays the judge.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from routing.model import DAY_S, TravelProfile

SCALE = 100  # warped units per second driven at the profile's 100 %


@dataclass(frozen=True)
class Clock:
    """Real seconds from midnight <-> warped units. Without a profile, time is plain seconds and
    every drive takes ``factor_pct`` percent of the matrix (100: as given; the shifts' mean of
    a profile: how the core planned before it planned with the clock)."""

    profile: TravelProfile | None
    factor_pct: int = 100

    @cached_property
    def _table(self) -> tuple[list[int], list[int], list[int], int]:
        """Period starts within the day, their percent, W at each start, and W of a whole day."""
        assert self.profile is not None
        starts = [0] + [s for s, _ in self.profile.periods if s > 0]
        pcts = [self.profile.percent_at(s) for s in starts]
        acc = [0]
        for k in range(1, len(starts)):
            acc.append(acc[-1] + (starts[k] - starts[k - 1]) * SCALE * 100 // pcts[k - 1])
        per_day = acc[-1] + (DAY_S - starts[-1]) * SCALE * 100 // pcts[-1]
        return starts, pcts, acc, per_day

    def at(self, t_s: int) -> int:
        """W(t): warped units from midnight of day 0 to ``t_s``."""
        if self.profile is None:
            return t_s
        starts, pcts, acc, per_day = self._table
        day, tod = divmod(t_s, DAY_S)
        k = bisect_right(starts, tod) - 1
        return day * per_day + acc[k] + (tod - starts[k]) * SCALE * 100 // pcts[k]

    def drive(self, base_s: int) -> int:
        """Warped units of a drive of ``base_s`` at 100 %, with one second's margin for the
        schedule's rounding up to whole seconds."""
        if self.profile is None:
            return base_s * self.factor_pct // 100
        return 0 if base_s == 0 else SCALE * base_s + SCALE

    def still(self, duration_s: int, earliest_s: int, latest_s: int) -> int:
        """Warped units of standing still for ``duration_s`` starting anywhere in
        [earliest_s, latest_s]: the largest, so the search never plans too little time."""
        if self.profile is None or duration_s == 0:
            return duration_s
        starts = self._table[0]
        latest_s = min(latest_s, earliest_s + DAY_S)  # the profile repeats every day
        # W(t + d) - W(t) is piecewise linear in t: its largest value is at a breakpoint,
        # where t or t + d meets a period boundary, or at an end of the interval.
        cands = {earliest_s, latest_s}
        for day in range(earliest_s // DAY_S, (latest_s + duration_s) // DAY_S + 1):
            for s in starts:
                b = day * DAY_S + s
                for t in (b, b - duration_s):
                    if earliest_s <= t <= latest_s:
                        cands.add(t)
        return max(self.at(t + duration_s) - self.at(t) for t in cands) + 1
