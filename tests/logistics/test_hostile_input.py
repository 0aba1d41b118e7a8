"""Hostile input and hardening (issue 8, items 8, 9, 11): no 5xx and no half-written row for
anything a person or a network can send; 503 when the database is down; login throttling,
security headers, spreadsheet-safe CSV."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from logistics.db import Base
from tests.conftest import DEMO_KEY, booking, login
from tests.logistics.conftest import accept
from tests.logistics.test_payments import parcel

H = {"Authorization": f"Bearer {DEMO_KEY}"}


def _raw_json(c: FlaskClient, path: str, text: str, headers: dict[str, str] | None = None) -> Any:
    return c.post(path, data=text, content_type="application/json", headers=headers or H)


# ---- 8. each defect found, by name ----------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "address", "phone"])
def test_a_nul_byte_in_a_text_field_is_a_422_naming_it(client: FlaskClient, field: str) -> None:
    body = booking()
    body["sender"] = {**body["sender"], field: "Ra\x00him"}  # type: ignore[dict-item]
    r = _raw_json(client, "/api/v1/parcels", json.dumps(body))
    assert r.status_code == 422 and r.get_json()["error"]["field"] == f"sender.{field}"


def test_a_nul_byte_in_the_login_name_is_a_422(client: FlaskClient) -> None:
    r = client.post("/login", data={"username": "admin\x00", "password": "x"})
    assert r.status_code == 422 and "NUL" in r.text


@pytest.mark.parametrize(
    ("path", "field"), [("/pay/%00", "token"), ("/api/v1/payments/%00", "public_id")]
)
def test_a_nul_byte_in_a_path_is_a_422(client: FlaskClient, path: str, field: str) -> None:
    r = client.get(path, headers=H)
    assert r.status_code == 422 and field in r.text


def test_a_lone_surrogate_in_json_is_a_422(client: FlaskClient) -> None:
    text = json.dumps(booking()).replace('"Demo Bazar"', '"Demo \\ud800 Bazar"')
    r = _raw_json(client, "/api/v1/parcels", text)
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "sender.name"


@pytest.mark.parametrize(
    ("query", "field"),
    [("since=0001-01-01", "since"), ("until=9999-12-31", "until"),
     ("cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cursor"), ("cursor=LTU", "cursor")],
)  # fmt: skip
def test_a_day_without_a_day_beside_it_or_a_cursor_past_any_id_is_a_422(
    client: FlaskClient, query: str, field: str
) -> None:
    r = client.get(f"/api/v1/parcels?{query}", headers=H)
    assert r.status_code == 422 and r.get_json()["error"]["field"] == field, r.get_json()


@pytest.mark.parametrize(
    ("user", "password", "path"),
    [("planner", "planner-demo-1", "/dispatch?date=0001-01-01"),
     ("clerk.gpo", "clerk-demo-1", "/office/cashup?date=9999-12-31"),
     ("merchant", "merchant-demo-1", "/merchant?until=9999-12-31"),
     ("merchant", "merchant-demo-1", "/merchant/parcels.csv?since=0001-01-01")],
)  # fmt: skip
def test_a_page_asked_for_a_day_past_the_calendar_says_so(
    client: FlaskClient, user: str, password: str, path: str
) -> None:
    login(client, user, password)
    r = client.get(path)
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text


def test_a_path_id_past_any_row_is_a_404(client: FlaskClient) -> None:
    login(client, "clerk.mohammadpur", "clerk-demo-1")
    assert client.get("/office/rounds/99999999999999999999").status_code == 404


@pytest.mark.parametrize("amount", ["²", "99999999999999999999"])
def test_a_cash_up_amount_that_is_no_number_names_its_row(
    client: FlaskClient, db: Session, amount: str
) -> None:
    accept(db, "clerk.gpo", "1207")  # paid in cash: the clerk has cash to hand in
    db.commit()
    login(client, "clerk.gpo", "clerk-demo-1")
    page = client.get("/office/cashup").text
    field = re.search(r'name="(handed_in_[0-9]+)"', page)
    assert field is not None, "the cash-up lists the counter's clerks"
    r = client.post("/office/cashup", data={field.group(1): amount})
    assert r.status_code == 422 and "handed in" in r.text


@pytest.mark.parametrize("path", ["/api/v1/parcels", "/api/v1/quote", "/api/v1/payments"])
def test_fifty_thousand_nested_brackets_are_a_4xx(client: FlaskClient, path: str) -> None:
    r = _raw_json(client, path, "[" * 50_000)
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "body"
    r = _raw_json(client, path, "[" * 40 + "]" * 40)  # valid JSON, deeper than any request needs
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "body"


@pytest.mark.parametrize("purpose", ["bogus", "", "FEE"])
def test_the_counters_payment_link_form_refuses_a_bad_purpose(
    client: FlaskClient, db: Session, purpose: str
) -> None:
    p = parcel(db)
    login(client, "clerk.gpo", "clerk-demo-1")
    r = client.post(f"/counter/parcels/{p.tracking_id}/payment-link", data={"purpose": purpose})
    assert r.status_code == 422 and "Choose what the link is for" in r.text


@pytest.mark.parametrize(
    ("day", "text", "field"),
    [
        ("22-11-2026", "x", "day"),
        ("2026-13-45", "x", "day"),
        (
            "2026-11-22",
            "operator_reference,client_reference,msisdn,type,amount_poisha,status,"
            "timestamp_utc\nR1,k,8801711000000,charge",
            "file",
        ),
        (
            "2026-11-22",
            "operator_reference,client_reference,msisdn,type,amount_poisha,status,"
            "timestamp_utc\nR1,k,8801711000000,charge,²,succeeded,2026-11-22T10:00:00Z",
            "file",
        ),
    ],
)
def test_reconciliation_refuses_bad_days_and_rows(
    app: Flask, day: str, text: str, field: str
) -> None:
    import io

    app.config["DEMO"] = True  # where a bad day once reached the simulator's URL
    c = app.test_client()
    login(c, "admin", "admin-demo-1")
    data = {"operator": "robi", "day": day}
    if field == "file":
        data["file"] = (io.BytesIO(text.encode()), "settlement.csv")  # type: ignore[assignment]
    r = c.post("/admin/reconciliation", data=data, content_type="multipart/form-data")
    assert r.status_code == 422 and (f'name="{field}"' in r.text or field in r.text)


# ---- 9. the database down -------------------------------------------------------------------


def test_database_down_answers_503_in_both_languages(tmp_path: Any) -> None:
    from app import create_app

    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2",
            "SECRET_KEY": "x",
            "WTF_CSRF_ENABLED": False,
        }
    )
    c = app.test_client()
    assert c.get("/track/CP123456785BD").status_code == 503
    assert c.get("/login").status_code == 200  # needs no database
    with c.session_transaction() as sess:  # a clerk who was logged in before it went down
        sess["_user_id"] = "1:0123456789abcdef"  # its id and its password's mark
        sess["_fresh"] = True
    r = c.get("/counter")
    assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
    assert "সাময়িকভাবে বন্ধ" in r.text and 'lang="bn"' in r.text  # Bangla by default
    r = c.get("/counter", headers={"Accept-Language": "en"})
    assert r.status_code == 503 and "briefly unavailable" in r.text and 'lang="en"' in r.text
    api = c.get("/api/v1/parcels/CP123456785BD", headers=H)
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "service_unavailable"
    app.extensions["dakghor.engine"].dispose()


# ---- 11. hardening --------------------------------------------------------------------------


def test_login_is_throttled_after_wrong_passwords(client: FlaskClient) -> None:
    for _ in range(5):
        assert (
            client.post("/login", data={"username": "admin", "password": "no"}).status_code == 401
        )
    r = client.post("/login", data={"username": "admin", "password": "admin-demo-1"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # Another user is not held up by it.
    ok = client.post("/login", data={"username": "clerk.gpo", "password": "clerk-demo-1"})
    assert ok.status_code == 302


def test_every_answer_carries_the_security_headers(client: FlaskClient) -> None:
    for r in (client.get("/"), client.get("/api/v1/offices"), client.get("/nope")):
        assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in r.headers


def test_the_api_neither_reads_nor_writes_the_cookie_session(
    app: Flask, client: FlaskClient
) -> None:
    """The API is authenticated by its key: a logged-in browser calling it has its session
    neither opened nor written back, and its login on the pages is untouched."""
    from flask import request
    from flask.sessions import NullSession

    assert client.post("/login", data={"username": "clerk.gpo", "password": "clerk-demo-1"})
    cookie = client.get_cookie("session", domain=app.config["SERVER_NAME"])
    assert cookie is not None
    for path, opened in (("/api/v1/offices", False), ("/counter", True)):
        with app.test_request_context(path, headers={"Cookie": f"session={cookie.value}"}):
            session = app.session_interface.open_session(app, request)
            assert isinstance(session, NullSession) is not opened
            assert ("_user_id" in session) is opened
    answer = client.get("/api/v1/offices")
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert client.get("/counter").status_code == 200  # still logged in


def test_https_deployments_get_hsts_and_secure_cookies(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import create_app

    monkeypatch.setenv("DAKGHOR_HTTPS", "1")
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})
    r = app.test_client().get("/")
    assert "max-age=" in r.headers["Strict-Transport-Security"]
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    app.extensions["dakghor.engine"].dispose()


def test_the_reconciliation_csv_escapes_formulas() -> None:
    from logistics.services.reconciliation import Line, to_csv

    out = to_csv([Line("matched", "charge", '=HYPERLINK("x")', "+880", 1, 1, "@x", "-1")])
    row = out.splitlines()[1]
    assert "'=HYPERLINK" in row and ",'+880," in row and ",'@x," in row and row.endswith(",'-1")


# ---- the fuzz: every JSON endpoint and form, hostile values ---------------------------------

MEGABYTE = "@@megabyte@@"
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "\udfff x", "²", "١٢٣", "' OR 1=1 --", "=1+1"]),
    st.just(MEGABYTE),  # swapped for a 1 MB string when the body is written
)
HOSTILE = st.recursive(
    st.one_of(
        HOSTILE_TEXT,
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        st.booleans(),
        st.none(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(HOSTILE_TEXT, inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "origin_office", "weight_g", "cod_amount_poisha", "declared_value_poisha", "dimensions_mm",
    "sender", "recipient", "payment_method", "merchant_reference", "tracking_id", "msisdn",
    "purpose", "otp", "amount_poisha", "reason",
]  # fmt: skip


def _rows(db: Session, skip: tuple[str, ...] = ()) -> dict[str, int]:
    db.expire_all()
    return {
        t.name: int(db.scalar(select(func.count()).select_from(t)) or 0)
        for t in Base.metadata.sorted_tables
        if t.name not in skip
    }


def _body(draw_obj: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {**base, **draw_obj}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    endpoint=st.sampled_from(
        ["/api/v1/quote", "/api/v1/parcels", "/api/v1/payments", "confirm", "refund", "cancel"]
    ),
    fields=st.dictionaries(st.sampled_from(FIELDS), HOSTILE, max_size=4),
    whole=st.one_of(st.none(), HOSTILE),
)
def test_fuzz_json_endpoints_never_5xx_nor_half_write(
    pay_app: Flask, db: Session, endpoint: str, fields: dict[str, Any], whole: Any
) -> None:
    c = pay_app.test_client()
    key = "fuzz-clerk-key"
    from logistics.models import ApiKey

    if db.scalar(select(ApiKey).where(ApiKey.label == "fuzz")) is None:
        from logistics.models import User
        from logistics.services import accounts

        clerk = db.scalar(select(User).where(User.username == "clerk.gpo"))
        accounts.issue_api_key(db, clerk, by=None, label="fuzz", key=key)  # type: ignore[arg-type]
        db.commit()
    headers = {"Authorization": f"Bearer {key}"}
    paths = {
        "confirm": "/api/v1/payments/" + "a" * 32 + "/confirm",
        "refund": "/api/v1/payments/" + "a" * 32 + "/refund",
        "cancel": "/api/v1/payments/" + "a" * 32 + "/cancel",
    }
    body = whole if whole is not None else _body(fields, booking())
    before = _rows(db)
    text = json.dumps(body).replace(MEGABYTE, "x" * 1_000_000)
    r = _raw_json(c, paths.get(endpoint, endpoint), text, headers)
    assert r.status_code < 500, (endpoint, r.status_code, r.get_data()[:300])
    if r.status_code >= 400:
        assert _rows(db) == before, "a refused request wrote something"


FORMS = {
    "/login": ["username", "password"],
    "/counter": ["sender.name", "sender.phone", "recipient.address", "recipient.post_code",
                 "weight_g", "cod_taka", "declared_taka", "length_mm", "payment_method", "action",
                 "quoted"],
    "payment-link": ["purpose"],
    "accept": ["weight_g", "action", "quoted_fee_poisha"],
    "/pay/token": ["msisdn"],
    "/admin/reconciliation": ["operator", "day", "format"],
}  # fmt: skip
FORM_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
    st.sampled_from(["\x00", "x\x00", "²", "-1", "1e9", "99999999999999999999", "confirm"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(form=st.sampled_from(sorted(FORMS)), data=st.data())
def test_fuzz_forms_never_5xx_nor_half_write(
    pay_app: Flask, db: Session, form: str, data: st.DataObject
) -> None:
    c = pay_app.test_client()
    if form != "/login":
        login(c, "admin" if form.startswith("/admin") else "clerk.gpo",
              "admin-demo-1" if form.startswith("/admin") else "clerk-demo-1")  # fmt: skip
    values = {f: data.draw(FORM_TEXT, label=f) for f in FORMS[form]}
    p = parcel(db, cod=1000)
    from logistics.services import payments

    link = payments.create_link(
        db,
        p,
        __import__("logistics.models").models.Purpose.COD,
        pay_app.extensions["dakghor.payments"](),
    )
    db.commit()
    path = {
        "payment-link": f"/counter/parcels/{p.tracking_id}/payment-link",
        "accept": f"/counter/accept/{p.tracking_id}",
        "/pay/token": f"/pay/{link.token}",
    }.get(form, form)
    before = _rows(db, skip=("login_attempts", "msisdn_locks"))
    r = c.post(path, data=values)
    assert r.status_code < 500, (form, values, r.status_code)
    if r.status_code >= 400:
        assert _rows(db, skip=("login_attempts", "msisdn_locks")) == before


def test_a_surrogate_in_a_json_key_is_named_safely(client: FlaskClient) -> None:
    """Found by the fuzz: the field's own name held the surrogate and broke the error answer."""
    text = json.dumps({**booking(), "origin_office": {"\ud800": "x"}})
    r = _raw_json(client, "/api/v1/quote", text)
    assert r.status_code == 422 and "\ufffd" in r.get_json()["error"]["field"]
