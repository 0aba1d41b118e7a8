"""How the app reaches its background jobs: each ``dakghor.enqueue_*`` extension (tests
replace them to run a job in the request), and the outbox's hand-over of SMS, chat messages
and webhook deliveries to the job queue once a transaction commits."""

from __future__ import annotations

from typing import Any

from flask import Flask

from logistics.handoff import Handoff

# Extension name -> the task function that queues it (logistics.tasks, imported when used).
JOBS = {
    "dakghor.enqueue_plan": "enqueue_plan",
    "dakghor.enqueue_rounds": "enqueue_rounds",
    "dakghor.enqueue_refund": "enqueue_refund",
    "dakghor.enqueue_bulk_check": "enqueue_bulk_check",
    "dakghor.enqueue_bulk_book": "enqueue_bulk_book",
}


def wire_jobs(app: Flask) -> None:
    def queue_with(name: str) -> Any:
        def enqueue(job_id: int) -> None:
            from logistics import tasks

            getattr(tasks, name)(job_id)

        return enqueue

    for extension, name in JOBS.items():
        app.extensions.setdefault(extension, queue_with(name))


def _queue_sms(ids: list[int]) -> None:
    from logistics import tasks

    tasks.enqueue_sms(ids)


def _queue_webhooks(ids: list[int]) -> None:
    from logistics import tasks

    tasks.enqueue_webhooks(ids)


# One hand-off thread of each per process, whichever app of the process commits (tests make
# many apps; each app's extensions may still be replaced).
SMS = Handoff("sms", _queue_sms)
WEBHOOKS = Handoff("webhooks", _queue_webhooks)


def wire_outbox(app: Flask) -> None:
    """The SMS gateway and the chat channel (built on first use; tests may inject SMS_GATEWAY
    and CHAT_GATEWAY), and the outbox: the
    messages a transaction queued go to the job queue once it commits, through the process's
    hand-off thread (logistics/handoff.py; the periodic sweep sends any that could not be
    queued)."""
    from sqlalchemy import event

    from logistics.services import outbox, webhooks
    from logistics.web.sms_config import chat_from_env, gateway_from_env

    cache: dict[str, Any] = {}

    def gateway() -> Any:
        if "gw" not in cache:
            cache["gw"] = app.config.get("SMS_GATEWAY") or gateway_from_env(app.config["DEMO"])
        return cache["gw"]

    def chat() -> Any:
        if "chat" not in cache:
            cache["chat"] = app.config.get("CHAT_GATEWAY") or chat_from_env(app.config["DEMO"])
        return cache["chat"]

    app.extensions["dakghor.sms"] = gateway
    app.extensions["dakghor.chat"] = chat

    app.extensions.setdefault("dakghor.enqueue_sms", SMS.put)
    maker = app.extensions["dakghor.sessionmaker"]
    app.extensions.setdefault("dakghor.enqueue_webhooks", WEBHOOKS.put)

    @event.listens_for(maker, "after_commit")
    def _hand_over(session: Any) -> None:
        ids = session.info.pop(outbox.OUTBOX, None)
        if ids:
            app.extensions["dakghor.enqueue_sms"](ids)
        hooks = session.info.pop(webhooks.PENDING, None)
        if hooks:
            app.extensions["dakghor.enqueue_webhooks"](hooks)

    @event.listens_for(maker, "after_rollback")
    def _drop(session: Any) -> None:
        session.info.pop(outbox.OUTBOX, None)
        session.info.pop(webhooks.PENDING, None)
