"""The hand-off of committed messages to the job queue (logistics/handoff.py) against queuing
one Celery message per id in the request, alternated in one process so the machine's drift
hits both alike: bookings through the API's own code (Flask's test client, the benchmark's
body of bench/bench_api.py), from ``--threads`` threads at once, and the process's CPU time
per booking (the hand-off thread's included), per round and the medians.

    .venv/bin/python bench/bench_handoff.py [--rounds 10] [--bookings 160] [--threads 8]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

PostgreSQL is measured when --postgres answers (a throwaway database, dropped after). Messages
go to a folder broker in a temporary directory; no worker sends them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DAKGHOR_INSTANCE"] = tempfile.mkdtemp(prefix="bench-handoff-")

from app import create_app  # noqa: E402
from bench.bench_api import BODY  # noqa: E402
from bench.bench_merchants import _database, _drop, databases, postgres_option  # noqa: E402
from logistics import tasks, wiring  # noqa: E402
from logistics.services import demo  # noqa: E402


def _per_id(ids: list[int]) -> None:
    """What the request did before the hand-off: one Celery message per message id."""
    for nid in ids:
        tasks.send_sms.apply_async((nid,), retry=False)


def measure(url: str, rounds: int, bookings: int, threads: int) -> dict[str, list[float]]:
    _database(url)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "API_RATE_LIMIT": "10000000/minute"}
    )
    headers = {"Authorization": f"Bearer {demo.DEMO_MERCHANT_KEY}", "Accept-Language": "en"}
    body = json.dumps(BODY)

    def book(n: int) -> None:
        client = app.test_client()
        for _ in range(n):
            r = client.post(
                "/api/v1/parcels", data=body, headers=headers, content_type="application/json"
            )
            assert r.status_code == 201, r.data

    ways: dict[str, Any] = {"one message per id": _per_id, "hand-off": wiring.SMS.put}
    out: dict[str, list[float]] = {name: [] for name in ways}
    book(30)  # warm
    for k in range(rounds):
        order = list(ways.items()) if k % 2 == 0 else list(reversed(ways.items()))
        for name, enqueue in order:
            app.extensions["dakghor.enqueue_sms"] = enqueue
            t = time.process_time()
            workers = [
                threading.Thread(target=book, args=(bookings // threads,)) for _ in range(threads)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            wiring.SMS.flush(10)
            out[name].append((time.process_time() - t) / (bookings // threads * threads) * 1e6)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--bookings", type=int, default=160, help="per round and way")
    ap.add_argument("--threads", type=int, default=8)
    postgres_option(ap)
    args = ap.parse_args()
    targets = databases("handoff.sqlite3", args.postgres)
    print(
        f"CPU µs per booking (process, all threads), {args.threads} threads, {args.rounds} "
        f"alternated rounds of {args.bookings} bookings each way"
    )
    for name, url, admin in targets:
        try:
            res = measure(url, args.rounds, args.bookings, args.threads)
        finally:
            if admin:
                _drop(admin, url)
        (a, before), (b, after) = res.items()
        ma, mb = statistics.median(before), statistics.median(after)
        print(f"{name:<11} {a}: median {ma:.0f}  {[round(x) for x in before]}")
        print(f"{name:<11} {b}: median {mb:.0f}  {[round(x) for x in after]}  ({mb / ma - 1:+.0%})")


if __name__ == "__main__":
    main()
