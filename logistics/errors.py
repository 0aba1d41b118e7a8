"""The error root of the postal domain: every failure a caller can act on, with a stable code."""

from __future__ import annotations

from typing import TypeAlias

from flask_babel import LazyString

# A message for a person: from the catalogs, translated when it is shown (lazily), so the same
# error reads in Bangla on a Bangla page and in English for an English caller.
Message: TypeAlias = "str | LazyString"


class DakGhorError(Exception):
    """Root of the domain's errors; ``code`` is stable, ``status`` is the web layer's hint."""

    code = "error"
    status = 400

    def __init__(self, message: Message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def by_field(self, default: str) -> dict[str, Message]:
        """The error as field -> message (``default`` for one that names no field)."""
        return {self.field or default: self.message}

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": str(self.message)}
        if self.field:
            body["field"] = self.field
        return body


class ValidationError(DakGhorError):
    """One or more fields are wrong; ``errors`` maps each field to its message."""

    code = "validation_error"
    status = 422

    def __init__(self, errors: dict[str, Message]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors

    def by_field(self, default: str) -> dict[str, Message]:
        return dict(self.errors)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": str(self.message),
            "field": self.field,
            "errors": [{"field": f, "message": str(m)} for f, m in self.errors.items()],
        }


class NotFound(DakGhorError):
    code = "not_found"
    status = 404


class Forbidden(DakGhorError):
    code = "forbidden"
    status = 403


class Unauthorized(DakGhorError):
    code = "unauthorized"
    status = 401


class Conflict(DakGhorError):
    code = "conflict"
    status = 409
