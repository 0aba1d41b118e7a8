"""How `make run` serves DakGhor (gunicorn -c gunicorn.conf.py).

Threaded workers (gthread): a connection that is open but idle (a browser's pre-connect or
keep-alive socket) waits in the worker's poller instead of holding the worker, so three open
browser tabs can no longer stall every page until WORKER TIMEOUT, as the synchronous workers
did. tests/test_server.py holds idle connections open and checks that pages still answer, and
runs the same check against synchronous workers as a control (they stall).

WORKER_CLASS overrides the class; note that gunicorn quietly runs gthread for 'sync' whenever
THREADS is above 1.

Each worker freezes what loading the app made (``gc.freeze()`` in ``post_worker_init``): the
app's modules, OR-Tools', pydantic's and SQLAlchemy's are some 180,000 objects that
live as long as the worker, and every full collection walked them all, 150-170 ms during which
no thread of the worker answers. Measured with wrk on public tracking (8 connections), the p99
went from 107 ms to 12 ms (bench/bench_api.py, docs/api.md). What requests make afterwards is
collected as before."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
worker_class = os.environ.get("WORKER_CLASS", "gthread")
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "8"))
keepalive = 5
timeout = 30
accesslog = "-"
# Payment and registration links are secrets: their tokens are not written (logistics/logsafe.py).
logger_class = "logistics.logsafe.AccessLogger"


def post_worker_init(worker: object) -> None:
    import gc

    gc.collect()  # what loading left behind is freed, not frozen
    gc.freeze()
