"""What the independent check of a plan finds (``routing.plan.schedule``, ``routing.verify``):
each finding English words, with a code and the values it names, so a product can say it in
its own words."""

from __future__ import annotations

from typing import Any


class Violation(str):
    """A finding of ``schedule`` or ``check``: its English words (what the CLI prints and
    logs read), with a code from ``VIOLATIONS`` and the values it names (``vehicle``, ``job``,
    ``kind``, times in seconds of the day, loads), so a product can say it in its own words."""

    code: str
    args: dict[str, Any]

    def __new__(cls, text: str, code: str, **args: Any) -> Violation:
        self = super().__new__(cls, text)
        self.code, self.args = code, args
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # across processes, with its code and values
        return (_violation, (str(self), self.code, self.args))


def _violation(text: str, code: str, args: dict[str, Any]) -> Violation:
    return Violation(text, code, **args)


VIOLATIONS = (
    # schedule: how a route unfolds
    "break_late",  # vehicle, at_s, limit_s
    "over_capacity",  # vehicle, dimension, value, limit, kind, job (kind "start": at the start)
    "negative_load",  # vehicle, dimension, value, kind, job
    "no_reload_site",  # vehicle
    "after_window",  # vehicle, kind, job, at_s, limit_s
    "break_missed",  # vehicle, limit_s, at_s
    "after_shift",  # vehicle, at_s, limit_s
    "too_long",  # vehicle, value_s, limit_s
    "too_many_reloads",  # vehicle, limit
    # check: what the plan says against the problem
    "unknown_vehicle",  # vehicle
    "two_routes",  # vehicle
    "unknown_job",  # vehicle
    "no_start_or_end",  # vehicle
    "times_differ",  # vehicle
    "totals_differ",  # vehicle
    "delivery_first",  # vehicle, job
    "pinned_elsewhere",  # vehicle, job
    "lock_differs",  # vehicle
    "not_delivered",  # vehicle, job
    "lock_missing",  # vehicle
    "no_reason",  # job
    "not_once",  # job, count
)
