"""The error root of the routing library."""

from __future__ import annotations


class RoutingError(Exception):
    """Root of routing errors; ``code`` is stable."""

    code = "routing_error"


class InvalidProblem(RoutingError, ValueError):
    """The problem data is inconsistent; ``field`` names where (e.g. ``vehicles[2].capacity``)."""

    code = "invalid_problem"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class FormatError(RoutingError, ValueError):
    """A benchmark or JSON file could not be read; the message says where."""

    code = "format_error"
