"""Logs without the secrets some addresses carry. A payment link (``/p/<token>``,
``/pay/<token>``) and a recipient's registration link (``/r/<token>``) are bearer secrets: who
holds the address may pay the sum or set where the parcel goes. gunicorn's access log wrote
each address whole (the request line and the Referer, which a payment page's own form sends
back), as did the app's log of an error on such a page, so whoever reads the logs could open
every link sent that day. ``redact`` replaces the token, also where it appears encoded inside
another address (``/login?next=%2Fpay%2F…``); ``AccessLogger`` is gunicorn's logger with it
(gunicorn.conf.py). tests/test_logsafe.py checks that every route with a ``<token>`` is covered.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# The first part of each address whose next part is a secret.
SECRET_PREFIXES = ("p", "pay", "r")
HIDDEN = "[redacted]"

_SECRET = re.compile(
    r"(/|%2F)(" + "|".join(SECRET_PREFIXES) + r")(/|%2F)[^/?#&\s%]+", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with the token of every secret address in it replaced by ``HIDDEN``."""
    return _SECRET.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{HIDDEN}", text)


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, its access lines with the request line, path, query and Referer
    redacted."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{referer}i", "{raw_uri}e", "{path_info}e"):
            value = atoms.get(key)
            if isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
