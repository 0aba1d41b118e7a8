"""Loads: parcels that ride together on one leg (an office pair, at most one van's capacity).

The routing core sees a load as one shipment whose id is the load's ``ref``; the plan comes back
by ref and is stored parcel by parcel.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from logistics.models import Parcel


@dataclass(frozen=True)
class Load:
    """Parcels of one office pair that ride together (at most one van's capacity)."""

    ref: str
    origin: str
    destination: str
    parcel_ids: tuple[int, ...]
    weight_g: int
    van: str = ""  # mid-day: the van already carrying it (it is only delivered)


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
