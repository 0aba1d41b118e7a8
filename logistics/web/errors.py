"""One place that turns errors into answers: JSON for the API, a page for people."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from logistics import i18n
from logistics.db import is_transient
from logistics.errors import DakGhorError
from logistics.i18n import _, _l
from logistics.logsafe import redact

log = logging.getLogger(__name__)


# Werkzeug's own descriptions are English: each status a person may meet has its own text.
HTTP_MESSAGES = {
    400: _l("The request was not understood."),
    401: _l("Please log in."),
    403: _l("You may not see this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    415: _l("This type of content is not accepted here."),
    429: _l("Too many requests; please wait a little and try again."),
}


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/callbacks/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def respond(status: int, body: dict[str, object]) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": body}), status
    return render_template("errors/error.html", status=status, error=body), status


def register(app: Flask) -> None:
    @app.errorhandler(DakGhorError)
    def _domain(e: DakGhorError) -> Any:
        answer = respond(e.status, e.as_dict())
        wait = getattr(e, "retry_after_s", None)
        return (*answer, {"Retry-After": str(wait)}) if wait else answer

    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError) -> tuple[Response | str, int]:
        return respond(
            400,
            {
                "code": "csrf",
                "message": _("The form expired; please reload the page and try again."),
            },
        )

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> tuple[Response | str, int]:
        code = e.code or 500
        message = HTTP_MESSAGES.get(code) or _l("The request could not be served.")
        return respond(
            code, {"code": (e.name or "error").lower().replace(" ", "_"), "message": str(message)}
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(e: Exception) -> Any:
        """The database is down, unreachable or busy: 503 with Retry-After, on a page that
        needs neither the database nor the login (so a logged-in user gets it too)."""
        if isinstance(e, DBAPIError) and (is_transient(e) or e.connection_invalidated):
            # Busy, or a pooled connection the server had dropped (the pool is refreshed now):
            # the same request a second later goes through.
            log.warning(
                "transient database error on %s %s: %s", request.method, redact(request.path), e
            )
            wait = 1
        else:
            log.error("database unavailable on %s %s: %s", request.method, redact(request.path), e)
            wait = 30
        headers = {"Retry-After": str(wait)}
        if wants_json():
            body = {
                "code": "service_unavailable",
                "message": _(
                    "The database cannot be reached; nothing was saved. Try again shortly."
                ),
            }
            return jsonify({"error": body}), 503, headers
        # Straight from Jinja: render_template's context processors would load the logged-in
        # user from the very database that is down.
        page = app.jinja_env.get_template("errors/unavailable.html").render(
            retry_after=wait, lang=i18n.current()
        )
        return page, 503, headers

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        return respond(
            500,
            {
                "code": "internal_error",
                "message": _(
                    "Something went wrong on our side; nothing was saved. Please try again."
                ),
            },
        )
