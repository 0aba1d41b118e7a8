"""Pages at a year of parcels: every role's pages timed on a PostgreSQL database holding a
year's work, slowest first, with the statements each runs and the slowest of them.

    .venv/bin/python bench/bench_scale.py [--copies 100] [--rounds 3] [--top 15]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--db URL] [--build-only]

The database (a throwaway one, dropped after, unless --db names one to reuse) holds the network,
the demo logins and a demo day of 3,000 parcels (what `dakghor seed --demo --demo-day 3000`
makes), and that day copied --copies times over the past year by bench/data/year.sql: 100
copies are 303,000 parcels, 1.2 million events, 460,000 obligations and 600,000 SMS, and the
demo shop holds about 150,000 of the parcels (a big shop's year). Each role's pages are
crawled from its home as the hostile-input sweep crawls them (tests/crawl.py: every link, two
pages of each shape), with the shop's statement for a whole year beside them (a period it asks
for, no link), then each page is asked --rounds times in process (Flask's test client,
no server): its median time, the statements it ran and the slowest of them. --build-only
prints the database's URL and keeps it (for --db, e.g. to time two versions of the code on one
database in turn).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.bench_merchants import _drop, _postgres, postgres_option  # noqa: E402
from logistics import migrate  # noqa: E402
from logistics.db import make_engine, make_sessionmaker  # noqa: E402
from logistics.services import demo, network  # noqa: E402
from tests.crawl import Sweep  # noqa: E402

LOGINS = {  # the demo's (README), each role once
    "merchant": "merchant-demo-1",
    "clerk.gpo": "clerk-demo-1",
    "clerk.mohammadpur": "clerk-demo-1",
    "courier.mohammadpur": "courier-demo-1",
    "planner": "planner-demo-1",
    "admin": "admin-demo-1",
}
STARTS = {None: ["/", "/track"], "planner": ["/", "/dispatch"], "clerk.gpo": ["/", "/scan"]}


def build(url: str, copies: int) -> None:
    """The demo day, then ``copies`` of it over the past year (bench/data/year.sql)."""
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        network.seed_network(s)
        demo.seed_demo(s)
        s.commit()
        demo.seed_day(s, 3000)
    engine.dispose()
    sql = (HERE / "data" / "year.sql").read_text(encoding="utf-8").replace(":copies", str(copies))
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # a script of our own, no parameters
        counts = conn.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE n_live_tup > 10000 "
            "ORDER BY 2 DESC"
        ).fetchall()
    print(
        f"database: {', '.join(f'{n} {c:,}' for n, c in counts)} "
        f"({time.perf_counter() - t0:.0f} s to make the year)"
    )


class Statements:
    """The statements run by the app, each with its time (SQLAlchemy's cursor events)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench.t0"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        t0 = conn.info.pop("bench.t0", None)
        if t0 is not None:
            self.seen.append((time.perf_counter() - t0, " ".join(statement.split())))


def pages_of(client: Any, starts: list[str], limit: int = 120) -> list[str]:
    """Every page reachable from ``starts`` (two of each shape), as the sweep crawls, without
    the language switch (the pages stay in one language)."""
    sweep = Sweep(client, rows=lambda: None)
    sweep.crawl(starts, limit=limit, avoid=("/static", "/logout", "/lang"))
    return sweep.visited


def year_statement() -> str:
    """The shop's statement for the year to today (the longest period it may ask for)."""
    from datetime import timedelta

    from logistics.db import utcnow
    from logistics.text import DHAKA

    today = utcnow().astimezone(DHAKA).date()
    return f"/merchant/statements?since={today - timedelta(days=364)}&until={today}"


def time_pages(url: str, rounds: int) -> list[dict[str, Any]]:
    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    sql = Statements()
    rows = []
    for role in (None, *LOGINS):
        client = app.test_client()
        if role:
            r = client.post("/login", data={"username": role, "password": LOGINS[role]})
            assert r.status_code in (302, 303), (role, r.status_code)
        also = [year_statement()] if role == "merchant" else []  # not linked: asked for
        for path in pages_of(client, STARTS.get(role, ["/"])) + also:
            times, runs = [], []
            for _ in range(rounds):
                sql.seen.clear()
                t0 = time.perf_counter()
                r = client.get(path, follow_redirects=True)
                r.get_data()
                r.close()
                times.append(time.perf_counter() - t0)
                runs.append(list(sql.seen))
            worst = max(runs[-1], default=(0.0, ""))
            rows.append(
                {
                    "role": role or "public",
                    "path": path,
                    "status": r.status_code,
                    "ms": statistics.median(times) * 1000,
                    "statements": len(runs[-1]),
                    "sql_ms": sum(t for t, _ in runs[-1]) * 1000,
                    "worst_ms": worst[0] * 1000,
                    "worst": worst[1],
                }
            )
    return sorted(rows, key=lambda r: -r["ms"])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--copies", type=int, default=100, help="copies of the 3,000-parcel day")
    ap.add_argument("--rounds", type=int, default=3, help="times each page is asked (median)")
    ap.add_argument("--top", type=int, default=15, help="pages printed, slowest first")
    ap.add_argument("--db", help="an existing database to time (built by --build-only)")
    ap.add_argument("--build-only", action="store_true", help="build the database and keep it")
    postgres_option(ap)
    args = ap.parse_args()
    url = args.db
    made = False
    if url is None:
        url = _postgres(args.postgres)
        if url is None:
            raise SystemExit("this benchmark needs PostgreSQL (--postgres)")
        made = True
        build(url, args.copies)
    try:
        if args.build_only:
            print(url)
            made = False  # kept
            return
        rows = time_pages(url, args.rounds)
        print(f"{len(rows)} pages, each asked {args.rounds} times (median); slowest first:")
        print(f"{'ms':>7} {'SQL ms':>7} {'stmts':>5}  {'who':<19} page / its slowest statement")
        for r in rows[: args.top]:
            print(
                f"{r['ms']:7.0f} {r['sql_ms']:7.0f} {r['statements']:5d}  {r['role']:<19} "
                f"{r['path'][:70]} ({r['status']})\n{'':42}{r['worst_ms']:.0f} ms: "
                f"{r['worst'][:110]}"
            )
        print(f"all {len(rows)} pages: {sum(r['ms'] for r in rows):.0f} ms")
    finally:
        if made:
            _drop(args.postgres, url)


if __name__ == "__main__":
    main()
