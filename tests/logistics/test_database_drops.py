"""The pool does not ping before each request (a round trip saved on every call): a connection
the server dropped costs the one request that meets it a 503 with Retry-After: 1, nothing
half-written, and the pool is refreshed for the next."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from werkzeug.test import Client

from logistics.web import fastlane
from tests.conftest import booking


def _drop_a_connection(pool_of: Engine, database_url: str) -> None:
    """The server ends the backend of a connection sitting in ``pool_of``'s pool."""
    with pool_of.connect() as c:
        pid = c.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(database_url, poolclass=NullPool)
    with admin.connect() as c:
        assert c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    admin.dispose()


def test_a_dropped_connection_costs_one_request_at_most(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that drops connections: PostgreSQL (SQLite has no server)")
    assert client.get("/api/v1/offices").status_code == 200
    _drop_a_connection(app.extensions["dakghor.engine"], database_url)
    met = client.get("/api/v1/offices")
    assert met.status_code == 503, met.data
    assert met.headers["Retry-After"] == "1"
    assert met.get_json()["error"]["code"] == "service_unavailable"
    assert client.get("/api/v1/offices").status_code == 200


def test_a_dropped_connection_of_the_tracking_pool_costs_no_request(
    app: Flask, client: FlaskClient, database_url: str, merchant_headers: dict[str, str]
) -> None:
    """Public tracking reads on raw connections of a pool of its own (rows.read_rows), and its
    plain case in the fast lane (web/fastlane.py): the read that meets a dropped connection
    renews the pool and hands the call to Flask, which answers it from the new one. Flask's
    own handling, met by a dropped one, answers 503 with Retry-After: 1 and renews the pool
    for the next call."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that drops connections: PostgreSQL (SQLite has no server)")
    tid = client.post("/api/v1/parcels", json=booking(), headers=merchant_headers).get_json()[
        "tracking_id"
    ]
    lane = app.wsgi_app
    assert isinstance(lane, fastlane.TrackingFastLane)
    assert client.get(f"/api/v1/track/{tid}").status_code == 200
    served = lane.served
    _drop_a_connection(app.extensions["dakghor.reader"], database_url)
    met = client.get(f"/api/v1/track/{tid}")
    assert met.status_code == 200 and lane.served == served, met.data  # answered by Flask
    assert client.get(f"/api/v1/track/{tid}").status_code == 200 and lane.served == served + 1

    flask_itself = Client(lane.inner)
    _drop_a_connection(app.extensions["dakghor.reader"], database_url)
    met = flask_itself.get(f"/api/v1/track/{tid}")
    assert met.status_code == 503, met.data
    assert met.headers["Retry-After"] == "1"
    assert flask_itself.get(f"/api/v1/track/{tid}").status_code == 200
