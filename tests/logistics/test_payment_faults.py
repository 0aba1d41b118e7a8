"""The fault run, scaled down for CI: charges through the real simulator with timeouts, 5xx,
lost and duplicate callbacks, crashes after debiting and restarts; then recovery and audit.
The full-size run (2,000 attempts) is bench/bench_payments.py."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy.engine import Engine

from logistics.db import make_sessionmaker
from tests import faultrun
from tests.billing.conftest import Simulator
from tests.logistics.test_payments import make_settings


def test_no_double_charge_no_lost_charge_all_final_ledger_balanced(
    app: Flask, engine: Engine, simulator: Simulator
) -> None:
    settings = make_settings(simulator, DAKGHOR_DCB_TIMEOUT_S="0.3")
    app.config["PAYMENTS"] = settings
    n = int(os.environ.get("DAKGHOR_FAULT_ATTEMPTS", "160"))
    rep = faultrun.run(app, make_sessionmaker(engine), simulator, settings, n, restarts=2, races=10)
    assert rep.problems == []
    assert rep.double_submits == 10 and rep.refund_requests == 40
    assert all(code < 500 for code in rep.refund_statuses), rep.refund_statuses
    assert rep.outcomes["race:succeeded"] <= 10
    assert rep.restarts == 2
    assert rep.final["succeeded"] > n // 2, (rep.final, rep.errors)
    stats = rep.sim_stats
    for fault in ("timeout_rate", "error_rate", "lost_callback_rate", "duplicate_callback_rate"):
        assert stats.get(f"fault:{fault}", 0) > 0, (fault, stats)
