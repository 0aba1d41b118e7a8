"""Hostile input stops at the door: a NUL byte or an unpaired surrogate anywhere a person or a
network can put text (path, query, form, file names, JSON), or JSON nested past any real need,
is answered 422 naming the field, before a view or the database sees it."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from logistics.errors import ValidationError
from logistics.i18n import Num, _l

MAX_JSON_DEPTH = 32
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# NUL (PostgreSQL text cannot hold it) and lone UTF-16 surrogates (no encoding can store them).
_BAD = re.compile("[\x00\ud800-\udfff]")


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but a body nested thousands deep is invalid JSON (a 4xx), not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _why(value: str) -> str | None:
    m = _BAD.search(value)
    if m is None:
        return None
    return "nul" if m.group() == "\x00" else "surrogate"


def _check_text(field: str, value: str) -> None:
    why = _why(value)
    if why:
        name = _BAD.sub("\ufffd", field)  # a field named with the bad character is named safely
        raise ValidationError(
            {
                name: _l("%(field)s contains a NUL byte, which is not allowed.", field=name)
                if why == "nul"
                else _l(
                    "%(field)s contains an unpaired surrogate, which is not allowed.", field=name
                )
            }
        )


def _check_json(body: Any) -> None:
    """Walk the parsed body without recursion; name the first bad field by its path."""
    stack: list[tuple[str, Any, int]] = [("body", body, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(
                {
                    "body": _l(
                        "The JSON body is nested deeper than %(n)s levels.", n=Num(MAX_JSON_DEPTH)
                    )
                }
            )
        if isinstance(value, str):
            _check_text(path.removeprefix("body."), value)
        elif isinstance(value, dict):
            for k, v in value.items():
                _check_text(
                    f"{path}.{k}".removeprefix("body.") if isinstance(k, str) else path, str(k)
                )
                stack.append((f"{path}.{k}", v, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v, depth + 1) for i, v in enumerate(value))


def check_request() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(name, value)
    _check_text("path", request.path)
    # A form is read only where one was sent (reading none still built its parsers).
    sources = [request.args] if request.query_string else []
    if request.mimetype in _FORMS:
        sources.append(request.form)
        for key, upload in request.files.items(multi=True):
            _check_text(key, upload.filename or "")
    for source in sources:
        for key, value in source.items(multi=True):
            _check_text(key, key)
            _check_text(key, value)
    if request.is_json and request.content_length != 0:
        body = request.get_json(silent=True)
        if body is not None:
            _check_json(body)


def register(app: Flask) -> None:
    app.json_provider_class = SafeJSONProvider
    app.json = SafeJSONProvider(app)
    app.before_request(check_request)
