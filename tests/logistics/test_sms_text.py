"""The customer SMS: one message per event in Bangla and English, each within its segment
budget with the longest values its placeholders take, names cut to fit, the admin sees the
counts."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from logistics.i18n import _l
from logistics.services import sms_text
from logistics.services.sms_text import TEMPLATES, Template, measure, over_budget, render
from tests.conftest import login


def test_every_message_is_within_its_budget_in_both_languages(app: Flask) -> None:
    with app.app_context():
        measured = measure()
        assert {(m.event, m.lang) for m in measured} == {
            (e, lang) for e in TEMPLATES for lang in ("bn", "en")
        }
        assert over_budget() == []
        assert {m.segments.encoding for m in measured if m.lang == "bn"} == {"ucs2"}
        assert {m.segments.encoding for m in measured if m.lang == "en"} == {"gsm7"}


def test_a_message_over_its_budget_is_caught(app: Flask) -> None:
    long = {
        "chatty": Template(
            lambda **v: _l(
                "Parcel %(id)s was delivered. Thank you for using the post office.", **v
            ),
            {"bn": 0, "en": 1},
        )
    }
    with app.app_context():
        (bad,) = over_budget(long)
        assert (bad.event, bad.lang, bad.budget) == ("chatty", "bn", 0) and not bad.within


def test_messages_speak_the_recipients_language_and_cut_long_names(app: Flask) -> None:
    with app.app_context():
        bn = render("dispatched", "bn", id="CP123456785BD", office="মোহাম্মদপুর")
        en = render("dispatched", "en", id="CP123456785BD", office="Mohammadpur")
        assert bn == "পার্সেল CP123456785BD মোহাম্মদপুর ডাকঘরের পথে।"
        assert en == "Parcel CP123456785BD is on its way to Mohammadpur post office."
        long = render("dispatched", "en", id="CP123456785BD", office="X" * 60)
        assert "X" * sms_text.NAME_MAX + " post office" in long and "X" * 25 not in long


def test_the_admin_sees_each_message_with_its_segments(client: FlaskClient) -> None:
    login(client, "admin", "admin-demo-1")
    page = client.get("/admin/sms").text
    assert 'id="sms"' in page and page.count('class="sms-row"') == 2 * len(TEMPLATES)
    assert "UCS-2" in page and "GSM-7" in page
