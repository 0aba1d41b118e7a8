"""The two ways of planning the seeded Dhaka day, through the product, side by side in one run:
the direct van day and the hub and spoke through the Tejgaon hub, each planned by the planning
job (``dispatch.run_plan``) from the same accepted parcels with the same solver time, and the
figures the planner's board compares (``hub.side_by_side``): km, van-hours, parcels planned,
parcels left over, late stops.

    make bench-modes     # or: .venv/bin/python bench/bench_modes.py --seconds 10
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_counter import prepare  # noqa: E402
from bench_dispatch_day import DAY, seed_day  # noqa: E402

from logistics.db import make_engine, make_sessionmaker  # noqa: E402
from logistics.models import PlanMode, PlanStatus  # noqa: E402
from logistics.services import dispatch, hub  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--parcels", type=int, default=3000, help="parcels in the day (default 3000)")
    ap.add_argument("--seconds", type=float, default=10, help="solver time per plan (default 10)")
    ap.add_argument("--seed", type=int, default=7, help="the day's seed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{d}/day.sqlite3"
        prepare(url)
        engine = make_engine(url)
        make = make_sessionmaker(engine)
        with make() as s:
            seeded = seed_day(s, args.parcels, args.seed)
        took = {}
        for mode in PlanMode:
            with make() as s:
                plan = dispatch.start_plan(s, DAY, None, mode=mode, time_limit_s=args.seconds)
                s.commit()
                plan_id = plan.id
            t = time.perf_counter()
            assert dispatch.run_plan(make, plan_id) == "draft"
            took[mode] = time.perf_counter() - t
        with make() as s:
            rows = hub.side_by_side(s, DAY, dispatch.HUB_HOURS[1])
            assert all(f.plan.status is PlanStatus.DRAFT for f in rows)
            print(f"{seeded} parcels, {args.seconds:g} s of solver time per plan")
            print(f"{'':28}" + "".join(f"{f.plan.mode.value:>16}" for f in rows))
            for name, get in (
                ("km", lambda f: f"{f.km:,.1f}"),
                ("van-hours", lambda f: f"{f.van_hours:,.1f}"),
                ("vans used", lambda f: f"{f.plan.vans_used}"),
                ("parcels planned", lambda f: f"{f.planned:,}"),
                ("parcels left over", lambda f: f"{f.left_over:,}"),
                ("late stops", lambda f: f"{f.late_stops}"),
                ("check findings", lambda f: f"{len(f.plan.violations.splitlines())}"),
                ("job seconds", lambda f: f"{took[f.plan.mode]:.1f}"),
            ):
                print(f"{name:28}" + "".join(f"{get(f):>16}" for f in rows))
            for f in rows:
                why = Counter(u.code for u in f.plan.unassigned)
                print(f"left over in {f.plan.mode.value}, by reason: {dict(why.most_common())}")
        engine.dispose()


if __name__ == "__main__":
    main()
