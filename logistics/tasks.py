"""Background jobs (Celery): the follow-up of a charge whose outcome was unknown when the payer
left, and the periodic sweep that settles open charges and refunds and ends attempts past their
deadline, so no one has to run ``dakghor payments recover`` by hand; the planning job; sending
each customer SMS (retried with backoff) and the SMS sweep (what is due, late receipts).

    celery -A app worker -B      # a worker with its beat, taking every queue
    celery -A app worker -B -Q celery  +  celery -A app worker -Q slow   # what make run starts

``app.py`` hands this module its app factory (``app_factory``): the dependency rule keeps
``logistics`` from importing ``app``. The broker, the queues and the beat are ``jobs.py``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from logistics import jobs

log = logging.getLogger(__name__)

celery = jobs.celery
app_factory: Callable[[], Any] | None = None  # set by app.py
_flask: Any = None


def _app() -> Any:
    """The Flask app of this worker process (its database, its operator drivers)."""
    global _flask
    if _flask is None:
        if app_factory is None:
            raise RuntimeError("start the worker as: celery -A app worker -B")
        _flask = app_factory()
    return _flask


def _with_sessions(job: Callable[[Any, int], str], job_id: int, what: str) -> str:
    """Run ``job(sessionmaker, job_id)`` in the app's context and log its outcome."""
    app = _app()
    with app.app_context():
        outcome = job(app.extensions["dakghor.sessionmaker"], job_id)
    log.info("%s %s: %s", what, job_id, outcome)
    return outcome


def _run(work: Any) -> Any:
    app = _app()
    with app.app_context():
        session = app.extensions["dakghor.sessionmaker"]()
        try:
            return work(session, app.extensions["dakghor.payments"]())
        finally:
            session.close()


@celery.task(name="dakghor.payments.settle")  # type: ignore[untyped-decorator]
def settle_attempt(attempt_id: int) -> str:
    """Ask the operator what became of one charge (same key; never a second charge)."""
    from logistics.services import payments

    def work(session: Any, settings: Any) -> str:
        outcome = payments.settle(session, attempt_id, settings)
        session.commit()
        return str(outcome)

    outcome = _run(work)
    log.info("settle %s: %s", attempt_id, outcome)
    return str(outcome)


@celery.task(name="dakghor.payments.sweep")  # type: ignore[untyped-decorator]
def sweep() -> dict[str, int]:
    """Settle charges and refunds left open, end attempts past their deadline."""
    from logistics.services import payments

    after = int(os.environ.get("DAKGHOR_SWEEP_AFTER_S", "30"))
    counts: dict[str, int] = _run(lambda s, st: payments.recover(s, st, older_than_s=after))
    if counts:
        log.info("payments sweep: %s", counts)
    return counts


@celery.task(name="dakghor.dispatch.plan")  # type: ignore[untyped-decorator]
def plan_day(plan_id: int) -> str:
    """Compute one version of a day's van plan (dispatch.start_plan made it)."""
    from logistics.services import dispatch

    app = _app()
    with app.app_context():
        outcome = dispatch.run_plan(
            app.extensions["dakghor.sessionmaker"],
            plan_id,
            workers=int(os.environ.get("DAKGHOR_SOLVER_WORKERS", "1")),
        )
    log.info("plan %s: %s", plan_id, outcome)
    return outcome


def enqueue_plan(plan_id: int) -> None:
    """Queue a planning job. Unlike a payer's follow-up, a planner waits for this one: if the
    broker cannot be reached, the error reaches the caller."""
    plan_day.apply_async((plan_id,), retry=False)


@celery.task(name="dakghor.rounds.plan")  # type: ignore[untyped-decorator]
def plan_rounds(plan_id: int) -> str:
    """Compute a delivery office's rounds (round_plans.start made the plan)."""
    from logistics.services import round_plans

    return _with_sessions(round_plans.compute, plan_id, "round plan")


@celery.task(name="dakghor.returns.refund")  # type: ignore[untyped-decorator]
def return_refund(refund_id: int) -> str:
    """Give back a returned parcel's airtime postage (returns.start recorded the refund)."""
    from logistics.services import returns

    def work(session: Any, settings: Any) -> str:
        outcome = returns.push_refund(session, refund_id, settings)
        session.commit()
        return outcome

    outcome = str(_run(work))
    log.info("return refund %s: %s", refund_id, outcome)
    return outcome


@celery.task(name="dakghor.returns.sweep")  # type: ignore[untyped-decorator]
def returns_sweep() -> int:
    """Send back every parcel held past its last day; queue the refunds that follow."""
    from logistics.services import returns

    ids: list[int] = _run(lambda session, settings: returns.sweep(session))
    for refund_id in ids:
        enqueue_refund(refund_id)
    if ids:
        log.info("returns sweep: %s refunds", len(ids))
    return len(ids)


@celery.task(name="dakghor.api.purge_keys")  # type: ignore[untyped-decorator]
def purge_keys() -> int:
    """Forget the API's Idempotency-Keys older than a day."""
    from logistics.services import idempotency

    return int(_run(lambda session, settings: idempotency.purge(session)))


def enqueue_refund(refund_id: int) -> None:
    """Queue a return's refund; if the broker cannot be reached, the payments sweep sends it."""
    try:
        return_refund.apply_async((refund_id,), countdown=1, retry=False)
    except Exception as e:  # noqa: BLE001 - the clerk's request must not fail for a queue
        log.warning("could not queue refund %s (%s); the payments sweep will", refund_id, e)


def enqueue_rounds(plan_id: int) -> None:
    """Queue a round plan; a clerk waits for it, so an unreachable broker is their error."""
    plan_rounds.apply_async((plan_id,), retry=False)


def enqueue_settle(attempt_id: int) -> None:
    """Queue the follow-up of a charge; if the broker cannot be reached, the sweep does it."""
    try:
        settle_attempt.apply_async((attempt_id,), countdown=2, retry=False)
    except Exception as e:  # noqa: BLE001 - the payer's request must not fail for a queue
        log.warning(
            "could not queue the follow-up of attempt %s (%s); the sweep will", attempt_id, e
        )


def _gateways() -> tuple[Any, dict[str, Any]]:
    """The app, and each configured channel's gateway by channel (sms, chat)."""
    app = _app()
    found = {"sms": app.extensions["dakghor.sms"](), "chat": app.extensions["dakghor.chat"]()}
    return app, {channel: gw for channel, gw in found.items() if gw is not None}


@celery.task(name="dakghor.sms.send")  # type: ignore[untyped-decorator]
def send_sms(notification_id: int) -> str:
    """Send one queued message (SMS or chat); a retry is scheduled for when its backoff ends."""
    app, gateways = _gateways()
    with app.app_context():
        return _send_message(app.extensions["dakghor.sessionmaker"], gateways, notification_id)


@celery.task(name="dakghor.sms.send_many")  # type: ignore[untyped-decorator]
def send_sms_many(notification_ids: list[int]) -> list[str]:
    """Send queued messages one after the other (the hand-off's batches: logistics/handoff.py)."""
    app, gateways = _gateways()
    with app.app_context():
        sessions = app.extensions["dakghor.sessionmaker"]
        return [_send_message(sessions, gateways, nid) for nid in notification_ids]


def _send_message(sessions: Any, gateways: dict[str, Any], notification_id: int) -> str:
    from logistics.db import utcnow
    from logistics.models import Notification, NotificationStatus
    from logistics.services import sms_delivery

    with sessions() as s:
        channel = s.scalar(select(Notification.channel).where(Notification.id == notification_id))
    gateway = gateways.get(channel or "")
    if gateway is None:
        return "no_gateway"
    outcome = sms_delivery.deliver(sessions, notification_id, gateway)
    if outcome == "retry":
        with sessions() as s:
            n = s.get(Notification, notification_id)
            if n is not None and n.status is NotificationStatus.QUEUED:
                wait = (n.next_attempt_at - utcnow()).total_seconds()
                send_sms.apply_async((notification_id,), countdown=max(1.0, wait))
    log.info("message %s: %s", notification_id, outcome)
    return str(outcome)


@celery.task(name="dakghor.sms.sweep")  # type: ignore[untyped-decorator]
def sms_sweep() -> dict[str, int]:
    """Send what is due on each channel (after quiet hours, after a lost job) and chase late
    receipts."""
    from logistics.services import sms_delivery

    app, gateways = _gateways()
    if "sms" not in gateways:
        log.warning("no SMS gateway configured (DAKGHOR_SMS_URL): messages wait in the outbox")
    counts: dict[str, int] = {}
    with app.app_context():
        for channel, gateway in gateways.items():
            for k, v in sms_delivery.sweep(app.extensions["dakghor.sessionmaker"], gateway).items():
                counts[f"{channel}_{k}"] = v
    if counts:
        log.info("message sweep: %s", counts)
    return counts


def enqueue_sms(ids: list[int]) -> None:
    """Queue the sending of messages a transaction just committed, in one message (the
    hand-off gives up to 20 at a time); if the broker cannot be reached, the SMS sweep sends
    them."""
    try:
        if len(ids) == 1:
            send_sms.apply_async((ids[0],), retry=False)
        else:
            send_sms_many.apply_async((list(ids),), retry=False)
    except Exception as e:  # noqa: BLE001 - the request that queued them must not fail
        log.warning("could not queue %s messages (%s); the SMS sweep will send them", len(ids), e)


@celery.task(name="dakghor.webhooks.deliver")  # type: ignore[untyped-decorator]
def deliver_webhook(delivery_id: int) -> str:
    """One try of a webhook delivery; a retry is scheduled for when its backoff ends."""
    app = _app()
    with app.app_context():
        return _deliver_hook(app.extensions["dakghor.sessionmaker"], delivery_id)


@celery.task(name="dakghor.webhooks.deliver_many")  # type: ignore[untyped-decorator]
def deliver_webhooks(delivery_ids: list[int]) -> list[str]:
    """One try of each delivery, one after the other (the hand-off's batches)."""
    app = _app()
    with app.app_context():
        sessions = app.extensions["dakghor.sessionmaker"]
        return [_deliver_hook(sessions, d) for d in delivery_ids]


def _deliver_hook(sessions: Any, delivery_id: int) -> str:
    from logistics.db import utcnow
    from logistics.models import WebhookDelivery
    from logistics.services import webhook_delivery

    outcome = webhook_delivery.deliver(sessions, delivery_id)
    if outcome == "retry":
        with sessions() as s:
            d = s.get(WebhookDelivery, delivery_id)
            if d is not None and d.state == "pending":
                wait = (d.next_at - utcnow()).total_seconds()
                deliver_webhook.apply_async((delivery_id,), countdown=max(1.0, wait))
    log.info("webhook delivery %s: %s", delivery_id, outcome)
    return str(outcome)


@celery.task(name="dakghor.webhooks.sweep")  # type: ignore[untyped-decorator]
def webhooks_sweep() -> int:
    """Send the deliveries that are due (a lost job, a retry the queue forgot)."""
    from logistics.services import webhook_delivery

    app = _app()
    with app.app_context():
        sessions = app.extensions["dakghor.sessionmaker"]
        with sessions() as s:
            ids = webhook_delivery.due(s)
        for delivery_id in ids:
            webhook_delivery.deliver(sessions, delivery_id)
    return len(ids)


def enqueue_webhooks(ids: list[int]) -> None:
    """Queue deliveries a transaction just wrote, in one message; if the broker cannot be
    reached, the sweep sends them."""
    try:
        if len(ids) == 1:
            deliver_webhook.apply_async((ids[0],), retry=False)
        else:
            deliver_webhooks.apply_async((list(ids),), retry=False)
    except Exception as e:  # noqa: BLE001 - the request that wrote them must not fail
        log.warning("could not queue %s webhook deliveries (%s); the sweep will", len(ids), e)


@celery.task(name="dakghor.bulk.check")  # type: ignore[untyped-decorator]
def check_bulk(upload_id: int) -> str:
    """Check every row of a bulk upload (bulk.start stored them)."""
    from logistics.services import bulk_jobs

    return _with_sessions(bulk_jobs.check, upload_id, "bulk upload check")


@celery.task(name="dakghor.bulk.book")  # type: ignore[untyped-decorator]
def book_bulk(upload_id: int) -> str:
    """Book the valid rows of a checked bulk upload."""
    from logistics.services import bulk_jobs

    return _with_sessions(bulk_jobs.book, upload_id, "bulk upload booking")


@celery.task(name="dakghor.jobs.sweep")  # type: ignore[untyped-decorator]
def jobs_sweep() -> list[int]:
    """Queue again the bulk uploads whose checking or booking job died with its worker."""
    from logistics.services import bulk_jobs

    app = _app()
    with app.app_context():
        again: list[int] = bulk_jobs.requeue_stalled(
            app.extensions["dakghor.sessionmaker"],
            app.extensions["dakghor.enqueue_bulk_check"],
            app.extensions["dakghor.enqueue_bulk_book"],
        )
    if again:
        log.warning("jobs sweep: bulk uploads %s queued again (their job stopped)", again)
    return again


def enqueue_bulk_check(upload_id: int) -> None:
    """Queue the checking of an upload; the merchant waits for it, so an unreachable broker is
    theirs to hear about."""
    check_bulk.apply_async((upload_id,), retry=False)


def enqueue_bulk_book(upload_id: int) -> None:
    book_bulk.apply_async((upload_id,), retry=False)
