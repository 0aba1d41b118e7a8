"""The API's contract: one SpecTree (spectree) over the schemas of ``api_schemas``.

``spec.validate`` checks each request against its schema before the view runs and checks the
answer on the way out; the same schemas make the OpenAPI 3.1 document at
``/api/v1/openapi.json`` and the docs page at ``/api/v1/docs``. A request the schema refuses is
a 422 in the API's own error shape, every wrong field named, in the caller's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel
from spectree import Response as Answers
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items

from logistics.errors import Message, ValidationError
from logistics.i18n import Num, _l
from logistics.web.api_schemas import ErrorBody, RetryHeaders

AUTH: dict[str, list[str]] = {"key": []}  # the routes that need an API key say so (security=AUTH)
ERRORS = {
    400: "The request was not understood.",
    401: "No key, or a key unknown or revoked (field Authorization).",
    403: "The key may not do this, or the parcel is not the caller's.",
    404: "No such parcel, payment or pickup.",
    409: "An order id booked already, a key used for another request, or a step that does "
    "not fit the parcel's state.",
    413: "The request is too large.",
    422: "Each wrong field named (errors[].field, dotted).",
    429: "Too many requests for this key: wait Retry-After seconds.",
}


def _refuse(req: Any, resp: Any, err: Any, instance: Any, adapter: Any = None) -> None:
    """spectree's hook before the view: a body that is not JSON, or a request its schema
    refuses, is our ValidationError (the error handler answers it)."""
    if err is None:
        return
    raise SchemaRefused(field_errors(err.errors()))


class SchemaRefused(ValidationError):
    """A request its schema refused (before any rule that needs the service's data)."""


def field_errors(errors: Iterable[Any], prefix: str = "") -> dict[str, Message]:
    """pydantic's errors as field -> message, in the catalogs' words (first error per field)."""
    found: dict[str, Message] = {}
    errors = list(errors)
    # An optional query value (``X | Omitted``) fails as a union: once as the value, with the
    # member's tag after the field's name (since.date), and once as the None it was not. The
    # field is named without the tag, by the value's error.
    unions = {tuple(e["loc"][:-1]) for e in errors if e.get("type") == "none_required"}
    for e in errors:
        if e.get("type") == "none_required":
            continue
        loc = [str(p) for p in e.get("loc", ()) if p != "__root__"]
        if tuple(e.get("loc", ()))[:-1] in unions:
            loc = loc[:-1]
        field = ".".join([prefix, *loc] if prefix else loc) or "body"
        if field in found:
            continue
        found[field] = _message(field, str(e.get("type")), e.get("ctx") or {})
    return found


def with_rules(found: dict[str, Message], raw: Any, rules: Callable[[Any], Any]) -> ValidationError:
    """A body its schema refused, read by the service's ``rules`` too: one error naming every
    wrong field (the schema's words first for a field both name)."""
    try:
        rules(raw)
    except ValidationError as more:
        found = {**found, **{k: v for k, v in more.errors.items() if k not in found}}
    return ValidationError(found)


def _message(field: str, kind: str, ctx: dict[str, Any]) -> Message:
    if field == "body" and kind in ("model_type", "dict_type", "model_attributes_type"):
        return _l("The request body must be a JSON object.")
    if kind == "missing":
        return _l("%(field)s is required.", field=field)
    if kind.startswith("int_") or kind == "int_from_float":
        return _l("%(field)s must be a whole number.", field=field)
    if kind in ("float_type", "float_parsing"):
        return _l("%(field)s must be a number.", field=field)
    if kind in ("string_type", "string_unicode"):
        return _l("%(field)s must be text.", field=field)
    if kind == "string_too_short":
        return _l("%(field)s is required.", field=field)
    if kind == "string_too_long":
        return _l(
            "%(field)s may be at most %(limit)s characters.",
            field=field,
            limit=Num(int(ctx.get("max_length", 0))),
        )
    if kind in ("greater_than_equal", "greater_than"):
        return _l(
            "%(field)s must be at least %(limit)s.",
            field=field,
            limit=ctx.get("ge", ctx.get("gt", "")),
        )
    if kind in ("less_than_equal", "less_than"):
        return _l(
            "%(field)s must be at most %(limit)s.",
            field=field,
            limit=ctx.get("le", ctx.get("lt", "")),
        )
    if kind in ("enum", "literal_error"):
        return _l(
            "%(field)s must be one of %(choices)s.",
            field=field,
            choices=str(ctx.get("expected", "")),
        )
    if kind in ("list_type", "tuple_type"):
        return _l("%(field)s must be a list.", field=field)
    if kind in ("too_short", "too_long"):
        return _l(
            "%(field)s must have from %(lo)s to %(hi)s items.",
            field=field,
            lo=ctx.get("min_length", 0),
            hi=ctx.get("max_length", ctx.get("min_length", 0)),
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _l("%(field)s must be a JSON object.", field=field)
    if kind == "extra_forbidden":
        return _l("%(field)s is not a field of this request.", field=field)
    if kind.startswith("bool"):
        return _l("%(field)s must be true or false.", field=field)
    if kind.startswith("date"):
        return _l("%(field)s must be a date such as 2026-12-31.", field=field)
    return _l("%(field)s is not valid.", field=field)


class _Checked(FlaskPlugin):
    """spectree's Flask plugin, checking answers against their schemas only where the app says
    (``API_CHECK_ANSWERS``: on under tests and where DAKGHOR_API_CHECK_ANSWERS=1). Unchecked,
    a view's own response goes out as it is: spectree would read its body and build a new one
    (70 µs of a tracking call). The suite checks every answer, and schemathesis checks them
    against the published document."""

    def request_validation(
        self, request: Any, query: Any, json: Any, form: Any, headers: Any, cookies: Any
    ) -> None:
        """As spectree's, without copying every header and cookie for a route with no schema
        for them (it did for every request)."""
        if headers or cookies or form:
            super().request_validation(request, query, json, form, headers, cookies)  # type: ignore[no-untyped-call]
            return
        adapter = self.model_adapter
        has_json = request.method not in ("GET", "DELETE") and (
            request.mimetype not in self.FORM_MIMETYPE
        )
        request.context = Context(
            adapter.validate_obj(query, get_multidict_items(request.args, query))
            if query
            else None,
            adapter.validate_obj(json, request.get_json(silent=True) or {})
            if json and has_json
            else None,
            None,
            None,
            None,
        )

    def validate_response(
        self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
    ) -> Any:
        if isinstance(resp, Response) and not current_app.config["API_CHECK_ANSWERS"]:
            return resp, None
        return super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)


spec = SpecTree(
    "flask",
    backend=_Checked,
    title="DakGhor API",
    version="1",
    description="Bangladesh Post's e-commerce parcel service in Dhaka: book, price, label, "
    "track and pay. Money is integer poisha (100 = Tk 1). See docs/api.md.",
    mode="strict",
    annotations=False,
    page_templates={},  # our own page (/api/v1/docs), served without any CDN
    before=_refuse,
    validation_error_status=422,
    validation_error_model=ErrorBody,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[
        SecurityScheme(
            name="key",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                description="An API key: Authorization: Bearer <key> (dakghor issue-key, or "
                "the merchant portal's Keys page).",
            ),
        )
    ],
)


def answers(ok: dict[int, Any], errors: Iterable[int] = (400, 401, 403, 404, 422, 429)) -> Any:
    """A route's answers: ``ok`` (status -> model, or None for a non-JSON body such as a PDF)
    and the error statuses it may give, each in the error shape."""
    codes: dict[str, Any] = {f"HTTP_{code}": model for code, model in ok.items()}
    for code in errors:
        codes[f"HTTP_{code}"] = (ErrorBody, ERRORS[code])
    return Answers(**codes)


def api(
    *,
    ok: dict[int, Any],
    json: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    key: bool = True,
    retry: bool | None = None,
    errors: Iterable[int] | None = None,
    tags: tuple[str, ...] = (),
    also: Callable[[Any], Any] | None = None,
) -> Callable[[Any], Any]:
    """The decorator a route of the API wears: its request schemas, answers and security.
    A call that changes something (``retry``, a POST) documents the Idempotency-Key header.
    ``also`` checks the raw body by the service's own rules when the schema refuses it, so
    the answer names every wrong field at once (the schema's words first)."""
    retry = json is not None if retry is None else retry
    if errors is None:
        errors = [400, 401, 403, 404, 409, 422, 429] if retry else [400, 401, 403, 404, 422]
        if not key:
            errors = [e for e in errors if e not in (401, 403)]
    validate = spec.validate(
        json=json,
        query=query,
        headers=RetryHeaders if retry and key else None,
        resp=answers(ok, sorted(errors)),
        security=AUTH if key else {},
        tags=tags,
    )

    def decorate(view: Any) -> Any:
        validated = validate(view)
        if json is None:
            return validated

        @wraps(validated)
        def json_only(*args: Any, **kwargs: Any) -> Any:
            # spectree reads a body of another type as {}: say what is wrong instead.
            if (request.mimetype or request.content_length) and not request.is_json:
                raise ValidationError(
                    {"body": _l("Send a JSON body with Content-Type: application/json.")}
                )
            if request.is_json and request.get_json(silent=True) is None:
                raise ValidationError({"body": _l("The body is not valid JSON.")})
            try:
                return validated(*args, **kwargs)
            except SchemaRefused as refused:
                if also is None:
                    raise
                raise with_rules(refused.errors, request.get_json(silent=True), also) from None

        return json_only

    return decorate


def body() -> Any:
    """The request's body, as its schema read it."""
    return request.context.json  # type: ignore[attr-defined]


def args() -> Any:
    """The request's query string, as its schema read it."""
    return request.context.query  # type: ignore[attr-defined]
