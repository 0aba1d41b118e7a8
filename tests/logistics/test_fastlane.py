"""Public tracking's fast lane (logistics/web/fastlane.py) answers exactly as Flask does: the
same status, body and headers, the call counted once, and anything but the plain case left to
Flask, which answers it in the caller's language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import Client, TestResponse

from app import create_app
from logistics.services import tracking
from logistics.web import fastlane
from tests.logistics.test_api import on_its_way


def _lane(app: Flask) -> fastlane.TrackingFastLane:
    lane = app.wsgi_app
    assert isinstance(lane, fastlane.TrackingFastLane)
    return lane


def _flask_itself(app: Flask) -> Client:
    """A client of the app without its lane: Flask's own handling."""
    return Client(_lane(app).inner)


def _same(fast: TestResponse, slow: TestResponse) -> None:
    """The same answer, but for the count left, which each call lowers by one."""

    def headers(r: TestResponse) -> list[tuple[str, str]]:
        return sorted((k, v) for k, v in r.headers.items() if k != "X-RateLimit-Remaining")

    assert (fast.status, fast.data) == (slow.status, slow.data)
    assert headers(fast) == headers(slow)
    left = int(fast.headers["X-RateLimit-Remaining"])
    assert int(slow.headers["X-RateLimit-Remaining"]) == left - 1


@pytest.fixture
def tid(app: Flask, client: FlaskClient, merchant_headers: dict[str, str]) -> str:
    return on_its_way(app, client, merchant_headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept-Language": "bn"},
        {"Accept-Language": "en", "Authorization": "Bearer demo-merchant-key"},
        {"Authorization": "Bearer someone-elses-key"},
    ],
)
def test_the_lane_answers_public_tracking_byte_for_byte_as_flask(
    app: Flask, tid: str, headers: dict[str, str]
) -> None:
    lane = _lane(app)
    flask_itself = _flask_itself(app)
    fast = Client(app).get(f"/api/v1/track/{tid}", headers=headers)
    assert lane.served == 1, "the plain case must take the lane"
    slow = flask_itself.get(f"/api/v1/track/{tid}", headers=headers)
    assert lane.served == 1
    assert fast.status_code == 200 and [e["code"] for e in fast.get_json()["events"]] == [
        "BKD",
        "EMA",
        "EMC",
    ]
    _same(fast, slow)
    assert fast.headers["Vary"] == "Accept-Language, Cookie"
    assert fast.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/track/{tid_lower}",  # normalized by Flask: 200
        "/api/v1/track/{tid}?lang=en",  # a query string: the guard reads it
        "/api/v1/track/CP123456785BD",  # no such parcel: 404
        "/api/v1/track/CP123456784BD",  # a wrong check digit: 422
        "/api/v1/track/hello",  # not a tracking id: 422
    ],
)
@pytest.mark.parametrize("language", ["bn", "en"])
def test_everything_but_the_plain_case_is_left_to_flask_in_the_callers_language(
    app: Flask, tid: str, path: str, language: str
) -> None:
    url = path.format(tid=tid, tid_lower=tid.lower())
    lane = _lane(app)
    fast = Client(app).get(url, headers={"Accept-Language": language})
    slow = _flask_itself(app).get(url, headers={"Accept-Language": language})
    assert lane.served == 0
    _same(fast, slow)
    if fast.status_code >= 400:
        message = str(fast.get_json()["error"]["message"])
        assert any("\u0980" <= ch <= "\u09ff" for ch in message) == (language == "bn")


def test_a_caller_with_a_cookie_goes_through_flask(app: Flask, tid: str) -> None:
    lane = _lane(app)
    client = Client(app)
    client.set_cookie("session", "x")
    fast = client.get(f"/api/v1/track/{tid}")
    assert fast.status_code == 200 and lane.served == 0


@pytest.fixture
def tight(database_url: str) -> Iterator[Flask]:
    limited = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "API_RATE_LIMIT": "3/hour",
        }
    )
    yield limited
    limited.extensions["dakghor.engine"].dispose()
    limited.extensions["dakghor.reader"].dispose()


def test_a_call_is_counted_once_and_over_the_limit_flask_says_so(tight: Flask, tid: str) -> None:
    client = Client(tight)
    calls = [
        client.get(f"/api/v1/track/{tid}"),  # the lane
        client.get("/api/v1/track/CP123456785BD"),  # counted by the lane, answered by Flask
        client.get(f"/api/v1/track/{tid}"),
        client.get(f"/api/v1/track/{tid}", headers={"Accept-Language": "en"}),  # over
    ]
    assert [c.status_code for c in calls] == [200, 404, 200, 429]
    assert [c.headers["X-RateLimit-Remaining"] for c in calls] == ["2", "1", "0", "0"]
    assert int(calls[-1].headers["Retry-After"]) > 0
    assert calls[-1].get_json()["error"]["code"] == "too_many_requests"
    assert "Too many requests" in calls[-1].get_json()["error"]["message"]
    assert _lane(tight).served == 2


def test_an_error_in_the_lane_leaves_the_call_to_flask(
    app: Flask, tid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure the lane meets (a database that went away, say) is Flask's to answer, as it
    answers any; here the second try, in Flask, succeeds."""
    real = tracking.public_view_of
    tries: list[str] = []

    def once_broken(db: Any, raw_id: str, field: str = "tracking_id") -> Any:
        tries.append(raw_id)
        if len(tries) == 1:
            raise ConnectionError("the database went away")
        return real(db, raw_id, field)

    monkeypatch.setattr(tracking, "public_view_of", once_broken)
    fast = Client(app).get(f"/api/v1/track/{tid}")
    assert fast.status_code == 200 and len(tries) == 2 and _lane(app).served == 0
    limit = app.extensions["dakghor.limits"].every.amount
    assert fast.headers["X-RateLimit-Remaining"] == str(limit - 1)  # counted once
