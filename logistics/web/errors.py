"""One place that turns errors into answers: JSON for the API, a page for people."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from logistics.db import is_transient
from logistics.errors import DakGhorError

log = logging.getLogger(__name__)


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
            {"code": "csrf", "message": "The form expired; please reload the page and try again."},
        )

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> tuple[Response | str, int]:
        code = e.code or 500
        return respond(
            code,
            {
                "code": (e.name or "error").lower().replace(" ", "_"),
                "message": e.description or e.name,
            },
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(e: Exception) -> Any:
        """The database is down, unreachable or busy: 503 with Retry-After, on a page that
        needs neither the database nor the login (so a logged-in user gets it too)."""
        if isinstance(e, DBAPIError) and is_transient(e):
            log.warning("transient database error on %s %s: %s", request.method, request.path, e)
            wait = 1
        else:
            log.error("database unavailable on %s %s: %s", request.method, request.path, e)
            wait = 30
        headers = {"Retry-After": str(wait)}
        if wants_json():
            body = {
                "code": "service_unavailable",
                "message": "The database cannot be reached; nothing was saved. Try again shortly.",
            }
            return jsonify({"error": body}), 503, headers
        # Straight from Jinja: render_template's context processors would load the logged-in
        # user from the very database that is down.
        page = app.jinja_env.get_template("errors/unavailable.html").render(retry_after=wait)
        return page, 503, headers

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(
            500,
            {
                "code": "internal_error",
                "message": "Something went wrong on our side; nothing was saved. Please try again.",
            },
        )
