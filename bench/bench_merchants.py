"""Merchants' benchmark: a 10,000-row bulk-booking CSV checked and booked (the jobs' own code),
on SQLite and on PostgreSQL side by side; the API's bulk call (``POST /api/v1/parcels/bulk``,
500 bookings a call, through the app in process); and webhook deliveries per second to a
receiver on loopback (signed, one HTTP request each, logged).

    .venv/bin/python bench/bench_merchants.py [--rows 10000] [--api-calls 4] [--webhooks 500]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

PostgreSQL is used when --postgres names a server that answers (a throwaway database is made
and dropped there); otherwise only SQLite is measured, and the output says so.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from app import create_app  # noqa: E402
from logistics import migrate  # noqa: E402
from logistics.db import make_engine, make_sessionmaker  # noqa: E402
from logistics.models import BulkRow, BulkUpload, Parcel, User, WebhookDelivery  # noqa: E402
from logistics.services import bulk, bulk_csv, bulk_jobs, demo, network, webhook_delivery, webhooks  # noqa: E402


def _csv(n: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([c.bn for c in bulk_csv.COLUMNS])
    for k in range(n):
        w.writerow(
            [
                f"BENCH-{k:06d}",
                f"প্রাপক {k}",
                f"0181{k:07d}",
                f"বাড়ি {k % 90 + 1}, রোড {k % 17 + 1}, মোহাম্মদপুর, ঢাকা",
                ("1207", "1216", "1209", "1230", "1000")[k % 5],
                str(300 + k % 4000),
                str(100 + k % 900) if k % 3 == 0 else "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return buf.getvalue().encode("utf-8")


def _database(url: str) -> Any:
    migrate.upgrade(url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    with maker() as s:
        network.seed_network(s)
        demo.seed_demo(s)
        s.commit()
    return engine, maker


def bulk_run(url: str, rows: int) -> dict[str, Any]:
    engine, maker = _database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    raw = _csv(rows)
    with app.app_context():
        with maker() as s:
            user = s.scalar(select(User).where(User.username == "merchant"))
            assert user is not None
            t0 = time.perf_counter()
            made = bulk.start(
                s,
                user,
                "bench.csv",
                raw,
                "GPO",
                {"name": "Demo Bazar", "phone": "01711000001", "address": "House 7, Dhanmondi"},
            )
            s.commit()
            upload_id = made.id
            stored = time.perf_counter() - t0
        t1 = time.perf_counter()
        assert bulk_jobs.check(maker, upload_id) == "checked"
        checked = time.perf_counter() - t1
        t2 = time.perf_counter()
        with maker() as s:
            upload = s.get(BulkUpload, upload_id)
            assert upload is not None and bulk_jobs.claim_booking(s, upload)
            s.commit()
        assert bulk_jobs.book(maker, upload_id) == "done"
        booked_s = time.perf_counter() - t2
    with maker() as s:
        booked = s.scalar(
            select(func.count())
            .select_from(BulkRow)
            .where(BulkRow.upload_id == upload_id, BulkRow.status == "booked")
        )
        parcels = s.scalar(select(func.count()).select_from(Parcel))
    engine.dispose()
    return {
        "rows": rows,
        "read_and_store_s": stored,
        "check_s": checked,
        "book_s": booked_s,
        "booked": booked,
        "parcels": parcels,
    }


API_BULK = 500  # bookings a call, the most the API takes


def _api_item(k: int) -> dict[str, Any]:
    return {
        "merchant_reference": f"API-{k:06d}",
        "origin_office": "GPO",
        "weight_g": 300 + k % 4000,
        "cod_amount_poisha": (100 + k % 900) * 100 if k % 3 == 0 else 0,
        "sender": {"name": "Demo Bazar", "phone": "01711000001", "address": "House 7, Dhanmondi"},
        "recipient": {
            "name": f"প্রাপক {k}",
            "phone": f"0181{k:07d}",
            "address": f"বাড়ি {k % 90 + 1}, রোড {k % 17 + 1}, মোহাম্মদপুর, ঢাকা",
            "post_code": ("1207", "1216", "1209", "1230", "1000")[k % 5],
        },
    }


def api_bulk_run(url: str, calls: int) -> dict[str, Any]:
    """``calls`` bulk calls of 500 bookings each by the demo merchant, through the app's own
    request handling (its test client: no server, no network), each with its Idempotency-Key;
    the seconds of each call."""
    engine, _maker = _database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {demo.DEMO_MERCHANT_KEY}", "Accept-Language": "en"}
    seconds, booked = [], 0
    for c in range(calls):
        items = [_api_item(c * API_BULK + k) for k in range(API_BULK)]
        t0 = time.perf_counter()
        r = client.post(
            "/api/v1/parcels/bulk",
            json={"parcels": items},
            headers={**headers, "Idempotency-Key": f"bench-{c}"},
        )
        seconds.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        booked += r.get_json()["booked"]
    engine.dispose()
    return {"calls": calls, "seconds": seconds, "booked": booked}


class _Receiver:
    def __init__(self) -> None:
        self.n = 0

        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.n += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def webhook_run(url: str, count: int) -> dict[str, Any]:
    os.environ["DAKGHOR_WEBHOOK_ALLOW_PRIVATE"] = "1"
    engine, maker = _database(url)
    receiver = _Receiver()
    with maker() as s:
        user = s.scalar(select(User).where(User.username == "merchant"))
        assert user is not None and user.merchant_id is not None
        webhooks.add_endpoint(s, user.merchant_id, receiver.url, ["parcel.booked"])
        s.commit()
        for k in range(count):
            webhooks.emit(s, user.merchant_id, "parcel.booked", f"bench{k}", {"n": k})
        s.commit()
        ids = list(s.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))
    t0 = time.perf_counter()
    outcomes = [webhook_delivery.deliver(maker, i) for i in ids]
    seconds = time.perf_counter() - t0
    receiver.server.shutdown()
    engine.dispose()
    return {
        "deliveries": len(ids),
        "delivered": outcomes.count("delivered"),
        "received": receiver.n,
        "seconds": seconds,
        "per_second": len(ids) / seconds if seconds else 0.0,
    }


def _postgres(admin_url: str) -> str | None:
    """A throwaway database on the server, or None if it does not answer."""
    try:
        eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"dk_bench_{uuid.uuid4().hex[:8]}"
        with eng.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        eng.dispose()
        return admin_url.rsplit("/", 1)[0] + f"/{name}"
    except Exception as e:  # noqa: BLE001 - no server: measured on SQLite only
        print(f"PostgreSQL not measured: {type(e).__name__}: {str(e)[:120]}")
        return None


def postgres_option(ap: argparse.ArgumentParser) -> None:
    """``--postgres``: the server a benchmark makes its throwaway database on."""
    ap.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )


def databases(
    file_name: str, admin_url: str, postgres: bool = True
) -> list[tuple[str, str, str | None]]:
    """A benchmark's databases: SQLite in a temporary folder, and (with ``postgres``) a
    throwaway PostgreSQL database where ``admin_url``'s server answers, each as (name, url,
    the admin url to drop it with, or None)."""
    found: list[tuple[str, str, str | None]] = [
        ("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / file_name}", None)
    ]
    pg = _postgres(admin_url) if postgres else None
    if pg:
        found.append(("PostgreSQL", pg, admin_url))
    return found


def _drop(admin_url: str, url: str) -> None:
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
    eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--api-calls", type=int, default=4, help="bulk API calls of 500 (0: none)")
    ap.add_argument("--webhooks", type=int, default=500)
    postgres_option(ap)
    args = ap.parse_args()
    targets = databases("bench.sqlite3", args.postgres)
    print(
        f"{'database':<11} {'rows':>6} {'read+store':>11} {'check':>8} {'book':>8} {'booked':>7} {'rows/s (check+book)':>20}"
    )
    for name, url, admin in targets:
        try:
            r = bulk_run(url, args.rows)
            total = r["check_s"] + r["book_s"]
            print(
                f"{name:<11} {r['rows']:>6} {r['read_and_store_s']:>10.1f}s {r['check_s']:>7.1f}s "
                f"{r['book_s']:>7.1f}s {r['booked']:>7} {r['rows'] / total:>20.0f}"
            )
        finally:
            if admin:
                _drop(admin, url)
    api_targets = databases("api.sqlite3", args.postgres, postgres=len(targets) > 1)
    for name, url, admin in api_targets if args.api_calls > 0 else []:
        try:
            a = api_bulk_run(url, args.api_calls)
            each = sorted(a["seconds"])
            print(
                f"API bulk ({name}): {a['calls']} calls of {API_BULK}, {a['booked']} booked; "
                f"median {each[len(each) // 2]:.2f} s a call "
                f"({API_BULK / each[len(each) // 2]:.0f} bookings/s; calls {', '.join(f'{x:.2f}' for x in a['seconds'])} s)"
            )
        finally:
            if admin:
                _drop(admin, url)
    wh_targets = databases("hooks.sqlite3", args.postgres, postgres=len(targets) > 1)
    for name, url, admin in wh_targets:
        try:
            w = webhook_run(url, args.webhooks)
            print(
                f"webhooks ({name}): {w['delivered']}/{w['deliveries']} delivered, "
                f"{w['received']} received, {w['per_second']:.0f} deliveries/s "
                f"(one worker, sequential: claim, sign, POST, log)"
            )
        finally:
            if admin:
                _drop(admin, url)


if __name__ == "__main__":
    main()
