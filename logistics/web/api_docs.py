"""The API's document (``/api/v1/openapi.json``, OpenAPI 3.1, made by spectree from the schemas
that validate the requests) and its page for people (``/api/v1/docs``), served by the app with
no script from elsewhere. Joins ``api.bp``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template

from logistics.web.api import bp
from logistics.web.openapi import spec

METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/openapi.json")
def openapi_document() -> Any:
    return current_app.json.response(spec.spec)


@dataclass
class Row:
    """One field of a request or an answer, flattened: ``recipient.post_code``."""

    name: str
    type: str
    required: bool
    rules: str
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    needs_key: bool
    parameters: list[Row] = field(default_factory=list)
    body: list[Row] = field(default_factory=list)
    answers: list[tuple[str, str, list[Row]]] = field(default_factory=list)


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return dict(schema)


def _type(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(doc, s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    if schema.get("type") == "array":
        return f"[{_type(doc, schema.get('items', {}))}]"
    return str(schema.get("format") or schema.get("type") or "any")


def _rules(schema: dict[str, Any]) -> str:
    words = []
    for key, say in (
        ("minimum", "≥ {}"),
        ("exclusiveMinimum", "> {}"),
        ("maximum", "≤ {}"),
        ("minLength", "≥ {} chars"),
        ("maxLength", "≤ {} chars"),
        ("minItems", "≥ {} items"),
        ("maxItems", "≤ {} items"),
        ("default", "default {}"),
    ):
        if key in schema and schema[key] is not None:
            words.append(say.format(schema[key]))
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            words.append(_rules(option))
    return ", ".join(w for w in words if w)


def _rows(
    doc: dict[str, Any], schema: dict[str, Any], prefix: str = "", depth: int = 0
) -> list[Row]:
    schema = _resolve(doc, schema)
    required = set(schema.get("required", []))
    rows: list[Row] = []
    for name, sub in schema.get("properties", {}).items():
        full = f"{prefix}{name}"
        rows.append(
            Row(
                full,
                _type(doc, sub),
                name in required,
                _rules(sub),
                str(sub.get("description", "")),
            )
        )
        target = sub
        if sub.get("type") == "array":
            target = sub.get("items", {})
        options = [o for o in target.get("anyOf", [target]) if "$ref" in o]
        if options and depth < 2:
            rows.extend(_rows(doc, options[0], f"{full}.", depth + 1))
    return rows


def operations(doc: dict[str, Any]) -> dict[str, list[Operation]]:
    """The document's operations by tag, each with its fields flattened for reading."""
    by_tag: dict[str, list[Operation]] = {}
    for path, item in sorted(doc["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            entry = Operation(
                method.upper(),
                path,
                op.get("summary", ""),
                op.get("description", ""),
                bool(op.get("security")),
            )
            for p in op.get("parameters", []):
                entry.parameters.append(
                    Row(
                        f"{p['name']} ({p['in']})",
                        _type(doc, p.get("schema", {})),
                        bool(p.get("required")),
                        _rules(p.get("schema", {})),
                        str(p.get("description", "") or p.get("schema", {}).get("description", "")),
                    )
                )
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                entry.body = _rows(doc, content["schema"])
            for code, answer in sorted(op.get("responses", {}).items()):
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                rows = _rows(doc, schema) if schema and code.startswith("2") else []
                entry.answers.append((code, answer.get("description", ""), rows))
            for tag in op.get("tags") or ["api"]:
                by_tag.setdefault(tag, []).append(entry)
    return by_tag


@bp.get("/docs")
def docs_page() -> str:
    doc = spec.spec
    return render_template("api/docs.html", doc=doc, tags=operations(doc))
