"""The built-in operator drivers (registered through the ``dakghor.billing.drivers`` entry point)."""
