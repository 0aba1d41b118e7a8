"""The seeded Dhaka day planned from the database, end to end, phase by phase: load the waiting
parcels, build the routing problem, solve for a fixed time, store the plan, publish it (issue
the manifests), render every manifest to PDF. SQLite and PostgreSQL side by side in one run.

The day is the Dhaka benchmark's (bench/dhaka_day.py: 3,000 parcels over 230 office pairs of the
city network, skewed like real demand, 18 vans), written as accepted parcels before timing.

    make bench-dispatch     # or: .venv/bin/python bench/bench_dispatch_day.py --seconds 10
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_counter import pg_url, prepare  # noqa: E402
from dhaka_day import consignments, network  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from logistics import s10  # noqa: E402
from logistics.db import make_engine, make_sessionmaker, utcnow  # noqa: E402
from logistics.documents import manifests as docs  # noqa: E402
from logistics.models import (  # noqa: E402
    DayPlan,
    Office,
    Parcel,
    ParcelStatus,
    PaymentMethod,
    PaymentStatus,
    PlanMode,
    PlanStatus,
)
from logistics.services import dispatch, manifests, plan_rows, publishing  # noqa: E402
from routing.solver import SolveOptions, solve  # noqa: E402

DAY = date(2026, 12, 1)


def seed_day(s: Session, parcels: int, seed: int) -> int:
    """The benchmark day as accepted parcels waiting at their intake offices."""
    _hub, intake, delivery, _vans = network("city")
    offices = {o.code: o for o in s.scalars(select(Office))}
    rng = random.Random(seed)
    now = utcnow()
    serial = 1
    rows = []
    for c in consignments(intake, delivery, parcels, seed):
        origin, dest = offices[c.origin], offices[c.destination]
        left = c.weight_g
        for k in range(c.parcels):
            grams = left if k == c.parcels - 1 else max(200, min(5000, left // (c.parcels - k)))
            left -= grams
            rows.append(
                Parcel(
                    tracking_id=s10.make_id("CP", serial),
                    service="CP",
                    status=ParcelStatus.ACCEPTED,
                    sender_name="Bench Bazar",
                    sender_phone="+8801711000001",
                    sender_address="House 7, Road 2, Dhanmondi",
                    recipient_name="করিম শেখ",
                    recipient_phone="+8801812345678",
                    recipient_address="বাড়ি ২৩, রোড ১১",
                    recipient_post_code=dest.post_code,
                    weight_g=max(1, grams),
                    fee_poisha=6000,
                    cod_amount_poisha=rng.choice((0, 0, 45000, 120000)),
                    tariff_version="bench",
                    payment_method=PaymentMethod.CASH,
                    payment_status=PaymentStatus.PAID,
                    origin_office_id=origin.id,
                    destination_office_id=dest.id,
                    accepted_at=now,
                )
            )
            serial += 1
    s.add_all(rows)
    s.commit()
    return len(rows)


def timed(phases: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    out = fn()
    phases[name] = time.perf_counter() - t
    return out


def run(url: str, parcels: int, seconds: float, workers: int, seed: int) -> dict[str, Any]:
    prepare(url)
    engine = make_engine(url)
    make = make_sessionmaker(engine)
    with make() as s:
        seeded = seed_day(s, parcels, seed)
    phases: dict[str, float] = {}
    with make() as s:
        plan = DayPlan(
            service_date=DAY,
            version=1,
            mode=PlanMode.VAN_DAY,
            status=PlanStatus.PLANNING,
            time_limit_s=seconds,
            parcels_waiting=seeded,
        )
        s.add(plan)
        s.commit()
        waiting = timed(phases, "load parcels", lambda: dispatch.waiting_parcels(s))
        problem, loads = timed(phases, "build problem", lambda: dispatch.build_problem(s, waiting))
        result = timed(
            phases,
            "solve",
            lambda: solve(problem, SolveOptions(time_limit_s=seconds, workers=workers, seed=seed)),
        )

        def store() -> None:
            plan_rows.store(s, plan, problem, result, loads, phases["solve"])
            s.commit()

        timed(phases, "store plan", store)
        issued = timed(
            phases, "publish", lambda: (publishing.publish(s, plan, None), s.commit())[0]
        )

        def render() -> int:
            """Every manifest as its own PDF, as the pages serve them."""
            return sum(len(docs.render([d])) for d in manifests.documents(s, issued))

        size = timed(phases, "render manifests", render)
        figures = {
            "parcels": seeded,
            "planned": plan.parcels_planned,
            "km": plan.distance_m / 1000,
            "vans": plan.vans_used,
            "manifests": len(issued),
            "pdf_kb": size / 1024,
            "violations": len(plan.violations.splitlines()),
        }
    engine.dispose()
    return {"phases": phases, "figures": figures}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--parcels", type=int, default=3000, help="parcels in the day (default 3000)")
    ap.add_argument("--seconds", type=float, default=10, help="solver time limit (default 10)")
    ap.add_argument("--workers", type=int, default=1, help="solver processes (default 1)")
    ap.add_argument("--seed", type=int, default=7, help="the day's and the solver's seed")
    ap.add_argument(
        "--pg", help="PostgreSQL URL (default $BENCH_DATABASE_URL or local dakghor_bench)"
    )
    ap.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as d:
        results["SQLite"] = run(
            f"sqlite:///{d}/day.sqlite3", args.parcels, args.seconds, args.workers, args.seed
        )
    url = None if args.sqlite_only else pg_url(args.pg)
    if url:
        results["PostgreSQL"] = run(url, args.parcels, args.seconds, args.workers, args.seed)
    names = list(results)
    print(f"the Dhaka day from the database: {args.parcels} parcels, solver {args.seconds:g} s")
    print(f"  {'phase':<20}" + "".join(f"{n + ' (s)':>18}" for n in names))
    for phase in results[names[0]]["phases"]:
        print(f"  {phase:<20}" + "".join(f"{results[n]['phases'][phase]:>18.3f}" for n in names))
    for n in names:
        ph = results[n]["phases"]
        rest = sum(v for k, v in ph.items() if k != "solve")
        f = results[n]["figures"]
        print(
            f"\n{n}: everything but the solver {rest:.2f} s = {rest / ph['solve']:.2f}x the solver's"
            f" {ph['solve']:.2f} s"
        )
        print(
            f"  planned {f['planned']} of {f['parcels']} parcels on {f['vans']} vans, "
            f"{f['km']:.1f} km; {f['manifests']} manifests, {f['pdf_kb']:.0f} KB of PDF; "
            f"plan.check violations: {f['violations']}"
        )


if __name__ == "__main__":
    main()
