"""No log holds a payment or registration link's token (logistics/logsafe.py): not gunicorn's
access log that `make run` writes, not the app's log of an error on such a page."""

from __future__ import annotations

import logging
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from flask import Flask, url_for

from logistics.logsafe import HIDDEN, redact
from tests.serving import gunicorn

TOKEN = "Zq7-secret_TOKEN9xK"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"GET /p/{TOKEN} HTTP/1.1", "GET /p/[redacted] HTTP/1.1"),
        (f"/pay/{TOKEN}", "/pay/[redacted]"),
        (f"/r/{TOKEN}/code?x=1", "/r/[redacted]/code?x=1"),
        (f"http://dak.example/pay/{TOKEN}#top", "http://dak.example/pay/[redacted]#top"),
        (f"/login?next=%2Fpay%2F{TOKEN}&lang=bn", "/login?next=%2Fpay%2F[redacted]&lang=bn"),
        (f"/login?next=%2fR%2f{TOKEN}", "/login?next=%2fR%2f[redacted]"),
        # Not secrets: a tracking id, the round's page, a word that merely starts the same.
        ("/t/EE123456785BD", "/t/EE123456785BD"),
        ("/round/12", "/round/12"),
        ("/payouts/3", "/payouts/3"),
        ("/pay", "/pay"),
    ],
)
def test_redact_hides_the_token_and_nothing_else(text: str, kept: str) -> None:
    assert redact(text) == kept


def test_every_route_with_a_token_is_redacted(app: Flask) -> None:
    routes = [r for r in app.url_map.iter_rules() if "token" in r.arguments]
    assert len(routes) >= 4, routes  # /p, /pay and /r's two: the check reached them
    with app.test_request_context():
        for rule in routes:
            path = url_for(rule.endpoint, token=TOKEN)
            assert TOKEN not in redact(path), (rule.rule, redact(path))
            assert TOKEN not in redact(urllib.parse.quote(path, safe="")), rule.rule


def test_an_error_on_a_payment_page_is_logged_without_its_token(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("logistics.services.payments.open_link", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        r = app.test_client().get(f"/pay/{TOKEN}")
    assert r.status_code == 500
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert f"/pay/{HIDDEN}" in logged and TOKEN not in logged


def test_gunicorns_access_log_holds_no_token(
    database_url: str, seeded: dict[str, int], tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    with gunicorn(database_url, tmp_path / "instance", access_log=log) as server:
        for path, headers in (
            (f"/p/{TOKEN}", {}),
            (f"/pay/{TOKEN}", {"Referer": f"{server.base}/pay/{TOKEN}"}),
            (f"/r/{TOKEN}/code", {}),
            (f"/login?next=%2Fpay%2F{TOKEN}", {}),
        ):
            req = urllib.request.Request(server.base + path, headers=headers)
            try:
                urllib.request.urlopen(req, timeout=20).read()  # noqa: S310
            except urllib.error.HTTPError as e:  # an unknown link: 404 or 410, still logged
                assert e.code < 500, (path, e.code)
    lines = log.read_text().splitlines()
    assert sum(HIDDEN in line for line in lines) >= 4, lines
    assert not [line for line in lines if TOKEN in line]
