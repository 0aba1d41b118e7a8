"""How the background jobs are queued (``tasks.py`` has the jobs themselves): the broker, the
two queues, the beat's periodic jobs, and the record of each periodic job's runs that tells a
stopped worker (services/job_runs.py).

The broker is ``DAKGHOR_BROKER_URL`` (Redis in production and CI, e.g. redis://127.0.0.1:6379/0);
without it, a folder under the instance directory, which needs no server of its own
(``logistics/broker.py``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery, signals
from kombu.entity import Queue

from logistics import broker

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


def _broker() -> tuple[str, dict[str, Any]]:
    url = os.environ.get("DAKGHOR_BROKER_URL", "")
    if url:
        return url, {}
    folder = Path(os.environ.get("DAKGHOR_INSTANCE", ROOT / "instance")) / "broker"
    folder.mkdir(parents=True, exist_ok=True)
    return broker.register(), {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),  # not ./control in whatever the cwd is
    }


# The jobs that run for minutes (a solver's time limit, thousands of rows) have a queue of
# their own. A worker started without ``-Q`` takes both queues; ``make run`` starts one worker
# for each, so a payer's follow-up, an SMS or a sweep never waits behind a day's plan (with one
# worker, a 60 s plan held every other job for its minute).
QUICK, SLOW = "celery", "slow"
SLOW_JOBS = (
    "dakghor.dispatch.plan",
    "dakghor.rounds.plan",
    "dakghor.bulk.check",
    "dakghor.bulk.book",
)


def make_celery() -> Celery:
    url, options = _broker()
    app = Celery("dakghor", broker=url)
    app.conf.update(
        task_queues=[Queue(q, routing_key=q) for q in (QUICK, SLOW)],  # type: ignore[no-untyped-call]
        task_default_queue=QUICK,
        task_routes={name: {"queue": SLOW, "routing_key": SLOW} for name in SLOW_JOBS},
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,  # a job cut off by a crash runs again (every job is idempotent)
        worker_prefetch_multiplier=1,
        beat_schedule={
            "payments-sweep": {
                "task": "dakghor.payments.sweep",
                "schedule": float(os.environ.get("DAKGHOR_SWEEP_S", "30")),
            },
            "returns-sweep": {
                "task": "dakghor.returns.sweep",
                "schedule": float(os.environ.get("DAKGHOR_RETURNS_SWEEP_S", "600")),
            },
            "idempotency-purge": {
                "task": "dakghor.api.purge_keys",
                "schedule": 3600.0,
            },
            "webhooks-sweep": {
                "task": "dakghor.webhooks.sweep",
                "schedule": float(os.environ.get("DAKGHOR_WEBHOOK_SWEEP_S", "30")),
            },
            "jobs-sweep": {
                "task": "dakghor.jobs.sweep",
                "schedule": float(os.environ.get("DAKGHOR_JOBS_SWEEP_S", "30")),
            },
            "sms-sweep": {
                "task": "dakghor.sms.sweep",
                "schedule": float(os.environ.get("DAKGHOR_SMS_SWEEP_S", "30")),
            },
        },
    )
    return app


celery = make_celery()
# Each periodic task and its period in seconds.
PERIODIC: dict[str, float] = {
    entry["task"]: float(entry["schedule"]) for entry in celery.conf.beat_schedule.values()
}


def _record(name: str) -> None:
    """``name`` ran, in the database of this process's Flask app (the worker's, or the beat's
    own process's); a failure to record is only logged: the work itself went on."""
    from logistics import tasks
    from logistics.services import job_runs

    try:
        job_runs.record(tasks._app().extensions["dakghor.sessionmaker"], name)
    except Exception:  # noqa: BLE001
        log.warning("the run of %s was not recorded", name, exc_info=True)


@signals.beat_init.connect  # type: ignore[untyped-decorator]
def _beat_started(sender: Any = None, **_: Any) -> None:
    """The beat started: its periodic jobs are judged from now on, not since they last ran (a
    new beat first runs each of them one period after it starts)."""
    from logistics.services.job_runs import BEAT

    _record(BEAT)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


@signals.beat_embedded_init.connect  # type: ignore[untyped-decorator]
def _end_with_worker(sender: Any = None, **_: Any) -> None:
    """A beat started inside a worker (``worker -B``, as ``make run`` does) runs in a process
    of its own, which outlived a worker killed with SIGKILL: it went on queueing the periodic
    jobs, and a new worker brought a second beat. On Linux it now gets SIGTERM when the worker
    dies, and stops as it does on Ctrl-C (its schedule saved)."""
    import ctypes
    import signal
    import sys

    from billiard.process import current_process

    if not sys.platform.startswith("linux"):
        return

    def stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)  # the beat's loop ends on it and saves its schedule

    signal.signal(signal.SIGTERM, stop)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("the beat will not stop with its worker (prctl: %s)", ctypes.get_errno())
    elif os.getppid() != getattr(current_process(), "_parent_pid", os.getppid()):
        raise SystemExit(0)  # the worker died before the request was made


@signals.task_success.connect  # type: ignore[untyped-decorator]
def _record_run(sender: Any = None, **_: Any) -> None:
    """A periodic task finished."""
    name = getattr(sender, "name", "")
    if name in PERIODIC:
        _record(name)
