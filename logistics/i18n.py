"""Languages: Bangla first, English the other; the gettext catalogs, the language each request
speaks, and numbers, money and times written the way that language writes them."""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import support
from babel.dates import format_date, format_datetime, get_day_names
from babel.numbers import format_decimal
from flask import Flask, Response, has_app_context, has_request_context, request
from flask_babel import (
    Babel,
    LazyString,
    force_locale,
    get_locale,
    gettext,
    lazy_gettext,
    lazy_ngettext,
    ngettext,
)

from logistics.text import DHAKA, bangla_digits

LANGUAGES = ("bn", "en")
# Each language's own name, written in that language for the switch (not translated).
AUTONYMS = {"bn": "বাংলা", "en": "English"}
DEFAULT = "bn"
COOKIE = "dakghor_lang"
VARY_ON = ("Accept-Language", "Cookie")  # what an answer's language depends on
VARY = ", ".join(VARY_ON)
CATALOGS = os.path.join(os.path.dirname(__file__), "translations")

_ = gettext
_l = lazy_gettext
__all__ = ["_", "_l", "gettext", "lazy_ngettext", "ngettext", "init_app", "current"]


def select_locale() -> str:
    """The switch in the header (a cookie), else the browser's Accept-Language, else Bangla.
    Outside a request (the CLI, jobs) the terminal's LANG decides; jobs that write to a person
    choose that person's language with ``force_locale``."""
    if not has_request_context():
        return "bn" if os.environ.get("LANG", "").startswith("bn") else "en"
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


@lru_cache(maxsize=4)
def _catalog(lang: str) -> support.NullTranslations:
    return support.Translations.load(CATALOGS, [lang])


def in_language(lang: str, text: Any) -> str:
    """A catalog message in ``lang`` whatever the caller's language (the API returns both
    languages of a status, say). Outside an app (a service called on its own) the catalog is
    read directly."""
    if has_app_context():
        with force_locale(lang):
            return str(text)
    if isinstance(text, LazyString) and text._func is gettext:  # noqa: SLF001
        msgid, params = text._args[0], text._kwargs  # noqa: SLF001
        translated = _catalog(lang).gettext(msgid)
        # A lazy text inside (a status label, a reason) is written in the same language.
        params = {
            k: in_language(lang, v) if isinstance(v, LazyString) else v for k, v in params.items()
        }
        return translated % params if params else translated
    return str(text)


def current() -> str:
    loc = get_locale()
    return loc.language if loc is not None else "en"


def is_bn() -> bool:
    return current() == "bn"


def digits(s: str) -> str:
    """ASCII digits as the current language writes them (Bangla digits in Bangla)."""
    return bangla_digits(s) if is_bn() else s


def number(n: int | Decimal) -> str:
    """12345 -> '১২,৩৪৫' in Bangla (Bangladeshi grouping: ১,০১,৪৭৫), '12,345' in English."""
    return digits(format_decimal(n, locale=current()))


def money(poisha: int) -> str:
    """101475 poisha -> '৳১,০১৪.৭৫' in Bangla, 'Tk 1,014.75' in English; integer arithmetic."""
    sign = "-" if poisha < 0 else ""
    amount = Decimal(abs(poisha)).scaleb(-2)
    if is_bn():
        text = format_decimal(amount, format="#,##,##0.00", locale="bn")
        return sign + "৳" + bangla_digits(text)
    return sign + "Tk " + format_decimal(amount, format="#,##0.00", locale="en")


def when(dt: datetime, fmt: str = "d MMM yyyy, HH:mm") -> str:
    """An aware datetime as Dhaka's wall clock in the current language (Gregorian calendar)."""
    return digits(format_datetime(dt, fmt, tzinfo=DHAKA, locale=current()))


def hm(dt: datetime) -> str:
    return when(dt, "HH:mm")


def hour(h: int) -> str:
    """A whole hour of the day, 9 -> '09:00' (০৯:০০ in Bangla)."""
    return digits(f"{int(h):02d}:00")


def weekdays(open_days: str) -> str:
    """An office's open days ('Sun Mon Tue Wed Thu') in the current language's short names."""
    names = get_day_names("abbreviated", locale=current())
    order = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return ", ".join(names[order.index(d)] for d in open_days.split() if d in order)


def day(d: date) -> str:
    """A calendar day with its weekday, in the current language: 'Sunday, 6 December'."""
    return digits(format_date(d, "EEEE, d MMMM", locale=current()))


class Num:
    """A number put into a lazily translated message: written in the language that reads it."""

    def __init__(self, n: int | Decimal) -> None:
        self.n = n

    def __str__(self) -> str:
        return number(self.n)


class Money(Num):
    def __init__(self, poisha: int) -> None:
        super().__init__(poisha)

    def __str__(self) -> str:
        return money(int(self.n))


class Clock:
    """A time of day in Dhaka put into a lazily translated message."""

    def __init__(self, dt: datetime) -> None:
        self.dt = dt

    def __str__(self) -> str:
        return hm(self.dt)


def compile_catalogs(folder: str = CATALOGS) -> list[str]:
    """Each language's .mo built from its .po where it is missing or older (the .po files are
    kept in git, the .mo files are built): without it the app, its pages and its messages
    would speak English to everyone, saying nothing. A clone served or run from the command
    line without ``make`` (``make run`` and ``make test`` build them first) builds them here,
    each written whole and renamed into place, so processes starting together never read
    half of one. The languages built; an OSError (a read-only install) says what to run."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    built = []
    for lang in sorted(os.listdir(folder)):
        po = os.path.join(folder, lang, "LC_MESSAGES", "messages.po")
        mo = po[:-3] + ".mo"
        if not os.path.exists(po):
            continue
        if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        with open(po, "rb") as f:
            catalog = read_po(f)
        part = f"{mo}.{os.getpid()}.part"
        try:
            with open(part, "wb") as f:
                write_mo(f, catalog)
            os.replace(part, mo)
        except OSError as e:
            if os.path.exists(part):
                os.remove(part)
            raise OSError(
                f"the {lang} catalog {mo} is missing or older than its .po and cannot be "
                f"written here ({e.strerror}): run `make catalogs` where it can"
            ) from e
        built.append(lang)
    if built:
        _catalog.cache_clear()
    return built


def init_app(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Dhaka")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", CATALOGS)
    Babel(app, locale_selector=select_locale)
    from logistics import vocabulary

    app.jinja_env.filters.update(
        num=number,
        money=money,
        when=when,
        hm=hm,
        hour=hour,
        day=day,
        weekdays=weekdays,
        digits=digits,
        label=vocabulary.label,
        name=vocabulary.name,
        reason=vocabulary.reason,
        event=vocabulary.event,
    )

    @app.after_request
    def _vary(resp: Response) -> Response:
        # The same address answers in either language (set directly where nothing varies yet:
        # the header set's parse and write-back cost an API call 20 µs).
        if "Vary" not in resp.headers:
            resp.headers["Vary"] = VARY
        else:
            resp.vary.update(VARY_ON)
        return resp

    @app.context_processor
    def _language() -> dict[str, Any]:
        other = "en" if is_bn() else "bn"
        return {"lang": current(), "other_lang": other, "other_name": AUTONYMS[other]}
