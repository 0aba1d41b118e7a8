"""The ``Idempotency-Key`` header on the API's POSTs (services.idempotency): a decorator that
claims the key, replays a first answer, and completes or releases the claim."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, make_response, request

from logistics.services import accounts, idempotency
from logistics.web import get_db

F = TypeVar("F", bound=Callable[..., Any])


def idempotent(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.headers.get("Idempotency-Key")
        if raw is None:
            return view(*args, **kwargs)
        key = idempotency.check_key(raw.strip())
        db = get_db()
        user = accounts.user_for_api_key(db, request.headers.get("Authorization"))
        sha = idempotency.digest(request.method, request.path, request.get_data(cache=True))
        got = idempotency.claim(db, user.id, key, sha)
        if isinstance(got, idempotency.Replay):
            resp = Response(got.body, status=got.status, mimetype="application/json")
            if got.location:
                resp.headers["Location"] = got.location
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        g.idempotency_claim = got
        try:
            resp = make_response(view(*args, **kwargs))
        except Exception:
            idempotency.release(db, got)
            raise
        if g.pop("idempotency_claim", None) is not None:  # the view did not store it itself
            if resp.status_code < 300:
                idempotency.complete(
                    db,
                    got,
                    resp.status_code,
                    resp.get_data(as_text=True),
                    resp.headers.get("Location"),
                )
                db.commit()
            else:
                idempotency.release(db, got)
        return resp

    return wrapper  # type: ignore[return-value]


def commit_then_answer(db: Any, answer: Callable[[], Response]) -> Response:
    """Commit the view's work, then build its answer. Where the request has a key, the answer
    is built first and stored under it in the same commit (both are kept or neither);
    otherwise it is built after the commit, since building it is Python work that, inside a
    SQLite transaction that has written, every other writer waits for."""
    claim = g.pop("idempotency_claim", None)
    if claim is None:
        db.commit()
        return answer()
    resp = answer()
    idempotency.complete(
        db, claim, resp.status_code, resp.get_data(as_text=True), resp.headers.get("Location")
    )
    db.commit()
    return resp
