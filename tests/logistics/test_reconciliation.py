"""Reconciliation of an operator's settlement file with our attempts: matched, missing on
either side, amount and status mismatches; as a page and a CSV."""

from __future__ import annotations

import io
import time

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from logistics.errors import ValidationError
from logistics.services import reconciliation
from tests.billing.conftest import Simulator
from tests.conftest import login
from tests.logistics.test_payments import _paid, make_settings


def test_settlement_file_reconciles_with_our_books(
    app: Flask, db: Session, simulator: Simulator
) -> None:
    s = make_settings(simulator)
    ours = _paid(db, s, simulator, "01711000901")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    text = simulator.call("GET", f"/sim/settlement/grameenphone/{day}.csv")
    header = text.splitlines()[0]
    extra = [
        f"RX1,dk_not_ours,+8801711000902,charge,500,succeeded,{day}T10:00:00Z",  # operator charged, we lack it
        f"RX2,{ours.idempotency_key}x,+8801711000901,charge,2000,failed,{day}T10:00:00Z",  # a declined unknown
    ]
    lines = reconciliation.reconcile(
        db, "grameenphone", day, "\n".join([*text.splitlines(), *extra]) + "\n"
    )
    outcome = {ln.reference: ln.outcome for ln in lines}
    assert outcome[ours.idempotency_key] == "matched"
    assert outcome["dk_not_ours"] == "missing_in_dakghor"
    # our side lost: the operator's file does not list our succeeded charge
    without = "\n".join(ln for ln in text.splitlines() if ours.idempotency_key not in ln) + "\n"
    lines = reconciliation.reconcile(db, "grameenphone", day, without)
    assert {ln.reference: ln.outcome for ln in lines}[ours.idempotency_key] == "missing_at_operator"
    # an amount that differs
    changed = text.replace(
        f",{ours.idempotency_key},+8801711000901,charge,2000,",
        f",{ours.idempotency_key},+8801711000901,charge,1999,",
    )
    lines = reconciliation.reconcile(db, "grameenphone", day, changed)
    assert {ln.reference: ln.outcome for ln in lines}[ours.idempotency_key] == "amount_mismatch"
    assert reconciliation.to_csv(lines).splitlines()[0].startswith("outcome,kind,reference")
    assert header.startswith("operator_reference")


@pytest.mark.parametrize("text", ["not,a,settlement\n1,2,3\n", "garbage"])
def test_a_file_that_is_not_a_settlement_file_is_refused(db: Session, text: str) -> None:
    with pytest.raises(ValidationError):
        reconciliation.reconcile(db, "robi", "2026-11-22", text)


def test_reconciliation_page_and_csv_for_admins_only(
    app: Flask, db: Session, simulator: Simulator
) -> None:
    app.config["PAYMENTS"] = make_settings(simulator)
    c = app.test_client()
    login(c, "clerk.gpo", "clerk-demo-1")
    assert c.get("/admin/reconciliation").status_code == 403
    c.post("/logout")
    login(c, "admin", "admin-demo-1")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    text = simulator.call("GET", f"/sim/settlement/robi/{day}.csv")
    page = c.post(
        "/admin/reconciliation",
        data={
            "operator": "robi",
            "day": day,
            "format": "html",
            "file": (io.BytesIO(text.encode()), "robi.csv"),
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "Ledger balances" in page.text
    csv_resp = c.post(
        "/admin/reconciliation",
        data={
            "operator": "robi",
            "day": day,
            "format": "csv",
            "file": (io.BytesIO(text.encode()), "robi.csv"),
        },
        content_type="multipart/form-data",
    )
    assert csv_resp.mimetype == "text/csv" and csv_resp.text.startswith("outcome,")
    bad = c.post(
        "/admin/reconciliation",
        data={"operator": "citycell", "day": day, "format": "html"},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "four operators" in bad.text
