"""How `make run` serves DakGhor (gunicorn -c gunicorn.conf.py).

Threaded workers (gthread): a connection that is open but idle (a browser's pre-connect or
keep-alive socket) waits in the worker's poller instead of holding the worker, so three open
browser tabs can no longer stall every page until WORKER TIMEOUT, as the synchronous workers
did. tests/test_server.py holds idle connections open and checks that pages still answer, and
runs the same check against synchronous workers as a control (they stall).

WORKER_CLASS overrides the class; note that gunicorn quietly runs gthread for 'sync' whenever
THREADS is above 1."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
worker_class = os.environ.get("WORKER_CLASS", "gthread")
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "8"))
keepalive = 5
timeout = 30
accesslog = "-"
