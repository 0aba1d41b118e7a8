"""A form pressed twice does its work once. The pages that make something for good (a parcel at
the counter, a merchant's booking, a payout) carry a one-time token (``once``, a hidden field
of the form; on a priced form, only on its confirm step, with the price); its press is claimed
like the API's ``Idempotency-Key`` (services.idempotency), keyed by the token and what was
sent, and completed in the same commit as the work. A second press of the same form (a double
click, a form sent again after a slow answer, the browser's re-send) waits for the first and
is sent where the first went, with a word that it was done once. A press that makes nothing (a price shown, a field refused) gives its claim back.

The view's own commit is held until it answers: not for a view that hands work to the job
queue after its commit (the job could start before the row is there). "Plan the day" is one;
a partial unique index keeps it to one version being planned (services.dispatch)."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, request
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from logistics.i18n import _
from logistics.services import idempotency
from logistics.web import get_db, local_path

F = TypeVar("F", bound=Callable[..., Any])
FIELD = "once"
WAIT_S = 10.0  # how long a second press waits for the first to be answered
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,40}")  # what token() makes


def token() -> str:
    """A new token for a form (templates: ``{{ once_token() }}``)."""
    return secrets.token_urlsafe(18)


def _page_it_came_from() -> str:
    """Where a press whose first answer was a page, not a redirect, is sent (a new key shown
    once is not shown again): the page the form was on (this site's), else the form's own
    address if it is a page, else the person's home."""
    came = urlsplit(request.referrer or "")
    if came.netloc == request.host and came.path:
        return local_path(came.path + (f"?{came.query}" if came.query else ""), "/")
    try:  # no Referer (a browser may withhold it): the form's own address, if it is a page
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")
    except HTTPException:
        return "/"  # each person's home
    return request.path


@contextmanager
def _commit_held(db: Session) -> Iterator[list[bool]]:
    """The view's commit waits for its answer, so that the claim is completed with it (where a
    second press is to be sent) in the same commit as the work: within the block, a commit
    is only noted (the list is not empty once the view has asked for one)."""
    committed: list[bool] = []
    real_commit = db.commit
    db.commit = lambda: committed.append(True)  # type: ignore[method-assign]
    try:
        yield committed
    finally:
        db.commit = real_commit  # type: ignore[method-assign]


def pressed_once(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.form.get(FIELD, "")
        if not TOKEN.fullmatch(raw):  # a page opened before the token existed (or edited)
            return view(*args, **kwargs)
        sent = sorted(
            (k, v) for k, vs in request.form.lists() for v in vs if k not in ("csrf_token", FIELD)
        )
        sha = idempotency.digest("POST", request.path, json.dumps(sent).encode())
        # The token and what was sent: the same form sent again is the same press, and a form
        # changed (the browser's back button, an edit) and sent with its old token is a new one.
        key = f"f{raw[:30]}{sha[:32]}"
        db = get_db()
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                got = idempotency.claim(db, current_user.id, key, sha)
            except idempotency.InProgress:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            if isinstance(got, idempotency.Replay):
                flash(_("That form was sent twice; it was done once."))
                return redirect(got.location or _page_it_came_from(), 303)
            break
        try:
            with _commit_held(db) as committed:
                resp = make_response(view(*args, **kwargs))
        except Exception:
            idempotency.release(db, got)
            raise
        made = bool(committed) and resp.status_code < 400
        if made:
            idempotency.complete(db, got, resp.status_code, "", resp.headers.get("Location"))
        if committed:
            db.commit()
        if not made:
            # Nothing made: a field refused, or a refusal that keeps a record (a wrong
            # handover code is counted); the same press may come again.
            idempotency.release(db, got)
        return resp

    return wrapper  # type: ignore[return-value]
