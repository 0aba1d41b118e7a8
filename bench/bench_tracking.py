"""Public tracking's CPU per call in process, three ways alternated so the machine's drift hits
them alike: through tracking's fast lane (logistics/web/fastlane.py, what the app serves),
through Flask's own handling (the lane's ``inner``: contexts, URL matching, request hooks,
spectree, the response's post-processing), and a bare Flask endpoint answering a small JSON
(bench/bare_api.py). Each call is the WSGI application called with a prebuilt environ: no
server, no test client, so what is left is the application's own cost. ``make bench-api``
measures the same calls under gunicorn with wrk.

    .venv/bin/python bench/bench_tracking.py [--rounds 5] [--calls 3000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

PostgreSQL is measured when --postgres answers (a throwaway database, dropped after).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DAKGHOR_INSTANCE"] = tempfile.mkdtemp(prefix="bench-tracking-")

from werkzeug.test import EnvironBuilder  # noqa: E402

from app import create_app  # noqa: E402
from bench import bare_api  # noqa: E402
from bench.bench_api import BODY  # noqa: E402
from bench.bench_merchants import _database, _drop, databases, postgres_option  # noqa: E402
from logistics.services import demo  # noqa: E402
from logistics.web import fastlane  # noqa: E402

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Any]


def _calls(wsgi: WSGI, path: str, n: int) -> float:
    """CPU µs per call of ``wsgi`` for GET ``path``, over ``n`` calls."""
    base = EnvironBuilder(path=path, headers={"User-Agent": "bench", "Host": "127.0.0.1"})
    environ = base.get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    t = time.process_time()
    for _ in range(n):
        e = dict(environ)
        e["wsgi.input"] = io.BytesIO(b"")
        body = wsgi(e, start_response)
        b"".join(body)
        close = getattr(body, "close", None)
        if close is not None:
            close()
    spent = time.process_time() - t
    if set(statuses) != {"200 OK"}:
        raise SystemExit(f"{path}: answered {sorted(set(statuses))}")
    return spent / n * 1e6


def measure(url: str, rounds: int, calls: int) -> dict[str, list[float]]:
    _database(url)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "API_RATE_LIMIT": "100000000/minute"}
    )
    lane = app.wsgi_app
    assert isinstance(lane, fastlane.TrackingFastLane)
    headers = {"Authorization": f"Bearer {demo.DEMO_MERCHANT_KEY}"}
    booked = app.test_client().post(
        "/api/v1/parcels", data=json.dumps(BODY), headers=headers, content_type="application/json"
    )
    tid = booked.get_json()["tracking_id"]
    ways: dict[str, tuple[WSGI, str]] = {
        "fast lane": (app, f"/api/v1/track/{tid}"),
        "Flask": (lane.inner, f"/api/v1/track/{tid}"),
        "bare": (bare_api.create_app(), "/bare/track/x"),
    }
    out: dict[str, list[float]] = {name: [] for name in ways}
    for wsgi, path in ways.values():  # warm
        _calls(wsgi, path, 200)
    served = lane.served
    for k in range(rounds):
        order = list(ways.items()) if k % 2 == 0 else list(reversed(ways.items()))
        for name, (wsgi, path) in order:
            out[name].append(_calls(wsgi, path, calls))
    assert lane.served - served == rounds * calls, "the lane did not answer every call"
    app.extensions["dakghor.engine"].dispose()
    app.extensions["dakghor.reader"].dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=3000, help="per round and way")
    postgres_option(ap)
    args = ap.parse_args()
    print(
        f"CPU µs per public tracking call in process, {args.rounds} alternated rounds of "
        f"{args.calls} calls each way; bare ÷ way in brackets"
    )
    for name, url, admin in databases("tracking.sqlite3", args.postgres):
        try:
            res = measure(url, args.rounds, args.calls)
        finally:
            if admin:
                _drop(admin, url)
        bare = statistics.median(res["bare"])
        for way, xs in res.items():
            m = statistics.median(xs)
            print(
                f"{name:<11} {way:<10} median {m:6.0f} ({bare / m:.2f}×)  {[round(x) for x in xs]}"
            )


if __name__ == "__main__":
    main()
