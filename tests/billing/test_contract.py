"""The contract every operator driver passes, each against the real simulator over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest

from billing.driver import ChargeRequest, ChargeStatus, OperatorDriver, RefundRequest
from billing.errors import BadSignature, OperatorError, TransportTimeout
from billing.money import Money
from tests.billing.conftest import CALLBACK_SECRET, NUMBERS, Simulator, make_driver

OPERATORS = sorted(NUMBERS)
pytestmark = pytest.mark.usefixtures("clean_faults")


def key() -> str:
    return f"att_{uuid.uuid4().hex}"


def consent(driver: OperatorDriver, sim: Simulator, msisdn: str, amount: Money, k: str) -> str:
    start = driver.start_consent(
        msisdn, amount, "Parcel fee CP000000015BD", k, "http://app.test/return"
    )
    assert start.method == driver.consent_method
    pin = sim.otp(msisdn)
    if start.method == "page":
        assert start.page_url
        target = sim.approve_page(start.page_url, pin)
        assert target.startswith("http://app.test/return?") and "status=approved" in target
        pin = ""
    result = driver.verify_consent(start.consent_id, pin)
    assert result.verified and result.token
    return result.token


@pytest.mark.parametrize("op", OPERATORS)
def test_charge_debits_once_and_reports_status(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    msisdn, amount, k = NUMBERS[op], Money.taka("23.50"), key()
    before = simulator.balance(msisdn)
    token = consent(d, simulator, msisdn, amount, k)
    req = ChargeRequest(k, msisdn, amount, "Parcel fee", token, "CP000000015BD")
    first = d.charge(req)
    assert first.status is ChargeStatus.SUCCEEDED and first.operator_reference
    assert first.amount == amount
    again = d.charge(req)  # the same key again: the same charge, not a second debit
    assert again.operator_reference == first.operator_reference
    assert simulator.balance(msisdn) == before - amount.poisha
    st = d.status(k)
    assert st.status is ChargeStatus.SUCCEEDED and st.operator_reference == first.operator_reference


@pytest.mark.parametrize("op", OPERATORS)
def test_status_of_an_unknown_key_is_unknown(op: str, simulator: Simulator) -> None:
    assert make_driver(op, simulator).status(key()).status is ChargeStatus.UNKNOWN


@pytest.mark.parametrize("op", OPERATORS)
def test_insufficient_balance_is_a_declined_result(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    msisdn = NUMBERS[op].replace("101", "202")
    simulator.call("POST", "/sim/admin/subscribers", {"msisdn": msisdn, "balance_poisha": 500})
    k = key()
    token = consent(d, simulator, msisdn, Money(1000), k)
    res = d.charge(ChargeRequest(k, msisdn, Money(1000), "fee", token))
    assert res.status is ChargeStatus.FAILED and res.error_code == "insufficient_balance"
    assert not res.retryable and simulator.balance(msisdn) == 500


@pytest.mark.parametrize("op", OPERATORS)
def test_charge_without_valid_consent_is_refused(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    res_or_err: object
    try:
        res_or_err = d.charge(ChargeRequest(key(), NUMBERS[op], Money(100), "fee", "not-a-token"))
    except OperatorError as e:
        res_or_err = e.code
    code = res_or_err if isinstance(res_or_err, str) else res_or_err.error_code  # type: ignore[attr-defined]
    assert code == "consent_invalid"


@pytest.mark.parametrize("op", ["grameenphone", "banglalink"])
def test_wrong_otp_is_not_verified(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    start = d.start_consent(NUMBERS[op], Money(100), "fee", key())
    res = d.verify_consent(
        start.consent_id, "000000" if simulator.otp(NUMBERS[op]) != "000000" else "111111"
    )
    assert not res.verified and res.error_code == "wrong_otp"


@pytest.mark.parametrize("op", OPERATORS)
def test_partial_then_full_refund(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    msisdn, k = NUMBERS[op], key()
    token = consent(d, simulator, msisdn, Money(5000), k)
    charge = d.charge(ChargeRequest(k, msisdn, Money(5000), "fee", token))
    before = simulator.balance(msisdn)
    r1 = d.refund(
        RefundRequest(key(), k, charge.operator_reference or "", msisdn, Money(2000), "partial")
    )
    assert r1.status in (ChargeStatus.REFUNDED, ChargeStatus.SUCCEEDED) and r1.operator_reference
    r2 = d.refund(
        RefundRequest(key(), k, charge.operator_reference or "", msisdn, Money(3000), "rest")
    )
    assert r2.operator_reference
    assert simulator.balance(msisdn) == before + 5000
    assert d.status(k).status is ChargeStatus.REFUNDED


@pytest.mark.parametrize("op", OPERATORS)
def test_number_ported_away_is_not_our_subscriber(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    other = next(o for o in OPERATORS if o != op)
    msisdn = NUMBERS[op].replace("101", "303")
    simulator.call("POST", "/sim/admin/port", {"msisdn": msisdn, "operator": other})
    with pytest.raises(OperatorError) as e:
        d.start_consent(msisdn, Money(100), "fee", key())
    assert e.value.code == "not_subscriber"


@pytest.mark.parametrize("op", OPERATORS)
def test_timeout_is_reported_and_status_finds_the_charge(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator, timeout_s=0.5)
    msisdn, k = NUMBERS[op], key()
    token = consent(d, simulator, msisdn, Money(700), k)
    simulator.faults(timeout_rate=1.0, timeout_s=1.5)
    with pytest.raises(TransportTimeout):
        d.charge(ChargeRequest(k, msisdn, Money(700), "fee", token))
    simulator.faults()
    assert d.status(k).status is ChargeStatus.SUCCEEDED  # debited before the answer was lost


@pytest.mark.parametrize("op", OPERATORS)
def test_server_errors_are_retryable(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    simulator.faults(error_rate=1.0)
    with pytest.raises(OperatorError) as e:
        d.status(key())
    assert e.value.retryable and e.value.code == "operator_unavailable"


def _signed(op: str, body: bytes, ts: int, secret: str = CALLBACK_SECRET) -> dict[str, str]:
    prefix = {"grameenphone": "GP", "robi": "Robi", "banglalink": "BL", "teletalk": "TT"}[op]
    sig = hmac.new(secret.encode(), str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {f"X-{prefix}-Timestamp": str(ts), f"X-{prefix}-Signature": sig}


CALLBACKS = {
    "grameenphone": {
        "amountTransaction": {
            "clientCorrelator": "k1",
            "serverReferenceCode": "GP1",
            "paymentAmount": {"chargingInformation": {"amount": "12.50"}},
            "transactionOperationStatus": "Charged",
        }
    },
    "robi": {"event": "charge.succeeded", "txn_id": "k1", "robi_ref": "RB1", "amount_poisha": 1250},
    "banglalink": {"ref": "k1", "bl_txn": "BL1", "status": "CHARGED", "amount": "12.50"},
    "teletalk": {
        "requestId": "k1",
        "debitId": "TT1",
        "outcome": "OK",
        "amountInPoisha": 1250,
        "type": "debit",
    },
}


@pytest.mark.parametrize("op", OPERATORS)
def test_callbacks_verify_signature_and_timestamp(op: str, simulator: Simulator) -> None:
    d = make_driver(op, simulator)
    body = json.dumps(CALLBACKS[op]).encode()
    now = int(time.time())
    ev = d.parse_callback(_signed(op, body, now), body, now)
    assert (ev.idempotency_key, ev.status, ev.amount) == ("k1", ChargeStatus.SUCCEEDED, Money(1250))
    with pytest.raises(BadSignature):
        d.parse_callback(_signed(op, body, now, "wrong-secret"), body, now)
    with pytest.raises(BadSignature):  # a replay of an old callback
        d.parse_callback(_signed(op, body, now - 3600), body, now)
    with pytest.raises(BadSignature):
        d.parse_callback({}, body, now)


@pytest.mark.parametrize("op", OPERATORS)
def test_simulator_sends_signed_callbacks_the_driver_accepts(op: str, simulator: Simulator) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    got: list[tuple[dict[str, str], bytes]] = []

    class App(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    app = HTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    try:
        simulator.call(
            "POST", "/sim/admin/callbacks", {op: f"http://127.0.0.1:{app.server_port}/cb"}
        )
        d = make_driver(op, simulator)
        k = key()
        token = consent(d, simulator, NUMBERS[op], Money(900), k)
        d.charge(ChargeRequest(k, NUMBERS[op], Money(900), "fee", token))
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        app.shutdown()
        app.server_close()
        simulator.call("POST", "/sim/admin/callbacks", {})
    headers, body = got[0]
    ev = d.parse_callback(headers, body, int(time.time()))
    assert (
        ev.idempotency_key == k and ev.status is ChargeStatus.SUCCEEDED and ev.amount == Money(900)
    )


def test_restarted_simulator_remembers_its_charges(simulator: Simulator) -> None:
    d = make_driver("robi", simulator)
    k = key()
    token = consent(d, simulator, NUMBERS["robi"], Money(300), k)
    ref = d.charge(ChargeRequest(k, NUMBERS["robi"], Money(300), "fee", token)).operator_reference
    simulator.restart()
    st = make_driver("robi", simulator).status(k)
    assert st.status is ChargeStatus.SUCCEEDED and st.operator_reference == ref


def test_settlement_file_lists_the_days_transactions(simulator: Simulator) -> None:
    d = make_driver("teletalk", simulator)
    k = key()
    token = consent(d, simulator, NUMBERS["teletalk"], Money(450), k)
    d.charge(ChargeRequest(k, NUMBERS["teletalk"], Money(450), "fee", token))
    day = time.strftime("%Y-%m-%d", time.gmtime())
    csv_text = simulator.call("GET", f"/sim/settlement/teletalk/{day}.csv")
    assert csv_text.splitlines()[0].startswith("operator_reference,client_reference,msisdn")
    assert any(f",{k},+8801511000101,charge,450,succeeded," in ln for ln in csv_text.splitlines())
