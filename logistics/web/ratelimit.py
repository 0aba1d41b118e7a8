"""The API's rate limits: every call counted per API key (per address without one) over the
whole API, at ``API_RATE_LIMIT``; bulk booking also at ``API_BULK_RATE_LIMIT``. Over either, the
answer is 429 with ``Retry-After``; every API answer carries ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset`` (the epoch second the window frees up).

Windows are fixed and aligned to the clock (a "600/minute" key has 600 calls from 12:00:00 to
12:00:59, and 600 more from 12:01:00). Each call is one increment in
``RATELIMIT_STORAGE_URI`` through the ``limits`` library's storage (``memory://``, per process;
production: Redis, shared), and that one increment answers everything: whether the call is
within the limit, how many are left, and when the window ends. Measured in process on a
public tracking call: a sliding window through ``limits``' strategies took two round trips to
Redis (the count, then what is left for the headers), 436 µs of the call; one increment takes
239 µs with Redis. Before that, Flask-Limiter's own request hook cost 210 µs more on every
request, working out which of its application, blueprint, route and meta limits applied.

In memory (``memory://``, what ``make run`` uses) the counts are a dict of this process
(``ProcessCounts``) rather than ``limits``' memory storage, which took about 35 µs of a
tracking call: a lock per key, its own expiry bookkeeping and a timer thread started every
10 ms to expire keys. A fixed window's count needs none of it: each key names its window, and
the keys of windows that have ended are dropped when a new window begins.

A storage that cannot be reached (Redis down) lets the call through and logs it: the limits
protect the service, and a tracking page that fails with them would protect nothing.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time

from flask import Blueprint, Flask, Response, g, request
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string

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


# A call's count made before Flask saw it (logistics/web/fastlane.py), in its WSGI environ:
# (left, reset) as ``ApiLimits.count`` answers, or None when the storage could not be reached.
COUNTED = "dakghor.rate_counted"


def rate_key() -> str:
    """Whose requests a rate limit counts: the API key's (by a digest, never the key), else the
    caller's address."""
    return rate_key_of(request.headers.get("Authorization", ""), request.remote_addr)


def rate_key_of(authorization: str, remote_addr: str | None) -> str:
    """``rate_key`` from the Authorization header and the caller's address."""
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return "key:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:24]
    return "ip:" + (remote_addr or "127.0.0.1")


def _rate(text: str, name: str) -> RateLimitItem:
    try:
        return parse(text)
    except ValueError:
        raise RuntimeError(f"{name} is {text!r}; write it as 600/minute") from None


class ProcessCounts:
    """Calls counted per key in this process, for fixed windows: ``incr`` has the signature
    of ``limits``' storages. A key ends with its window's number (``ApiLimits.count``), so a
    window's count is never read after it ends; at most once a second, when a new key comes,
    the keys past their expiry are dropped."""

    def __init__(self) -> None:
        self._counts: dict[str, list[float]] = {}  # key -> [count, expires at]
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            entry = self._counts.get(key)
            if entry is None or entry[1] <= now:
                if now >= self._next_sweep:
                    self._next_sweep = now + 1
                    for k in [k for k, (_, end) in self._counts.items() if end <= now]:
                        del self._counts[k]
                entry = self._counts[key] = [0, now + expiry]
            entry[0] += amount
            return int(entry[0])


class ApiLimits:
    """The API blueprint's limits, read from ``app.config`` once."""

    def __init__(self, app: Flask) -> None:
        uri = app.config["RATELIMIT_STORAGE_URI"]
        storage: Storage | ProcessCounts
        if uri == "memory://":
            storage = ProcessCounts()
        else:
            shared = storage_from_string(uri)
            if not isinstance(shared, Storage):  # async+redis:// and the like
                raise RuntimeError("DAKGHOR_RATELIMIT_STORAGE must be a synchronous storage")
            storage = shared
        self.storage = storage
        self.every = _rate(app.config["API_RATE_LIMIT"], "DAKGHOR_API_RATE")
        self.bulk = _rate(app.config["API_BULK_RATE_LIMIT"], "DAKGHOR_API_BULK_RATE")

    def count(
        self, item: RateLimitItem, scope: str, key: str, path: str | None = None
    ) -> tuple[int, int] | None:
        """One more call of ``key`` against ``item``: the calls left in this window (below 0
        when over) and the epoch second it ends; None when the storage cannot be reached (and
        logged, with the request's ``path``)."""
        period = item.get_expiry()
        window = int(time.time()) // period
        try:
            used = self.storage.incr(f"dakghor/{scope}/{key}/{window}", period + 1)
        except Exception:  # the storage is down: let the call through (module docstring)
            log.warning("rate limit storage unreachable; %s not counted", path or request.path)
            return None
        return item.amount - used, (window + 1) * period

    def check(self) -> None:
        """Before every API call: count it, or refuse it with 429. The headers tell where the
        caller stands against the API's limit, or against the limit that refused it."""
        key = rate_key()
        limits = [(self.every, "api")]
        if request.endpoint == BULK:
            limits.append((self.bulk, "bulk"))
        for item, scope in limits:
            if scope == "api" and COUNTED in request.environ:  # counted before Flask
                counted = request.environ.pop(COUNTED)
            else:
                counted = self.count(item, scope, key)
            if counted is None:
                continue
            left, reset = counted
            if left < 0:
                g.rate_limit = (item.amount, 0, reset)
                raise TooManyRequests(max(1, math.ceil(reset - time.time())))
            if item is self.every:
                g.rate_limit = (item.amount, left, reset)

    @staticmethod
    def headers(resp: Response) -> Response:
        """After every API call: where the caller stands."""
        counted = g.pop("rate_limit", None)
        if counted is not None:
            resp.headers.extend(header_pairs(*counted))
        return resp


def header_pairs(limit: int, remaining: int, reset: int) -> list[tuple[str, str]]:
    """The headers that tell a caller where it stands: its limit, the calls left in this
    window, and the epoch second the window ends."""
    return [
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", str(reset)),
    ]


def limit_api(app: Flask, api_bp: Blueprint) -> ApiLimits:
    """The limits on every route of ``api_bp`` (registered on the app already)."""
    limits = ApiLimits(app)
    app.before_request_funcs.setdefault(api_bp.name, []).append(limits.check)
    app.after_request_funcs.setdefault(api_bp.name, []).append(limits.headers)
    app.extensions["dakghor.limits"] = limits
    return limits
