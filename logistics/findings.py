"""A plan version's findings: what the routing core's independent check found wrong with it
(``routing.violations``), kept with the version (``encode``) and said in the reader's words
(``say``). A finding kept before its code was (plain English) is shown as it is, marked as
untranslated."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString

from logistics.i18n import _l, digits, number
from routing.violations import Violation


@dataclass(frozen=True)
class Finding:
    words: str
    ours: bool  # said in the reader's language (False: the core's English words)


def encode(found: Sequence[str]) -> str:
    """The findings as the version keeps them: one JSON object a line (code, values, words)."""
    return "\n".join(
        json.dumps(
            {"code": v.code, **v.args, "text": str(v)}
            if isinstance(v, Violation)
            else {"text": str(v)},
            ensure_ascii=False,
        )
        for v in found
    )


def say(kept: str) -> list[Finding]:
    """Each finding of a version, in the reader's words where its code is known."""
    return [_say(line) for line in kept.splitlines() if line.strip()]


def _say(line: str) -> Finding:
    try:
        found = json.loads(line)
    except ValueError:
        return Finding(line, False)  # kept as English words
    if not isinstance(found, dict):
        return Finding(line, False)
    words = _WORDS.get(str(found.get("code")))
    if words is None:
        return Finding(str(found.get("text", line)), False)
    try:
        return Finding(str(words) % _values(found), True)
    except (KeyError, TypeError, ValueError):
        return Finding(str(found.get("text", line)), False)


def _values(found: dict[str, Any]) -> dict[str, Any]:
    """The values a finding names, as its words show them: times of the day on a clock,
    durations in minutes, numbers in the reader's digits, a load by its offices."""
    kind, dimension = str(found.get("kind")), str(found.get("dimension"))
    out: dict[str, Any] = {
        "van": found.get("vehicle", ""),
        "job": _job(found.get("job")),
        "stop": str(_STOPS.get(kind, _l("a stop"))),
        "dimension": str(_DIMENSIONS.get(dimension, dimension)),
    }
    for key in ("value", "limit", "count"):
        if key in found:
            out[key] = number(int(found[key]))
    if "at_s" in found:
        out["at"] = _clock(int(found["at_s"]))
    if "value_s" in found:  # a route's length, and the most it may take
        out["minutes"] = number(round(int(found["value_s"]) / 60))
        out["limit"] = number(round(int(found["limit_s"]) / 60))
    elif "limit_s" in found:
        out["limit"] = _clock(int(found["limit_s"]))
    return out


def _clock(seconds: int) -> str:
    """Seconds of the service day as the time on a clock (past midnight: the next day's)."""
    h, m = divmod(seconds // 60, 60)
    return digits(f"{h % 24:02d}:{m:02d}")


def _job(job: Any) -> str:
    """A load's reference ("ORIGIN>DESTINATION#n") as its offices, else as it is."""
    text = "" if job is None else str(job)
    pair = text.split("#", 1)[0]
    return pair.replace(">", " → ") if ">" in pair else text


_STOPS: dict[str, LazyString] = {
    "start": _l("the start"),
    "pickup": _l("a loading"),
    "delivery": _l("a drop"),
    "service": _l("a stop"),
    "reload": _l("a reload at the hub"),
}
_DIMENSIONS: dict[str, LazyString] = {
    "grams": _l("weight in grams"),
    "parcels": _l("parcels"),
}
_WORDS: dict[str, LazyString] = {
    "break_late": _l("Van %(van)s: the driver's break starts at %(at)s, after its latest start, %(limit)s."),
    "over_capacity": _l("Van %(van)s: %(dimension)s on board %(value)s, over its capacity %(limit)s, after %(stop)s (%(job)s)."),
    "negative_load": _l("Van %(van)s: %(dimension)s on board below zero (%(value)s) after %(stop)s (%(job)s)."),
    "no_reload_site": _l("Van %(van)s: a reload, but the van has nowhere to reload."),
    "after_window": _l("Van %(van)s: %(stop)s (%(job)s) starts at %(at)s, after its window closes at %(limit)s."),
    "break_missed": _l("Van %(van)s: the driver's break (latest start %(limit)s) is not taken on a route that ends at %(at)s."),
    "after_shift": _l("Van %(van)s: back at %(at)s, after the shift ends at %(limit)s."),
    "too_long": _l("Van %(van)s: the route takes %(minutes)s minutes, more than the %(limit)s minutes allowed."),
    "too_many_reloads": _l("Van %(van)s: more reloads than the %(limit)s allowed."),
    "unknown_vehicle": _l("A route for a van that is not in the plan: %(van)s."),
    "two_routes": _l("Van %(van)s has two routes."),
    "unknown_job": _l("Van %(van)s: the route calls at a load that is not in the plan."),
    "no_start_or_end": _l("Van %(van)s: the route does not begin at its start or finish at its end."),
    "times_differ": _l("Van %(van)s: the route's times or loads differ from those recomputed."),
    "totals_differ": _l("Van %(van)s: the route's distance, duration or cost differ from those recomputed."),
    "delivery_first": _l("Van %(van)s: drops %(job)s before loading it."),
    "pinned_elsewhere": _l("Van %(van)s: carries %(job)s, which is moved to another van."),
    "lock_differs": _l("Van %(van)s: the route differs from its locked route."),
    "not_delivered": _l("Van %(van)s: loads %(job)s but does not drop it."),
    "lock_missing": _l("Van %(van)s: its locked route is missing."),
    "no_reason": _l("%(job)s is left out without a reason."),
    "not_once": _l("%(job)s is in the plan %(count)s times; it must be once."),
}  # fmt: skip
