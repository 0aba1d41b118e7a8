"""The thin HTTP transport under every driver: one request, a timeout, no retries (the caller
decides, with the same idempotency key)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from billing.driver import HttpRequest, HttpResponse
from billing.errors import TransportError, TransportTimeout


class HttpTransport:
    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"bad operator base URL {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s

    def send(self, req: HttpRequest) -> HttpResponse:
        conn_cls = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(self.host, self.port, timeout=self.timeout_s)
        try:
            conn.request(
                req.method, self.prefix + req.path, body=req.body or None, headers=dict(req.headers)
            )
            resp = conn.getresponse()
            body = resp.read()
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        except TimeoutError as e:
            raise TransportTimeout(
                f"no answer from {self.host}:{self.port} within {self.timeout_s}s"
            ) from e
        except (OSError, http.client.HTTPException) as e:
            # Connection refused or reset, or the server hung up mid-answer.
            raise TransportError(f"{self.host}:{self.port}: {type(e).__name__}: {e}") from e
        finally:
            conn.close()
