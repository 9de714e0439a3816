"""Fixtures for the transport self-tests: the transcript schema validator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance.transcript.model import Transcript


@pytest.fixture(scope="session")
def transcript_validator(repo_root: Path) -> Draft202012Validator:
    schema = json.loads((repo_root / "schemas" / "transcript.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture
def assert_schema_valid(
    transcript_validator: Draft202012Validator,
) -> Callable[[Transcript], None]:
    def check(transcript: Transcript) -> None:
        for line in transcript.dumps().splitlines():
            errors = list(transcript_validator.iter_errors(json.loads(line)))
            assert not errors, f"{errors[0].message} in {line[:200]}"

    return check
