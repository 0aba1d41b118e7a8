"""The API's rate limits: every call counted per API key (per address without one) over the
whole API, at ``API_RATE_LIMIT``; bulk booking also at ``API_BULK_RATE_LIMIT``. Over either, the
answer is 429 with ``Retry-After``; every API answer carries ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset`` (the epoch second the window frees up).

The counting is the ``limits`` library's (the one Flask-Limiter is built on), in
``RATELIMIT_STORAGE_URI`` (``memory://`` per process; production: Redis, shared) with
``RATELIMIT_STRATEGY``. Flask-Limiter's own request hook decided on every request of the app
which of its application, blueprint, route and meta limits applied, with their exemptions:
210 µs of the 850 µs a public tracking call took in process, four times the count itself,
for an API that has one limit and a second on one route (bench/bench_api.py, docs/api.md).

A storage that cannot be reached (Redis down) lets the call through and logs it: the limits
protect the service, and a tracking page that fails with them would protect nothing.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Blueprint, Flask, Response, g, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import STRATEGIES

from logistics.errors import DakGhorError
from logistics.i18n import _l

log = logging.getLogger(__name__)
BULK = "api.create_parcels_bulk"


class TooManyRequests(DakGhorError):
    """Over a rate limit: 429 with Retry-After (seconds until the window frees a call)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(_l("Too many requests; please wait a little and try again."))
        self.retry_after_s = retry_after_s


def rate_key() -> str:
    """Whose requests a rate limit counts: the API key's (by a digest, never the key), else the
    caller's address."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return "key:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:24]
    return "ip:" + (request.remote_addr or "127.0.0.1")


def _rate(text: str, name: str) -> RateLimitItem:
    try:
        return parse(text)
    except ValueError:
        raise RuntimeError(f"{name} is {text!r}; write it as 600/minute") from None


class ApiLimits:
    """The API blueprint's limits, read from ``app.config`` once."""

    def __init__(self, app: Flask) -> None:
        strategy = app.config["RATELIMIT_STRATEGY"]
        if strategy not in STRATEGIES:
            raise RuntimeError(
                f"DAKGHOR_RATELIMIT_STRATEGY is {strategy!r}; use one of {', '.join(STRATEGIES)}"
            )
        self.strategy = STRATEGIES[strategy](
            storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        )
        self.every = _rate(app.config["API_RATE_LIMIT"], "DAKGHOR_API_RATE")
        self.bulk = _rate(app.config["API_BULK_RATE_LIMIT"], "DAKGHOR_API_BULK_RATE")

    def _hit(self, item: RateLimitItem, scope: str, key: str) -> bool:
        try:
            return self.strategy.hit(item, scope, key)
        except Exception:  # the storage is down: let the call through (module docstring)
            log.warning("rate limit storage unreachable; %s not counted", request.path)
            return True

    def _stats(self, item: RateLimitItem, scope: str, key: str) -> tuple[int, float] | None:
        """What is left of ``item`` for ``key``, and when its window frees up (epoch s)."""
        try:
            reset, remaining = self.strategy.get_window_stats(item, scope, key)
        except Exception:
            return None
        return int(remaining), reset

    def check(self) -> None:
        """Before every API call: count it, or refuse it with 429."""
        key = rate_key()
        limits = [(self.every, "api")]
        if request.endpoint == BULK:
            limits.append((self.bulk, "bulk"))
        for item, scope in limits:
            if not self._hit(item, scope, key):
                stats = self._stats(item, scope, key)
                reset = stats[1] if stats else time.time() + item.get_expiry()
                g.rate_limit = (item.amount, 0, math.ceil(reset))
                raise TooManyRequests(max(1, math.ceil(reset - time.time())))
        stats = self._stats(self.every, "api", key)
        if stats is not None:
            g.rate_limit = (self.every.amount, stats[0], math.ceil(stats[1]))

    @staticmethod
    def headers(resp: Response) -> Response:
        """After every API call: where the caller stands."""
        counted = g.pop("rate_limit", None)
        if counted is not None:
            limit, remaining, reset = counted
            resp.headers["X-RateLimit-Limit"] = str(limit)
            resp.headers["X-RateLimit-Remaining"] = str(remaining)
            resp.headers["X-RateLimit-Reset"] = str(reset)
        return resp


def limit_api(app: Flask, api_bp: Blueprint) -> ApiLimits:
    """The limits on every route of ``api_bp`` (registered on the app already)."""
    limits = ApiLimits(app)
    app.before_request_funcs.setdefault(api_bp.name, []).append(limits.check)
    app.after_request_funcs.setdefault(api_bp.name, []).append(limits.headers)
    app.extensions["dakghor.limits"] = limits
    return limits
