"""Drivers are plugins: the four built-ins come from the entry point group like any other."""

from __future__ import annotations

import pytest

from billing import registry
from billing.driver import DriverConfig, OperatorDriver
from billing.errors import DriverNotFound


def test_the_four_operators_are_registered_through_entry_points() -> None:
    assert sorted(registry.available()) == ["banglalink", "grameenphone", "robi", "teletalk"]


def test_loaded_drivers_satisfy_the_protocol() -> None:
    drivers = registry.load(
        {name: DriverConfig("http://127.0.0.1:9") for name in registry.available()}
    )
    for name, d in drivers.items():
        assert isinstance(d, OperatorDriver) and d.name == name
        assert d.consent_method in ("otp", "page")


def test_unknown_operator_is_a_clear_error() -> None:
    with pytest.raises(DriverNotFound) as e:
        registry.load({"citycell": DriverConfig("http://127.0.0.1:9")})
    assert "citycell" in e.value.message and "grameenphone" in e.value.message
