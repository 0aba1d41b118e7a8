"""The thin HTTP transport under every gateway driver: one request, a timeout, no retries (the
caller decides, with the same reference)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from messaging.gateway import HttpRequest, HttpResponse, TransportError, TransportTimeout


class HttpTransport:
    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"bad gateway base URL {base_url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s

    def send(self, req: HttpRequest) -> HttpResponse:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout_s)
        try:
            conn.request(
                req.method, self.prefix + req.path, body=req.body or None, headers=dict(req.headers)
            )
            resp = conn.getresponse()
            return HttpResponse(
                resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
            )
        except TimeoutError as e:
            raise TransportTimeout(
                f"no answer from {self.host}:{self.port} in {self.timeout_s}s"
            ) from e
        except (OSError, http.client.HTTPException) as e:
            raise TransportError(f"{self.host}:{self.port}: {type(e).__name__}: {e}") from e
        finally:
            conn.close()
