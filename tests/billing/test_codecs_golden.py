"""Golden files pin each operator's wire format: the requests our codecs build (byte for byte)
and how they read the operators' answers. Regenerate the request files deliberately with
``DAKGHOR_UPDATE_GOLDEN=1 make test`` after an intended change, and review the diff."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from billing.driver import ChargeRequest, ChargeStatus, DriverConfig, HttpResponse, RefundRequest
from billing.drivers.banglalink.codec import BanglalinkCodec
from billing.drivers.base import Codec
from billing.drivers.grameenphone.codec import GrameenphoneCodec
from billing.drivers.robi.codec import RobiCodec
from billing.drivers.teletalk.codec import TeletalkCodec
from billing.money import Money
from tests.billing.conftest import CALLBACK_SECRET, CREDENTIALS

GOLDEN = Path(__file__).parent / "golden"
CODECS: dict[str, type[Codec]] = {
    "grameenphone": GrameenphoneCodec,
    "robi": RobiCodec,
    "banglalink": BanglalinkCodec,
    "teletalk": TeletalkCodec,
}
MSISDN = {
    "grameenphone": "+8801711000101",
    "robi": "+8801811000101",
    "banglalink": "+8801911000101",
    "teletalk": "+8801511000101",
}
NOW = 1_795_000_000


def codec(op: str) -> Codec:
    return CODECS[op](DriverConfig("http://operator.test", CREDENTIALS[op], CALLBACK_SECRET))


def requests_of(op: str) -> dict[str, Any]:
    c = codec(op)
    m = MSISDN[op]
    reqs = {
        "start_consent": c.start_consent(
            m, Money(2350), "Parcel fee CP000000015BD", "att_1", "https://dakghor.test/pay/return"
        ),
        "verify_consent": c.verify_consent("C123", "482913"),
        "charge": c.charge(
            ChargeRequest("att_1", m, Money(2350), "Parcel fee", "tok_abc", "CP000000015BD")
        ),
        "refund": c.refund(
            RefundRequest("ref_1", "att_1", "OPREF1", m, Money(1000), "parcel returned")
        ),
        "status": c.status("att_1"),
    }
    if c.needs_token:
        reqs["token"] = c.token_request()
    out = {}
    for name, r in reqs.items():
        r = c.authorize(r, "TOKEN", NOW) if name != "token" else r
        out[name] = {
            "method": r.method,
            "path": r.path,
            "headers": dict(sorted(r.headers.items())),
            "body": r.body.decode(),
        }
    return out


@pytest.mark.parametrize("op", sorted(CODECS))
def test_requests_match_the_golden_files(op: str) -> None:
    path = GOLDEN / op / "requests.json"
    got = requests_of(op)
    if os.environ.get("DAKGHOR_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(path.read_text())


@pytest.mark.parametrize("op", sorted(CODECS))
def test_answers_are_read_from_the_golden_files(op: str) -> None:
    c = codec(op)
    cases = json.loads((GOLDEN / op / "responses.json").read_text())
    for case in cases:
        resp = HttpResponse(case["status"], {}, json.dumps(case["body"]).encode())
        res = c.parse_charge(resp, "att_1")
        exp = case["expect"]
        assert res.status is ChargeStatus(exp["status"]), case["name"]
        assert res.error_code == exp.get("error_code"), case["name"]
        assert (res.amount.poisha if res.amount else None) == exp.get("amount_poisha"), case["name"]
        assert res.operator_reference == exp.get("operator_reference"), case["name"]


def test_banglalink_signature_is_over_method_path_time_and_body() -> None:
    r = requests_of("banglalink")["charge"]
    assert r["headers"]["X-BL-Timestamp"] == str(NOW) and len(r["headers"]["X-BL-Signature"]) == 64


def test_grameenphone_token_request_uses_basic_client_credentials() -> None:
    r = requests_of("grameenphone")["token"]
    user_pass = base64.b64decode(r["headers"]["Authorization"].split()[1]).decode()
    assert user_pass == "dakghor:gp-demo-secret" and r["body"] == "grant_type=client_credentials"
