"""Payments fault benchmark: 2,000 airtime charge attempts through the real operator simulator
(its own process) with 10 % timeouts, 5 % 5xx, lost and duplicate callbacks, crashes after
debiting and simulator restarts; then recovery and an audit of both books.

    .venv/bin/python bench/bench_payments.py [--attempts 2000] [--database-url URL]

Prints attempts per second, outcomes, the faults the simulator injected and the audit
(no double charge, no operator charge missing from the ledger, all final, ledger balanced).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from app import create_app  # noqa: E402
from logistics import migrate  # noqa: E402
from logistics.db import make_engine, make_sessionmaker  # noqa: E402
from logistics.services import demo, network  # noqa: E402
from tests import faultrun  # noqa: E402
from tests.billing.conftest import Simulator  # noqa: E402
from tests.logistics.test_payments import make_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--attempts", type=int, default=2000)
    ap.add_argument("--restarts", type=int, default=4)
    ap.add_argument(
        "--races", type=int, default=100, help="fees paid from two phones at once; refunds raced"
    )
    ap.add_argument("--database-url", help="default: a fresh SQLite file")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    with maker() as s:
        network.seed_network(s)
        demo.seed_demo(s)
        s.commit()
    sim = Simulator(tmp / "books.sqlite3")
    sim.start()
    try:
        settings = make_settings(sim, DAKGHOR_DCB_TIMEOUT_S="0.3")
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PAYMENTS": settings})
        rep = faultrun.run(
            app, maker, sim, settings, args.attempts, restarts=args.restarts, races=args.races
        )
    finally:
        sim.stop()
    faults = {
        k.removeprefix("fault:"): v
        for k, v in sorted(rep.sim_stats.items())
        if k.startswith("fault:")
    }
    print(
        f"attempts: {rep.attempts} in {rep.seconds:.1f} s = {rep.per_second:.1f} attempts/s "
        f"(consent + OTP + charge, each over HTTP)"
    )
    print(
        f"right after paying: {dict(rep.outcomes)}; errors shown to the payer: {dict(rep.errors)}"
    )
    print(f"after recovery: {dict(rep.final)}")
    print(f"recovery: {dict(rep.recovered)}; simulator restarts: {rep.restarts}")
    print(f"faults injected: {json.dumps(faults)}")
    print(
        f"simulator: charges succeeded {rep.sim_stats.get('charges_succeeded', 0)}, "
        f"failed {rep.sim_stats.get('charges_failed', 0)}, callbacks sent {rep.sim_stats.get('callbacks_sent', 0)}"
    )
    with maker() as db:
        doubles = faultrun.double_collections(db)
    five = sum(v for k, v in rep.refund_statuses.items() if k >= 500)
    print(
        f"double submits: {rep.double_submits} fees paid from two phones at once; "
        f"double collections: {doubles}"
    )
    print(
        f"refund races: {rep.refund_requests} requests (each sent twice at once with one "
        f"Idempotency-Key) -> {rep.refunds_made} refunds made; answers {dict(rep.refund_statuses)}; "
        f"refund 500s: {five}"
    )
    print(
        "audit: "
        + (
            "OK - no double charge, no charge missing from the ledger, every attempt final, "
            "ledger balanced"
            if not rep.problems
            else f"{len(rep.problems)} PROBLEMS: {rep.problems[:5]}"
        )
    )
    sys.exit(1 if rep.problems or doubles or five else 0)


if __name__ == "__main__":
    main()
