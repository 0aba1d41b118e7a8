"""Public tracking's fast lane: ``GET /api/v1/track/<id>``, the busiest call there is, answered
before Flask dispatches it, when it is the plain case: a tracking id in its canonical form
(``CP123456785BD``), no query string, no cookie, within the caller's rate limit, and a parcel
that exists. Everything else (a lower-case or spaced id, a wrong check digit, an unknown
parcel, a caller over the limit, a database error, any other path) goes to Flask as before,
which answers it in the caller's language.

The answer is Flask's own, byte for byte: the same view (``tracking.public_view_of`` on the
API's reader), the same JSON provider, the same headers (the rate limit's, ``Vary``, the
security headers), and the call is counted once in the same rate-limit storage (a call counted
here and handed on is not counted again: ``ApiLimits.check``). ``tests/logistics/
test_fastlane.py`` compares the two answers for every kind of request.

Why: Flask's request handling around this one query (its contexts, URL matching, nine
request hooks, spectree's wrapper, the response's post-processing) cost nearly three times
the query, the view and its JSON (measured in process on SQLite: 498 µs of CPU a call through
Flask, 327 without its hooks, 122-169 through the lane; 142 for a bare Flask endpoint), and
public tracking is what every customer, shop and robot asks most. ``make bench-tracking``
measures the three in process, ``make bench-api`` under gunicorn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from logistics.errors import DakGhorError
from logistics.i18n import VARY
from logistics.services import tracking
from logistics.web import security_header_list
from logistics.web.ratelimit import COUNTED, header_pairs, rate_key_of

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

PATH = re.compile(r"/api/v1/track/([A-Z]{2}\d{9}[A-Z]{2})")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TrackingFastLane:
    """WSGI middleware in front of ``app``'s own ``wsgi_app`` (``inner``)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.app = app
        self.inner = inner
        self.served = 0  # calls answered here, for the tests (threads may lose an increment)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and not environ.get("QUERY_STRING")
            and "HTTP_COOKIE" not in environ
        ):
            m = PATH.fullmatch(environ.get("PATH_INFO", ""))
            if m is not None:
                answer = self._answer(environ, m.group(1))
                if answer is not None:
                    self.served += 1
                    body, headers = answer
                    start_response("200 OK", headers)
                    return [body]
        return self.inner(environ, start_response)

    def _answer(self, environ: dict[str, Any], tid: str) -> tuple[bytes, list[Any]] | None:
        """The body and headers, or None to hand the call to Flask (counted, when it was)."""
        app = self.app
        limits = app.extensions["dakghor.limits"]
        key = rate_key_of(environ.get("HTTP_AUTHORIZATION", ""), environ.get("REMOTE_ADDR"))
        counted = limits.count(limits.every, "api", key, path=environ.get("PATH_INFO"))
        environ[COUNTED] = counted  # Flask's check uses this count rather than count again
        if counted is not None and counted[0] < 0:
            return None  # over the limit: Flask answers 429 in the caller's language
        try:
            view = tracking.public_view_of(app.extensions["dakghor.reader"], tid)
        except DakGhorError:
            return None  # a wrong check digit, no such parcel: Flask's 4xx, translated
        except Exception:
            log.debug("tracking's fast lane handed %s to Flask", tid, exc_info=True)
            return None  # Flask meets the same error and answers it as it answers any
        # What jsonify writes: the app's JSON provider, indented as it would indent.
        provider = app.json
        if (provider.compact is None and app.debug) or provider.compact is False:  # type: ignore[attr-defined]
            text = provider.dumps(view, indent=2)
        else:
            text = provider.dumps(view, separators=(",", ":"))
        body = f"{text}\n".encode()
        headers = [
            ("Content-Type", provider.mimetype),  # type: ignore[attr-defined]
            ("Content-Length", str(len(body))),
        ]
        if counted is not None:
            headers += header_pairs(limits.every.amount, *counted)
        headers.append(("Vary", VARY))
        headers += [(name, value) for name, _lower, value in security_header_list(app)]
        return body, headers


def install(app: Flask) -> TrackingFastLane | None:
    """Put the lane in front of ``app``'s handling (after everything else is registered); not
    where Flask would refuse some hosts (``TRUSTED_HOSTS``), which the lane does not check."""
    if app.config.get("TRUSTED_HOSTS"):
        return None
    lane = TrackingFastLane(app, app.wsgi_app)
    app.wsgi_app = lane  # type: ignore[method-assign]
    return lane
