"""Driver discovery: every driver, built-in or not, is registered under the entry point group
``dakghor.billing.drivers`` (name = operator id, value = a class taking a DriverConfig)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points

from billing.driver import DriverConfig, OperatorDriver
from billing.errors import DriverNotFound

GROUP = "dakghor.billing.drivers"
Factory = Callable[[DriverConfig], OperatorDriver]


def available() -> dict[str, Factory]:
    """Operator id -> driver class, from the installed entry points."""
    out: dict[str, Factory] = {}
    for ep in entry_points(group=GROUP):
        out[ep.name] = ep.load()
    return out


def load(configs: Mapping[str, DriverConfig]) -> dict[str, OperatorDriver]:
    """Instantiate a driver for each configured operator; an unknown one is a clear error."""
    classes = available()
    drivers: dict[str, OperatorDriver] = {}
    for name, cfg in configs.items():
        if name not in classes:
            raise DriverNotFound(
                f"no billing driver registered for {name!r} (have: {', '.join(sorted(classes))})"
            )
        drivers[name] = classes[name](cfg)
    return drivers
