"""Fixtures of the payment tests: carrier billing pointed at the real operator simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from logistics.services import payments
from tests.billing.conftest import Simulator
from tests.logistics.test_payments import make_settings


@pytest.fixture
def pay_settings(simulator: Simulator) -> Iterator[payments.PaymentSettings]:
    simulator.faults()
    yield make_settings(simulator)
    simulator.faults()


@pytest.fixture
def pay_app(app: Flask, pay_settings: payments.PaymentSettings) -> Flask:
    app.config["PAYMENTS"] = pay_settings
    return app


@pytest.fixture
def wide_engine(database_url: str) -> Iterator[Engine]:
    """An engine with a connection for each of the racing threads."""
    from logistics.db import make_engine

    eng = make_engine(database_url, pool_size=24, max_overflow=0)
    yield eng
    eng.dispose()
