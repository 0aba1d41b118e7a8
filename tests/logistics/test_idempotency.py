"""A shop that retries never books twice: an Idempotency-Key answers the first answer (another
request under it is a 409), a merchant's order id books one parcel, and both hold when the
retries race (real threads, each with its own connection; PostgreSQL in CI)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from logistics.db import make_sessionmaker
from logistics.errors import Conflict
from logistics.models import IdempotencyKey, Parcel, User
from logistics.services import idempotency, intake
from tests.conftest import booking


def _count(db: Session, ref: str) -> int:
    return int(
        db.scalar(select(func.count()).select_from(Parcel).where(Parcel.merchant_reference == ref))
        or 0
    )


def test_the_same_key_answers_the_first_answer_and_another_body_is_refused(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    headers = {**merchant_headers, "Idempotency-Key": "order-7001-try"}
    body = booking(merchant_reference="ORDER-7001")
    first = client.post("/api/v1/parcels", json=body, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/parcels", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["tracking_id"] == first.get_json()["tracking_id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert _count(db, "ORDER-7001") == 1
    other = client.post(
        "/api/v1/parcels", json=booking(merchant_reference="ORDER-7002"), headers=headers
    )
    assert other.status_code == 409 and other.get_json()["error"]["field"] == "Idempotency-Key"
    bad = client.post(
        "/api/v1/parcels", json=body, headers={**merchant_headers, "Idempotency-Key": "a b"}
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "Idempotency-Key"


def test_a_failed_request_gives_its_key_back(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    headers = {**merchant_headers, "Idempotency-Key": "k-fix-and-retry"}
    wrong = client.post("/api/v1/parcels", json=booking(weight_g=0), headers=headers)
    assert wrong.status_code == 422
    assert db.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-fix-and-retry")) is None
    fixed = client.post("/api/v1/parcels", json=booking(), headers=headers)
    assert fixed.status_code == 201


def test_an_order_id_books_one_parcel_and_the_retry_learns_its_tracking_id(
    client: FlaskClient, merchant_headers: dict[str, str], db: Session
) -> None:
    body = booking(merchant_reference="ORDER-8001")
    first = client.post("/api/v1/parcels", json=body, headers=merchant_headers)
    assert first.status_code == 201
    again = client.post("/api/v1/parcels", json=body, headers=merchant_headers)
    assert again.status_code == 409
    err = again.get_json()["error"]
    assert (
        err["field"] == "merchant_reference" and first.get_json()["tracking_id"] in err["message"]
    )
    assert _count(db, "ORDER-8001") == 1


def test_racing_retries_book_once_by_key_and_by_order_id(db: Session, wide_engine: Engine) -> None:
    merchant = db.scalar(select(User).where(User.role == "merchant"))
    assert merchant is not None
    body = booking(merchant_reference="ORDER-9001")
    raw = json.dumps(body).encode()
    sha = idempotency.digest("POST", "/api/v1/parcels", raw)
    outcomes: list[str] = []
    gate = threading.Barrier(8, timeout=30)
    make = make_sessionmaker(wide_engine)

    def shop(key: str) -> None:
        with make() as s:
            user = s.get(User, merchant.id)
            assert user is not None
            gate.wait()
            try:
                got: Any = idempotency.claim(s, user.id, key, sha)
                if isinstance(got, idempotency.Replay):
                    outcomes.append("replayed")
                    return
                try:
                    p = intake.create_parcel(s, intake.parse_booking(body), user)
                    s.flush()
                    idempotency.complete(
                        s, got, 201, json.dumps({"tracking_id": p.tracking_id}), None
                    )
                    s.commit()
                    outcomes.append("booked")
                except Exception:
                    idempotency.release(s, got)
                    raise
            except Conflict as e:
                s.rollback()
                outcomes.append(e.field or "conflict")
            except Exception as e:  # noqa: BLE001 - the database refused the second order id
                s.rollback()
                outcomes.append(type(e).__name__)

    # Four retries under one key, four under keys of their own: one parcel in all.
    keys = ["same-key"] * 4 + [f"own-{i}" for i in range(4)]
    threads = [threading.Thread(target=shop, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("booked") == 1, outcomes
    db.expire_all()
    assert _count(db, "ORDER-9001") == 1
    assert all(
        o in {"booked", "replayed", "Idempotency-Key", "merchant_reference", "IntegrityError"}
        for o in outcomes
    ), outcomes


@pytest.mark.parametrize("path", ["/api/v1/quote"])
def test_every_post_takes_the_key(
    client: FlaskClient, merchant_headers: dict[str, str], path: str
) -> None:
    headers = {**merchant_headers, "Idempotency-Key": f"k-{path}"}
    a = client.post(path, json=booking(), headers=headers)
    b = client.post(path, json=booking(), headers=headers)
    assert a.status_code == b.status_code == 200 and b.headers.get("Idempotent-Replayed") == "true"


def test_a_claim_given_back_between_the_insert_and_the_read_is_taken(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form pressed twice at once, on PostgreSQL: the second press's INSERT met the first's
    claim, the first was refused and gave its claim back, and the second press's read then
    found no claim at all: an assertion, a 500. The key is free again: the second press takes
    it."""
    user = db.scalar(select(User).where(User.username == "merchant"))
    assert user is not None
    real = idempotency.insert_once
    met: list[bool] = []

    def first_met_a_claim_since_given_back(*args: object, **kwargs: object) -> bool:
        if not met:
            met.append(True)
            return False  # as if another press held it at that moment
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(idempotency, "insert_once", first_met_a_claim_since_given_back)
    got = idempotency.claim(db, user.id, "pressed-twice", "sha")
    assert isinstance(got, int) and met == [True]
