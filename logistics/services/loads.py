"""Loads: parcels that ride together on one leg (an office pair, at most one van's capacity).

The routing core sees a load as one shipment whose id is the load's ``ref``; the plan comes back
by ref and is stored parcel by parcel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from logistics.models import DayPlan, Office, Parcel


@dataclass(frozen=True)
class Load:
    """Parcels of one office pair that ride together (at most one van's capacity)."""

    ref: str
    origin: str
    destination: str
    parcel_ids: tuple[int, ...]
    weight_g: int
    van: str = ""  # mid-day: the van already carrying it (it is only delivered)
    expected: int = 0  # parcels not in the system yet (a merchant's pickup, by its estimate)

    @property
    def count(self) -> int:
        return len(self.parcel_ids) + self.expected


def _pair(p: Parcel) -> tuple[str, str]:
    return p.leg_from.code, p.leg_to.code


def loads_of(
    parcels: Sequence[Parcel],
    max_parcels: int,
    max_g: int,
    pair: Callable[[Parcel], tuple[str, str]] = _pair,
) -> list[Load]:
    """Group parcels by office pair (``pair``: where a parcel is taken from and to on this
    leg); split a group (in parcel order) only when one more parcel would not fit the largest
    van by count or by weight."""
    groups: dict[tuple[str, str], list[Parcel]] = defaultdict(list)
    for p in parcels:
        groups[pair(p)].append(p)
    out: list[Load] = []
    for (o, d), ps in sorted(groups.items()):
        part: list[Parcel] = []
        grams = 0
        for p in ps:
            if part and (len(part) + 1 > max_parcels or grams + p.weight_g > max_g):
                out.append(Load(f"{o}>{d}#{len(out)}", o, d, tuple(x.id for x in part), grams))
                part, grams = [], 0
            part.append(p)
            grams += p.weight_g
        out.append(Load(f"{o}>{d}#{len(out)}", o, d, tuple(x.id for x in part), grams))
    return out


def load_of(ref: str, parcels: Sequence[Parcel], origin: str = "", van: str = "") -> Load:
    """Parcels of one pair as one load; ``origin``: where they are now, if not their office;
    ``van``: the van already carrying them."""
    first = parcels[0]
    return Load(
        ref,
        origin or first.leg_from.code,
        first.leg_to.code,
        tuple(p.id for p in parcels),
        sum(p.weight_g for p in parcels),
        van,
    )


# The same legs in SQL: where a van takes a parcel from and to (backwards for one going back
# to its sender), for the planner's counts.
LEG_FROM = case(
    (Parcel.returning_since.is_(None), Parcel.origin_office_id),
    else_=Parcel.destination_office_id,
)
LEG_TO = case(
    (Parcel.returning_since.is_(None), Parcel.destination_office_id),
    else_=Parcel.origin_office_id,
)


def office_pairs(session: Session, plan: DayPlan) -> list[tuple[str, str, int]]:
    """The office pairs of a plan version (from code, to code, parcels), for moves."""
    ids = [sp.parcel_id for r in plan.routes for s in r.stops for sp in s.parcels]
    ids += [u.parcel_id for u in plan.unassigned]
    if not ids:
        return []
    o, d = Office.__table__.alias("o"), Office.__table__.alias("d")
    rows = session.execute(
        select(o.c.code, d.c.code, func.count(func.distinct(Parcel.id)))
        .join(o, o.c.id == LEG_FROM)
        .join(d, d.c.id == LEG_TO)
        .where(Parcel.id.in_(ids))
        .group_by(o.c.code, d.c.code)
        .order_by(o.c.code, d.c.code)
    ).all()
    return [(a, b, int(n)) for a, b, n in rows]
