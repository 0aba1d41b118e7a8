"""One place that turns errors into answers: JSON for the API, a page for people."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
