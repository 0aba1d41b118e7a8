"""The seeded Dhaka day for benchmarks: DakGhor's 11 intake and 21 delivery offices, the hub
and 18 vans from logistics/data, and a few thousand parcels spread over the office pairs.

Two networks: ``city`` (the service as it runs: every office inside Dhaka city, from
logistics/data/dhaka_offices.csv) and ``far-suburb`` (the earlier seed, kept as a harder stress
case in bench/data/dhaka_far_suburb_offices.csv: eight of its delivery offices are 15-40 km out,
Savar, Dhamrai, Nawabganj, Joypara, Keraniganj, Gazipur, Narayanganj and Jahangirnagar
University, and 45 of its office pairs cannot be served within one shift at peak speeds)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from routing.modes import Consignment, Home, Site, Van

DATA = Path(__file__).resolve().parents[1] / "logistics" / "data"
NETWORKS = {
    "city": DATA / "dhaka_offices.csv",
    "far-suburb": Path(__file__).resolve().parent / "data" / "dhaka_far_suburb_offices.csv",
}


def _roles(r: dict[str, str]) -> set[str]:
    return set((r.get("roles") or r.get("role") or "").split())


def network(name: str = "city") -> tuple[Site, list[Site], list[Site], list[Van]]:
    with NETWORKS[name].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def site(r: dict[str, str]) -> Site:
        return Site(r["code"], float(r["lat"]), float(r["lon"]), r["opens_at"], r["closes_at"])

    hub = next(site(r) for r in rows if "hub" in _roles(r))
    hub = Site(hub.id, hub.lat, hub.lon, "06:00", "22:00")
    intake = [site(r) for r in rows if "intake" in _roles(r)]
    delivery = [site(r) for r in rows if "delivery" in _roles(r)]
    with (DATA / "vans.csv").open(encoding="utf-8") as f:
        vans = [
            Van(r["registration"], int(r["capacity_kg"]) * 1000, int(r["capacity_parcels"]))
            for r in csv.DictReader(f)
        ]
    return hub, intake, delivery, vans


def consignments(
    intake: list[Site], delivery: list[Site], parcels: int, seed: int, pairs: int = 230
) -> list[Consignment]:
    """``parcels`` parcels over ``pairs`` intake->delivery pairs, skewed like real demand: a few
    busy merchants' offices send most. Weights 200 g - 5 kg. A parcel for the office that took
    it never rides a van, so such pairs are left out (222 pairs in the city network, 231 in the
    far-suburb one)."""
    rng = random.Random(seed)
    all_pairs = [(o.id, d.id) for o in intake for d in delivery if o.id != d.id]
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
