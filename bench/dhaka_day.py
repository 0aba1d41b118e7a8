"""The seeded Dhaka day for benchmarks: DakGhor's 11 intake and 21 delivery offices, the hub
and 18 vans from logistics/data, and a few thousand parcels spread over the office pairs."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from routing.modes import Consignment, Home, Site, Van

DATA = Path(__file__).resolve().parents[1] / "logistics" / "data"


def network() -> tuple[Site, list[Site], list[Site], list[Van]]:
    rows = list(csv.DictReader((DATA / "dhaka_offices.csv").open(encoding="utf-8")))

    def site(r: dict[str, str]) -> Site:
        return Site(r["code"], float(r["lat"]), float(r["lon"]), r["opens_at"], r["closes_at"])

    hub = next(site(r) for r in rows if r["role"] == "hub")
    hub = Site(hub.id, hub.lat, hub.lon, "06:00", "22:00")
    intake = [site(r) for r in rows if r["role"] == "intake"]
    delivery = [site(r) for r in rows if r["role"] == "delivery"]
    vans = [
        Van(r["registration"], int(r["capacity_kg"]) * 1000, int(r["capacity_parcels"]))
        for r in csv.DictReader((DATA / "vans.csv").open())
    ]
    return hub, intake, delivery, vans


def consignments(
    intake: list[Site], delivery: list[Site], parcels: int, seed: int, pairs: int = 230
) -> list[Consignment]:
    """``parcels`` parcels over ``pairs`` intake->delivery pairs (of the 231), skewed like real
    demand: a few busy merchants' offices send most. Weights 200 g - 5 kg."""
    rng = random.Random(seed)
    all_pairs = [(o.id, d.id) for o in intake for d in delivery]
    chosen = rng.sample(all_pairs, min(pairs, len(all_pairs)))
    weights = [rng.paretovariate(1.5) for _ in chosen]
    total = sum(weights)
    out = []
    left = parcels
    for k, ((o, d), w) in enumerate(zip(chosen, weights, strict=True)):
        n = left if k == len(chosen) - 1 else max(1, round(parcels * w / total))
        n = max(1, min(n, left - (len(chosen) - k - 1)))
        left -= n
        grams = sum(rng.randint(200, 5000) for _ in range(n))
        out.append(Consignment(o, d, grams, n))
    return out


def homes(office: Site, n: int, seed: int, radius_deg: float = 0.02) -> list[Home]:
    """``n`` homes within about 2 km of ``office``, with 2-hour windows between 10:00 and 18:00."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        start = rng.choice(["10:00", "12:00", "14:00", "16:00"])
        end = f"{int(start[:2]) + 2:02d}:00"
        out.append(
            Home(
                f"H{k + 1}",
                office.lat + rng.uniform(-radius_deg, radius_deg),
                office.lon + rng.uniform(-radius_deg, radius_deg),
                (start, end),
                rng.randint(200, 3000),
                1,
            )
        )
    return out
