"""Bangla first: catalogs complete, no literal text in templates, the language chosen by the
switch, the browser or the default, Bangla digits and grouping, and API errors in the caller's
language with a stable code."""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import support
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from logistics import findings, i18n
from routing.violations import VIOLATIONS
from tests.conftest import DEMO_KEY, booking, login
from tests.language import foreign_words
from tests.logistics.test_counter import FORM

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "logistics" / "translations" / "bn" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_ngettext": (1, 2)}


def _extracted() -> set[str | tuple[str, ...]]:
    """Every string the code and templates send through the catalogs, found as pybabel finds
    them (babel.cfg)."""
    method_map = [
        ("app.py", "python"),
        ("logistics/**.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS
    ):
        found.add(message)
    return found


def test_the_bangla_catalog_has_every_string_with_the_same_placeholders() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="bn")
    entries = {m.id: m for m in catalog if m.id}
    missing = [m for m in _extracted() if m not in entries]
    assert not missing, f"not in the Bangla catalog (run make translations): {missing}"
    for m in entries.values():
        assert m.string and all(m.string if isinstance(m.string, tuple) else [m.string]), m.id
        assert not m.fuzzy, f"fuzzy translation: {m.id}"
        python_format(catalog, m)  # raises when the placeholders differ


class _Literals(HTMLParser):
    """Text and human attributes of a template once its Jinja is taken out."""

    HUMAN_ATTRS = ("placeholder", "title", "alt", "aria-label")

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _skipped(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        skip = tag in ("style", "script", "code") or "lang" in a  # code: paths, keys
        if tag not in ("input", "meta", "link", "br", "img"):
            self.stack.append((tag, skip))
        if not (skip or self._skipped()):
            for name in self.HUMAN_ATTRS:
                if a.get(name):
                    self.found.append(str(a[name]))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._skipped():
            # attributes a macro writes between its tags (aria-invalid="true") are not text
            self.found.append(re.sub(r'[\w-]+="[^"]*"', " ", data))


def _literal_words(template: Path) -> list[str]:
    src = template.read_text()
    src = re.sub(r"\{#.*?#\}", " ", src, flags=re.S)
    src = re.sub(r"\{%.*?%\}", " ", src, flags=re.S)
    src = re.sub(r"\{\{.*?\}\}", " ", src, flags=re.S)
    parser = _Literals()
    parser.feed(src)
    words = []
    for chunk in parser.found:
        for token in chunk.split():
            w = token.strip(".,;:!?()[]{}<>\"'“”/·–—|…←→")
            if re.search(r"[^\W\d_]", w) and not re.fullmatch(r"[A-Z0-9X×]+", w):
                words.append(w)  # ids and formats pass: CP123456785BD, A4, 01712345678
    return words


@pytest.mark.parametrize("template", sorted((ROOT / "templates").rglob("*.html")), ids=str)
def test_templates_hold_no_literal_text_outside_the_catalogs(template: Path) -> None:
    assert _literal_words(template) == [], "wrap it in {{ _('...') }} and run make translations"


def test_the_literal_text_check_catches_a_literal(tmp_path: Path) -> None:
    t = tmp_path / "t.html"
    t.write_text('<p>{{ _("Fine") }} Forgot this</p><input placeholder="এখানে লিখুন">')
    assert _literal_words(t) == ["Forgot", "this", "এখানে", "লিখুন"]


def test_a_missing_or_stale_catalog_is_built_before_the_app_speaks(tmp_path: Path) -> None:
    """Found serving a clone with ``dakghor`` alone (no ``make``): without the .mo, every page
    and every recipient's message spoke English, a Bangla office name inside an English text."""
    folder = tmp_path / "translations"
    shutil.copytree(PO.parents[2], folder, ignore=shutil.ignore_patterns("*.mo"))
    po = folder / "bn" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert i18n.compile_catalogs(str(folder)) == ["bn"]
    assert support.Translations.load(str(folder), ["bn"]).gettext("Delivered") == "বিলি সম্পন্ন"
    assert i18n.compile_catalogs(str(folder)) == []  # up to date: left alone
    later = mo.stat().st_mtime + 10
    os.utime(po, (later, later))  # the .po edited since
    assert i18n.compile_catalogs(str(folder)) == ["bn"]
    mo.unlink()
    mo.mkdir()  # cannot be written (as in a read-only install)
    os.utime(mo, (0, 0))
    with pytest.raises(OSError, match="make catalogs"):
        i18n.compile_catalogs(str(folder))
    assert not list(po.parent.glob("*.part"))


def test_bangla_is_the_default_and_english_comes_by_browser_or_switch(
    bn_client: FlaskClient,
) -> None:
    page = bn_client.get("/track")
    assert 'lang="bn"' in page.text and "পার্সেল ট্র্যাক করুন" in page.text
    assert "Accept-Language" in page.headers["Vary"]
    en = bn_client.get("/track", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in en.text and "Track a parcel" in en.text
    switch = bn_client.get("/lang/en?next=/track")
    assert switch.status_code == 302 and switch.headers["Location"].endswith("/track")
    assert "dakghor_lang=en" in switch.headers["Set-Cookie"]
    assert 'lang="en"' in bn_client.get("/track").text  # remembered over the browser's choice
    back = bn_client.get("/lang/bn?next=//evil.example/x")
    assert back.status_code == 302 and "evil" not in back.headers["Location"]
    assert 'lang="bn"' in bn_client.get("/track", headers={"Accept-Language": "en"}).text
    assert bn_client.get("/lang/fr").status_code == 404


def test_money_numbers_and_times_are_written_in_the_pages_language(app: Flask) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 6, 5, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "bn"}):
        assert i18n.money(101475) == "৳১,০১৪.৭৫"
        assert i18n.money(-5) == "-৳০.০৫"
        assert i18n.number(10147500) == "১,০১,৪৭,৫০০"  # lakh grouping
        assert i18n.when(at) == "২৩ নভে ২০২৬, ১২:০৫"  # Asia/Dhaka is UTC+6
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.money(101475) == "Tk 1,014.75"
        assert i18n.number(10147500) == "10,147,500"
        assert i18n.when(at) == "23 Nov 2026, 12:05"


@pytest.mark.parametrize("lang", ["bn", "en"])
def test_api_errors_come_in_the_callers_language_with_a_stable_code(
    client: FlaskClient, lang: str
) -> None:
    h = {"Authorization": f"Bearer {DEMO_KEY}", "Accept-Language": lang}
    bad = booking(weight_g=0, recipient={"name": "", "phone": "12", "address": "x"})
    r = client.post("/api/v1/parcels", json=bad, headers=h)
    err = r.get_json()["error"]
    assert r.status_code == 422 and err["code"] == "validation_error"
    fields = {e["field"] for e in err["errors"]}
    assert {"weight_g", "recipient.name", "recipient.phone", "recipient.post_code"} <= fields
    for text in [err["message"], *(e["message"] for e in err["errors"])]:
        assert foreign_words(text, lang) == [], text
    for path, code in (("/api/v1/parcels/CP123456785BD", "not_found"), ("/api/v1/nope", None)):
        r = client.get(path, headers=h)
        body = r.get_json()["error"]
        assert r.status_code == 404 and (code is None or body["code"] == code)
        assert foreign_words(body["message"], lang) == [], body["message"]
    r = client.get("/api/v1/parcels/CP123456785BD", headers={"Accept-Language": lang})
    assert r.status_code == 401 and foreign_words(r.get_json()["error"]["message"], lang) == []


def test_a_status_never_reaches_a_person_raw(bn_client: FlaskClient) -> None:
    login(bn_client, "clerk.gpo", "clerk-demo-1")
    form = {**FORM, "payment_method": "airtime"}
    page = bn_client.post("/counter", data={**form, "action": "quote"})
    shown = re.search(r'name="quoted" value="([^"]+)"', page.text)
    assert shown
    done = bn_client.post("/counter", data={**form, "action": "confirm", "quoted": shown.group(1)})
    parcel_page = bn_client.get(done.headers["Location"]).text
    for raw in (">accepted<", "airtime, pending", ">pending<", "(airtime", ">fee<"):
        assert raw not in parcel_page
    assert "এয়ারটাইম, এখনও পরিশোধ হয়নি" in parcel_page


def test_every_finding_of_the_routing_check_has_words_in_both_languages(app: Flask) -> None:
    """A plan version's findings reach the planner in words, never as the core's codes: each
    code the core can give (routing.violations) has a sentence, said with every value it may
    name, in Bangla and in English."""
    values = {"vehicle": "DHA-11", "job": "GPO>MOH#0", "kind": "delivery", "dimension": "grams"}
    values |= {"at_s": 3600, "limit_s": 7200, "value_s": 9000, "value": 7, "limit": 5, "count": 2}
    for lang in i18n.LANGUAGES:
        with app.test_request_context(headers={"Accept-Language": lang}):
            for code in VIOLATIONS:
                said = findings.say(json.dumps({"code": code, **values, "text": "English"}))
                assert len(said) == 1 and said[0].ours, (lang, code)
                assert code not in said[0].words and "%(" not in said[0].words, (lang, code)
    assert set(findings._WORDS) == set(VIOLATIONS)
