"""The rounds of the busiest delivery office planned through the product, for a day of 300 and
of 1,000 stops: parcels waiting at the office (a third with a recipient's pin within 2 km and a
window, the rest at their post code's point), its postmen (one per 40 parcels, plus one), the
planning job's three phases timed (read and build the problem, solve, store the plan) and the
plan's figures (stops planned and left over, km, postmen used). With --peers, PyVRP and VROOM
(the `bench` extra) solve the very same problem for the same time, and every solver's routes,
ours included, are re-timed on the real clock and checked the same way (bench_dhaka.evaluate).

    make bench-lastmile      # or: .venv/bin/python bench/bench_lastmile.py --seconds 10 --peers
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import peers  # noqa: E402
from bench_counter import prepare  # noqa: E402
from bench_dhaka import evaluate  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from logistics import s10  # noqa: E402
from logistics.db import make_engine, make_sessionmaker, utcnow  # noqa: E402
from logistics.models import (  # noqa: E402
    DeliveryPreference,
    Office,
    Parcel,
    ParcelStatus,
    PaymentMethod,
    PaymentStatus,
    Role,
    RoundPlan,
    User,
)
from logistics.services import network, round_plans  # noqa: E402
from routing import modes  # noqa: E402
from routing.ortools_model import SolveOptions  # noqa: E402
from routing.solver import solve  # noqa: E402


def busiest(s: Session) -> tuple[Office, list[str]]:
    """The delivery office serving the most post codes of the city, and those post codes."""
    served: dict[str, list[str]] = {}
    for pc in network.service_area():
        served.setdefault(network.delivery_office_for(s, pc).code, []).append(pc)
    code = max(served, key=lambda c: (len(served[c]), c))
    office = s.scalars(select(Office).where(Office.code == code)).one()
    return office, sorted(served[code])


def seed(s: Session, office: Office, post_codes: list[str], n: int, seed_: int) -> int:
    """``n`` parcels waiting at ``office``; returns how many postmen it has for the day."""
    rng = random.Random(seed_)
    origin = s.scalars(select(Office).where(Office.code == "GPO")).one()
    now = utcnow()
    parcels = []
    for k in range(n):
        parcels.append(
            Parcel(
                tracking_id=s10.make_id("CP", 1_000_000 + k),
                service="CP",
                status=ParcelStatus.AT_DELIVERY_OFFICE,
                sender_name="Bench Bazar",
                sender_phone="+8801711000001",
                sender_address="House 7, Road 2, Dhanmondi",
                recipient_name="করিম শেখ",
                recipient_phone=f"+88018{rng.randrange(10**8):08d}",
                recipient_address="বাড়ি ২৩, রোড ১১",
                recipient_post_code=rng.choice(post_codes),
                weight_g=rng.randint(200, 3000),
                fee_poisha=6000,
                cod_amount_poisha=0,
                tariff_version="bench",
                payment_method=PaymentMethod.CASH,
                payment_status=PaymentStatus.PAID,
                origin_office=origin,
                destination_office=office,
                created_at=now,
                accepted_at=now,
            )
        )
    s.add_all(parcels)
    s.flush()
    windows = ["09-12", "12-15", "15-18"]
    for p in parcels[: n // 3]:
        s.add(
            DeliveryPreference(
                parcel_id=p.id,
                lat=Decimal(str(round(float(office.lat) + rng.uniform(-0.018, 0.018), 6))),
                lon=Decimal(str(round(float(office.lon) + rng.uniform(-0.018, 0.018), 6))),
                window=rng.choice(windows),
                msisdn=p.recipient_phone,
            )
        )
    staff = math.ceil(n / round_plans.RIDER[1]) + 1
    for k in range(staff):
        s.add(
            User(
                username=f"bench.courier.{k}",
                full_name=f"Postman {k + 1}",
                password_hash="x",
                role=Role.COURIER,
                office_id=office.id,
            )
        )
    s.commit()
    return staff


def run(stops: int, seconds: float, seed_: int, peers_too: bool = False) -> None:
    folder = tempfile.mkdtemp(prefix="dakghor-lastmile-")
    url = f"sqlite:///{folder}/bench.sqlite3"
    prepare(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        office, post_codes = busiest(s)
        staff = seed(s, office, post_codes, stops, seed_)
        clerk = s.scalars(select(User).where(User.username == "admin")).one()
        plan = round_plans.start(s, office, clerk, int(seconds))
        s.commit()
        plan_id, office_id = plan.id, office.id
    # The job's three phases, timed apart (round_plans.compute runs them as one).
    t0 = time.perf_counter()
    with sessions() as s:
        office = s.get(Office, office_id)
        assert office is not None
        problem, refs, _ = round_plans.build(s, office)
    t1 = time.perf_counter()
    result = solve(
        problem, SolveOptions(time_limit_s=seconds, workers=1, breaks=modes.ROUND_BREAKS)
    )
    t2 = time.perf_counter()
    with sessions() as s:
        plan = s.get(RoundPlan, plan_id)
        assert plan is not None
        round_plans._store(s, plan_id, plan.day, result, refs)  # noqa: SLF001 - timed apart
        s.commit()
    t3 = time.perf_counter()
    violations = result.check(problem)
    with sessions() as s:
        plan = s.get(RoundPlan, plan_id)
        assert plan is not None
        per = Counter(st.courier_id for st in plan.stops if st.courier_id is not None)
        precision = Counter(st.precision for st in plan.stops)
        planned = sum(per.values())
        print(
            f"{stops:>6} {office.code:>5} {staff:>6} {len(per):>5} {planned:>8} "
            f"{plan.left_over or 0:>5} {(plan.distance_m or 0) / 1000:>8.1f} "
            f"{max(per.values(), default=0):>9} {t1 - t0:>7.2f} {t2 - t1:>7.2f} {t3 - t2:>7.2f} "
            f"{len(violations):>6}  pins {precision['pin']}, post codes {precision['post_code']}",
            flush=True,
        )
    if peers_too:
        for name in ("ours", "pyvrp", "vroom"):
            t = time.perf_counter()
            routes = peers.SOLVERS[name](problem, seconds, False, **peers.round_options(name))
            wall = time.perf_counter() - t
            r = evaluate(problem, routes)
            print(
                f"{'':>6} {name:>12}: {int(r['parcels']):>5} of {int(r['of'])} stops, "
                f"{r['km']:>7.1f} km, {int(r['vans']):>3} postmen, {wall:>5.1f} s",
                flush=True,
            )
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--stops", type=int, nargs="+", default=[300, 1000])
    ap.add_argument("--seconds", type=float, default=10, help="the solver's time limit")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--peers", action="store_true", help="also PyVRP and VROOM on the same problems"
    )
    args = ap.parse_args()
    print(f"rounds of the busiest delivery office, solver limit {args.seconds:g} s (SQLite)")
    print(
        f"{'stops':>6} {'office':>5} {'staff':>6} {'used':>5} {'planned':>8} {'left':>5} "
        f"{'km':>8} {'most':>9} {'build':>7} {'solve':>7} {'store':>7} {'check':>6}"
    )
    for n in args.stops:
        run(n, args.seconds, args.seed, args.peers)


if __name__ == "__main__":
    main()
