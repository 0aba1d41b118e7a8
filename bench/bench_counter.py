"""Counter benchmark: labels rendered per second, and intake requests per second on SQLite and
PostgreSQL measured side by side in one run (read the ratios; the machine is shared and noisy).

    make bench            # or: .venv/bin/python bench/bench_counter.py --requests 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from app import create_app  # noqa: E402
from logistics import migrate  # noqa: E402
from logistics.db import make_engine, make_sessionmaker  # noqa: E402
from logistics.documents import labels  # noqa: E402
from logistics.documents.labels import Address, LabelData, OfficeRef  # noqa: E402
from logistics.services import demo, network  # noqa: E402

BODY = {
    "origin_office": "GPO",
    "weight_g": 1200,
    "cod_amount_poisha": 45500,
    "sender": {
        "name": "Demo Bazar",
        "phone": "01711000001",
        "address": "House 7, Road 2, Dhanmondi",
    },
    "recipient": {
        "name": "করিম শেখ",
        "phone": "01812345678",
        "address": "ফ্ল্যাট ৪বি, বাড়ি ২৩, রোড ১১, মোহাম্মদপুর হাউজিং, ঢাকা",
        "post_code": "1207",
    },
}


def sample_label(i: int) -> LabelData:
    from logistics import s10

    return LabelData(
        tracking_id=s10.make_id("CP", i),
        service="CP",
        booked_at=datetime.now(UTC),
        sender=Address("রহিম উদ্দিন", "+8801712345678", "বাড়ি ১২, রোড ৫, ধানমন্ডি, ঢাকা"),
        recipient=Address("করিম শেখ", "+8801812345678", BODY["recipient"]["address"], "1207"),  # type: ignore[index]
        origin=OfficeRef("GPO", "Dhaka GPO", "ঢাকা জিপিও", "1000"),
        destination=OfficeRef("MOH", "Mohammadpur Housing", "মোহাম্মদপুর হাউজিং", "1207"),
        weight_g=1200,
        postage_poisha=2000,
        cod_to_collect_poisha=46650,
        postage="paid",
    )


def bench_labels(n: int) -> dict[str, float]:
    batch = [sample_label(i) for i in range(n)]
    labels.render(batch[:2])  # warm fonts and shaping caches
    out = {}
    for layout in ("thermal", "a4"):
        t = time.perf_counter()
        labels.render(batch, layout)
        out[layout] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for lb in batch[: n // 4]:
        labels.render([lb])  # one request = one PDF, as the API serves them
    out["single"] = (n // 4) / (time.perf_counter() - t)
    return out


def prepare(url: str) -> None:
    if url.startswith("postgresql"):
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        eng.dispose()
    migrate.upgrade(url)
    eng = make_engine(url)
    with make_sessionmaker(eng)() as s:
        network.seed_network(s)
        demo.seed_demo(s)
        s.commit()
    eng.dispose()


def bench_intake(url: str, n: int, rounds: int) -> dict[str, float]:
    prepare(url)
    os.environ.setdefault("DAKGHOR_INSTANCE", tempfile.mkdtemp())
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {demo.DEMO_MERCHANT_KEY}"}
    post_rates, track_rates, ids = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            r = client.post("/api/v1/parcels", json=BODY, headers=headers)
            assert r.status_code == 201, r.get_json()
            ids.append(r.get_json()["tracking_id"])
        post_rates.append(n / (time.perf_counter() - t))
        t = time.perf_counter()
        for tid in ids[-n:]:
            assert client.get(f"/api/v1/track/{tid}").status_code == 200
        track_rates.append(n / (time.perf_counter() - t))
    assert len(set(ids)) == len(ids)
    app.extensions["dakghor.engine"].dispose()
    return {"intake": statistics.median(post_rates), "track": statistics.median(track_rates)}


def pg_url(arg: str | None) -> str | None:
    url = (
        arg
        or os.environ.get("BENCH_DATABASE_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/dakghor_bench"
    )
    admin = url.replace("postgresql+psycopg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        print(f"PostgreSQL not reachable ({e}); measuring SQLite only", file=sys.stderr)
        return None
    return url


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--labels", type=int, default=200, help="labels per layout (default 200)")
    ap.add_argument(
        "--requests", type=int, default=200, help="intake requests per round (default 200)"
    )
    ap.add_argument(
        "--rounds", type=int, default=3, help="rounds; the median is reported (default 3)"
    )
    ap.add_argument(
        "--pg", help="PostgreSQL URL (default $BENCH_DATABASE_URL or local dakghor_bench)"
    )
    args = ap.parse_args()

    lab = bench_labels(args.labels)
    print(f"labels ({args.labels}, Bangla + Code128):")
    print(f"  thermal 100x150, one PDF      {lab['thermal']:8.1f} labels/s")
    print(
        f"  A4, 4 per sheet, one PDF      {lab['a4']:8.1f} labels/s   ({lab['a4'] / lab['thermal']:.2f}x thermal)"
    )
    print(
        f"  one PDF per label (API path)  {lab['single']:8.1f} labels/s   ({lab['single'] / lab['thermal']:.2f}x thermal)"
    )

    with tempfile.TemporaryDirectory() as d:
        results = {
            "SQLite": bench_intake(f"sqlite:///{d}/bench.sqlite3", args.requests, args.rounds)
        }
    url = pg_url(args.pg)
    if url:
        results["PostgreSQL"] = bench_intake(url, args.requests, args.rounds)
    print(
        f"\nintake over the WSGI app, in process, median of {args.rounds} rounds x {args.requests}:"
    )
    print(f"  {'database':<12}{'POST /parcels/s':>18}{'GET /track/s':>16}")
    for name, r in results.items():
        print(f"  {name:<12}{r['intake']:>18.1f}{r['track']:>16.1f}")
    if "PostgreSQL" in results:
        s, p = results["SQLite"], results["PostgreSQL"]
        print(
            f"  PostgreSQL / SQLite: intake {p['intake'] / s['intake']:.2f}x, track {p['track'] / s['track']:.2f}x"
        )


if __name__ == "__main__":
    main()
