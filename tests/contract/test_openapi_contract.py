"""Schemathesis against /api/v1/openapi.json: requests made from the document (ones that fit
it and ones that break it), sent to the app in process with a merchant's key. Every answer must
be no 5xx, a status the document lists, of the content type it names, with a body its schema
allows; a request that breaks the schema must be refused. (A request that fits the schema may
still be refused: the schema cannot know which post codes Dhaka has or whose parcel an id is,
so schemathesis' "schema-valid data is accepted" check is left out.) Runs on whichever database the suite
runs on (SQLite, and PostgreSQL in .ci/run)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import DEMO_KEY

EXAMPLES = 25


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_its_document(app: Flask, mode: GenerationMode) -> None:
    app.config["API_RATE_LIMIT"] = "100000/minute"  # the limits have their own tests
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    unbreakable: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {DEMO_KEY}", "Accept-Language": "en"},
                excluded_checks=[positive_data_acceptance],
            )

        try:
            check()
        except Unsatisfiable:
            # Nothing in this operation can be broken (no body, no typed parameter).
            assert mode is GenerationMode.NEGATIVE, operation.label
            unbreakable.append(operation.label)
    assert len(unbreakable) < len(operations) / 2, unbreakable
