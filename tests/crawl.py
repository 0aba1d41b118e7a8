"""A crawler for the hostile-input sweep: it follows every link a role's pages show, and sends
each form it finds back with hostile values, one field at a time, through the Flask test
client. What it reports is every answer of 500 or more, and every refused form that changed
the number of rows of a table. ``press_twice`` sends each form twice at the same moment, as a
double click does."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import at_once

# What people type by mistake, what a URL can be edited to and what an attacker sends.
HOSTILE = (
    "0001-01-01",  # a day with no day before it
    "9999-12-31",  # nor after
    "\x00",
    "-1",
    "99999999999999999999",  # past any INTEGER
    "²",  # a digit to str.isdigit that int() refuses
    "১২",  # Bangla digits
    "1.5",
    "",
    "x" * 3000,
)


@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: list[tuple[str, str | None, str]] = field(default_factory=list)  # name, value, kind

    def page_values(self) -> dict[str, list[str]]:
        """What the page would send: each field's value, and the first submit button's."""
        values: dict[str, list[str]] = {}
        for n, v, kind in self.fields:
            if v is not None and (kind != "submit" or n not in values):
                values.setdefault(n, []).append(v)
        return values


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: list[str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "option" and self._select is not None:
            if self._select[1] is None or "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(
                a.get("action", ""),
                a.get("method", "get").lower(),
                "multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
        elif self._form is None or not name:
            return
        elif tag == "button" or (tag == "input" and a.get("type") == "submit"):
            self._form.fields.append((name, a.get("value", ""), "submit"))
        elif tag in ("input", "textarea"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self._form.fields.append(
                    (name, a.get("value", "on") if "checked" in a else None, kind)
                )
            else:
                self._form.fields.append((name, a.get("value", ""), kind))
        elif tag == "select":
            self._select = [name, None]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.append((str(self._select[0]), self._select[1] or "", "select"))
            self._select = None
        elif tag == "form":
            self._form = None


def shape(path: str) -> str:
    """A path with its ids, tracking numbers, office codes and tokens made generic: the
    crawler visits a few pages and forms of each shape, not each of 600 parcels."""
    path = re.sub(r"[A-Z]{2}\d{9}[A-Z]{2}", "<s10>", path)
    path = re.sub(r"/[A-Z]{2,5}(?=/|$)", "/<code>", path)
    path = re.sub(r"[A-Za-z0-9_-]{20,}", "<token>", path)
    return re.sub(r"\d+", "<n>", path)


@dataclass
class Sweep:
    client: FlaskClient
    rows: Callable[[], object]  # a snapshot of the row counts, compared before and after
    problems: list[str] = field(default_factory=list)
    pages: int = 0
    sent: int = 0
    visited: list[str] = field(default_factory=list)  # each page asked for, in order

    def crawl(
        self,
        starts: Iterable[str],
        limit: int = 200,
        per_shape: int = 2,
        avoid: tuple[str, ...] = ("/static", "/logout"),
    ) -> list[Form]:
        """GET every page reachable from ``starts`` (but those under ``avoid``); the forms
        found, one per shape."""
        seen: set[str] = set()
        shapes: dict[str, int] = {}
        forms: dict[tuple[str, str, tuple[str, ...]], Form] = {}
        queue = deque(starts)
        while queue and self.pages < limit:
            path = queue.popleft()
            s = shape(path.split("?")[0])
            if path in seen or shapes.get(s, 0) >= per_shape:
                continue
            seen.add(path)
            shapes[s] = shapes.get(s, 0) + 1
            self.pages += 1
            self.visited.append(path)
            r = self.client.get(path, follow_redirects=True)
            body = r.get_data()  # a streamed download runs to its end
            r.close()
            if r.status_code >= 500:
                self.problems.append(f"GET {path}: {r.status_code}")
            if not r.content_type.startswith("text/html"):
                continue
            page = _Page()
            page.feed(body.decode())
            for href in page.links:
                u = urlsplit(urljoin("http://x" + path, href))
                if u.netloc == "x" and not u.path.startswith(avoid):
                    queue.append(u.path + (f"?{u.query}" if u.query else ""))
            for f in page.forms:
                f.action = urlsplit(urljoin("http://x" + path, f.action or path)).path
                if f.action.startswith(("/logout", "/login")):
                    continue
                key = (f.method, shape(f.action), tuple(sorted(n for n, *_ in f.fields)))
                forms.setdefault(key, f)
        return list(forms.values())

    def attack(self, forms: Iterable[Form]) -> None:
        """Each form sent with each hostile value in each field (the CSRF token left as it
        is, the others at the page's values, the first submit button pressed)."""
        for f in forms:
            plain = [(n, v) for n, v, kind in f.fields if kind != "submit"]
            plain += [(n, v) for n, v, kind in f.fields if kind == "submit"][:1]
            for target in dict.fromkeys(n for n, _, _ in f.fields if n != "csrf_token"):
                for bad in HOSTILE:
                    values = [(n, bad if n == target else v) for n, v in plain if v is not None]
                    if not any(n == target for n, _ in values):
                        values.append((target, bad))
                    self._send(f, values, f"{target}={bad[:20]!r}")

    def _send(self, f: Form, values: list[tuple[str, str]], what: str) -> None:
        self.sent += 1
        if f.method != "post":
            r = self.client.get(f"{f.action}?{urlencode(values)}")
            r.get_data()
            r.close()
            if r.status_code >= 500:
                self.problems.append(f"GET {f.action} {what}: {r.status_code}")
            return
        before = self.rows()
        data: dict[str, list[str]] = {}
        for n, v in values:
            data.setdefault(n, []).append(v)
        r = self.client.post(
            f.action,
            data=data,
            content_type="multipart/form-data" if f.multipart else None,
        )
        r.get_data()
        r.close()
        if r.status_code >= 500:
            self.problems.append(f"POST {f.action} {what}: {r.status_code}")
        elif r.status_code >= 400 and self.rows() != before:
            self.problems.append(f"POST {f.action} {what}: refused ({r.status_code}) but wrote")

    def press_twice(self, app: Flask, forms: Iterable[Form]) -> None:
        """Each POST form sent twice at the same moment with the page's own values, from the
        same browser (its session cookie): never a 5xx, and a form with a one-time token that
        did its work answers the other press by sending it where the first went (303)."""
        cookie = self.client.get_cookie("session", domain="dakghor.test")
        for f in forms:
            if f.method != "post":
                continue
            values = f.page_values()
            answers = sorted(_twice(app, cookie.value if cookie else None, f, values))
            self.sent += 2
            if answers[1] >= 500:
                self.problems.append(f"POST {f.action} pressed twice: {answers}")
            elif "once" in values and answers[0] < 400 and answers[1] != 303:
                self.problems.append(f"POST {f.action} pressed twice did it twice: {answers}")


def _twice(app: Flask, cookie: str | None, f: Form, values: dict[str, list[str]]) -> list[int]:
    """``values`` posted to the form twice at the same moment; the two answers' statuses."""

    def press() -> int:
        c = app.test_client()
        if cookie is not None:
            c.set_cookie("session", cookie, domain="dakghor.test")
        r = c.post(
            f.action, data=values, content_type="multipart/form-data" if f.multipart else None
        )
        r.get_data()
        r.close()
        return r.status_code

    return at_once(2, press)
