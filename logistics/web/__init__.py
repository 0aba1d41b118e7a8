"""The web layer: one database session per request, role checks and template helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter, Map

from logistics import findings, i18n
from logistics.documents import labels
from logistics.errors import Forbidden, ValidationError
from logistics.i18n import _l
from logistics.models import Parcel, Role
from logistics.services import documents, notify, sms_text
from logistics.text import DHAKA, MAX_INT, national_mobile, parse_day
from logistics.vocabulary import (
    LABELS,
    hook_error,
    hook_state,
    job_name,
    left_over,
    plan_error,
    plan_error_is_ours,
    precision,
    sms_reason,
)

F = TypeVar("F", bound=Callable[..., Any])


def get_db() -> Session:
    """The request's session; views commit, services only flush."""
    if "db" not in g:
        g.db = current_app.extensions["dakghor.sessionmaker"]()
    return cast(Session, g.db)


def merchant_id_of_page() -> int:
    """The merchant whose portal this is (a merchant login), or Forbidden."""
    from flask_login import current_user

    if current_user.merchant_id is None:
        raise Forbidden(_l("This page is for merchant logins."))
    return int(current_user.merchant_id)


class RowId(IntegerConverter):
    """``<int:…>`` in every route: at most the database's INTEGER, so that a path such as
    ``/office/rounds/99999999999999999999`` is a 404, not a query the database refuses."""

    def __init__(
        self,
        map: Map,  # noqa: A002 (werkzeug's name)
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = MAX_INT,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def requested_day() -> date:
    """The service day a page is asked for (``?date=YYYY-MM-DD``), today in Dhaka if none."""
    raw = request.values.get("date", "")
    if not raw:
        return datetime.now(DHAKA).date()
    try:
        return parse_day(raw)
    except ValueError:
        raise ValidationError({"date": _l("Give the date as YYYY-MM-DD.")}) from None


def local_path(target: str, default: str) -> str:
    """``target`` where it is a path on this site, else ``default``: a redirect that a link
    chose never leads off the site. Browsers read a backslash as a slash and drop tabs and
    newlines, so "/\\evil.example" and "/\t/evil.example" leave it as "//evil.example" does."""
    off_site = (
        not target.startswith("/")  # a scheme or a host ("https://…", "evil.example")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)
    )
    return default if off_site else target


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()  # an uncommitted transaction is rolled back: nothing half-written


def require_role(*roles: Role) -> Callable[[F], F]:
    """Logged-in users of ``roles`` only (admins always pass)."""

    def deco(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in roles and current_user.role is not Role.ADMIN:
                raise Forbidden(
                    _l(
                        "This page is for: %(roles)s.",
                        roles=", ".join(str(LABELS[r]) for r in roles),
                    )
                )
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return deco


def area_label(code: str | None) -> str:
    """An area code as people read it, in the page's language ('' for none)."""
    from logistics.services import areas

    found = areas.get(code)
    return found.label() if found else ""


def register_template_helpers(app: Flask) -> None:
    from logistics.web import once
    from logistics.web.homes import nav_links

    app.jinja_env.globals["once_token"] = once.token  # a form pressed twice does its work once

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav_links": nav_links(current_user) if current_user.is_authenticated else []}

    # Money, numbers and times have language-aware filters (logistics.i18n); a phone number
    # is written the same in both languages.
    app.jinja_env.filters["mobile"] = national_mobile
    app.jinja_env.filters["left_over"] = left_over
    app.jinja_env.filters["area"] = area_label
    app.jinja_env.filters["hook_state"] = hook_state
    app.jinja_env.filters["hook_error"] = hook_error
    app.jinja_env.filters["plan_error"] = plan_error
    app.jinja_env.filters["plan_error_is_ours"] = plan_error_is_ours
    app.jinja_env.filters["findings"] = findings.say
    app.jinja_env.filters["job_name"] = job_name
    app.jinja_env.filters["sms_reason"] = sms_reason
    app.jinja_env.filters["precision"] = precision
    app.jinja_env.filters["sms_event"] = lambda e: str(sms_text.EVENT_NAMES.get(e, e))
    # A receipt number read aloud (DK-0000-0123), written in the page's digits.
    app.jinja_env.filters["receipt_no"] = lambda attempt_id: i18n.digits(
        notify.receipt_number(attempt_id)
    )


def label_response(parcels: Parcel | list[Parcel], layout: str | None = None) -> Response:
    """The label PDF of one or more parcels; ``layout`` (else ``?layout=``) ``a4`` puts four
    on a sheet."""
    batch = parcels if isinstance(parcels, list) else [parcels]
    layout = layout or request.args.get("layout", "thermal")
    if layout not in ("thermal", "a4"):
        raise ValidationError({"layout": _l("layout must be 'thermal' or 'a4'.")})
    pdf = labels.render([documents.label_for(p) for p in batch], layout)
    name = batch[0].tracking_id if len(batch) == 1 else f"labels-{len(batch)}"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'self'; frame-ancestors 'self'; base-uri 'self'"
)


def content_security_policy(tiles: str) -> str:
    """The policy, with the map tiles' origin allowed as an image source."""
    parts = urlsplit(tiles)
    if parts.scheme in ("http", "https") and parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}".replace("{s}", "*")
        return CSP.replace("img-src 'self' data:;", f"img-src 'self' data: {origin};")
    return CSP


def security_header_list(app: Flask) -> list[tuple[str, str, str]]:
    """The security headers every answer carries, as (name, its lower case, value): a content
    security policy, no framing by other sites, no MIME sniffing, no payment-link tokens
    leaking in the Referer; HSTS when served over HTTPS. Made once per app."""
    wanted: list[tuple[str, str, str]] | None = app.extensions.get("dakghor.security_headers")
    if wanted is None:
        pairs = [
            ("Content-Security-Policy", app.config.get("CSP", CSP)),
            ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
        ]
        if app.config.get("HTTPS"):
            pairs.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        wanted = app.extensions["dakghor.security_headers"] = [
            (name, name.lower(), value) for name, value in pairs
        ]
    return wanted


def security_headers(resp: Response) -> Response:
    """Every answer gets ``security_header_list``; a header the view set itself stays as it
    is. (The names present are read once: four ``setdefault`` calls scanned the header list
    four times, 13 µs against 5.)"""
    wanted = security_header_list(current_app._get_current_object())  # type: ignore[attr-defined]
    headers = resp.headers
    present = {k.lower() for k in headers.keys()}  # noqa: SIM118 (iterating gives pairs)
    for name, lower, value in wanted:
        if lower not in present:
            headers.add(name, value)
    return resp


class PagesSession(SecureCookieSessionInterface):
    """The signed-cookie session, for the pages only: the API is authenticated by its key and
    never reads a session, so its requests neither verify one nor write one back (50 µs of a
    public tracking call's 590, in process)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return self.null_session_class()
        return super().open_session(app, request)
