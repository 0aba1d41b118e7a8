"""The API's document is made from the schemas that check its requests: every route of the API
is in it, a request its schema refuses is a 422 naming the field in the caller's language, and
the docs page shows it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import booking

NOT_API = {"/api/v1/openapi.json", "/api/v1/docs"}


def test_every_route_of_the_api_is_in_the_document(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule not in NOT_API:
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<{arg}>", f"{{{arg}}}")
                path = path.replace(f"<int(max=2147483647):{arg}>", f"{{{arg}}}")
            served |= {(path, m) for m in rule.methods or () if m in ("GET", "POST")}
    assert served == documented
    booking_schema = doc["components"]["schemas"]["Booking"]
    assert booking_schema["additionalProperties"] is False
    assert "weight_g" in booking_schema["required"]
    assert doc["components"]["securitySchemes"]["key"]["scheme"] == "bearer"
    public = doc["paths"]["/api/v1/track/{tracking_id}"]["get"]
    assert not public.get("security")
    post = doc["paths"]["/api/v1/parcels"]["post"]
    assert post["security"] == [{"key": []}]
    assert {"201", "409", "422", "429"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_the_schema_refuses_what_it_does_not_describe(
    client: FlaskClient, bn_client: FlaskClient, merchant_headers: dict[str, str]
) -> None:
    misspelt = booking()
    misspelt["cod_amount"] = misspelt.pop("cod_amount_poisha")
    resp = client.post("/api/v1/parcels", json=misspelt, headers=merchant_headers)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["errors"] == [
        {"field": "cod_amount", "message": "cod_amount is not a field of this request."}
    ]
    resp = client.post("/api/v1/parcels", json=booking(weight_g="1200"), headers=merchant_headers)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["field"] == "weight_g"
    assert "whole number" in resp.get_json()["error"]["message"]
    body = booking()
    body["recipient"] = {**body["recipient"], "post_code": 1207}  # type: ignore[dict-item]
    resp = bn_client.post("/api/v1/parcels", json=body, headers=merchant_headers)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["field"] == "recipient.post_code"
    assert "লেখা" in error["message"]  # Bangla: "must be text"
    resp = client.get("/api/v1/parcels?stauts=delivered", headers=merchant_headers)
    assert resp.status_code == 422 and resp.get_json()["error"]["field"] == "stauts"
    resp = client.post(
        "/api/v1/parcels",
        data="weight_g=1",
        headers=merchant_headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 422 and resp.get_json()["error"]["field"] == "body"
    # Nothing was booked by any of them.
    listed = client.get("/api/v1/parcels", headers=merchant_headers).get_json()
    assert listed["parcels"] == []


def test_the_docs_page_shows_every_call(client: FlaskClient, bn_client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for path in ("/api/v1/parcels", "/api/v1/parcels/bulk", "/api/v1/statements"):
        assert path in text
    assert "recipient.post_code" in text and "Idempotency-Key" in text
    assert "OpenAPI 3.1" in text
    bn = bn_client.get("/api/v1/docs").get_data(as_text=True)
    assert "আবশ্যক" in bn or "দরকার" in bn  # the page's own words in Bangla
