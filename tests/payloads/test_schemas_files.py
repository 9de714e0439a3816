"""The schema files themselves: valid draft 2020-12, open, local references only, complete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.payloads import ENTITY_SCHEMAS, EVENT_SCHEMAS, load_schemas, schema_dir
from conformance.payloads.loader import NOT_PAYLOAD_SCHEMAS, SCHEMA_BASE, strict_variant

REQUIRED_ENTITIES = [
    "Status", "Account", "Field", "CustomEmoji", "MediaAttachment", "Poll", "PreviewCard",
    "Tag", "Mention", "Application", "FilterResult", "Filter", "FilterKeyword", "FilterStatus",
    "Notification", "Conversation", "Announcement", "AnnouncementReaction", "Quote",
    "ShallowQuote", "Role",
]  # fmt: skip


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_schema_dir_is_the_package_data_and_the_top_level_link(repo_root: Path) -> None:
    """One copy of the schemas: ``conformance/schemas``, which ``schemas/`` links to."""
    assert schema_dir() == repo_root / "conformance" / "schemas"
    assert (repo_root / "schemas").is_symlink()
    assert (repo_root / "schemas").resolve() == schema_dir()


def test_every_required_entity_and_event_has_a_schema() -> None:
    schemas = load_schemas()
    for entity in REQUIRED_ENTITIES:
        assert ENTITY_SCHEMAS[entity] in schemas, entity
    for event, file in EVENT_SCHEMAS.items():
        assert file in schemas, event
        assert schemas[file]["x-event"] == event


@pytest.mark.parametrize("name", sorted(load_schemas()))
def test_schema_is_valid_2020_12_with_id(name: str) -> None:
    schema = load_schemas()[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_BASE + name
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(strict_variant(schema))


@pytest.mark.parametrize("name", sorted(load_schemas()))
def test_schema_is_open_and_refs_are_local(name: str) -> None:
    schema = load_schemas()[name]
    for node in _walk(schema):
        assert node.get("additionalProperties") is not False, name
        assert "unevaluatedProperties" not in node, name
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert "://" not in ref, f"{name}: absolute $ref {ref}"
            target = ref.split("#", 1)[0]
            assert target == "" or target in load_schemas(), f"{name}: unknown $ref {ref}"
        if "oneOf" in node:
            pytest.fail(f"{name}: use anyOf (oneOf breaks the strict/open relation)")


def test_strict_variant_closes_objects_but_not_open_ones() -> None:
    strict = strict_variant(load_schemas()["media-attachment.schema.json"])
    assert strict["additionalProperties"] is False
    assert "additionalProperties" not in strict["properties"]["meta"]  # x-open
    assert strict["properties"]["type"]["enum"] == ["unknown", "image", "gifv", "video", "audio"]
    notification = strict_variant(load_schemas()["notification.schema.json"])
    # conditions stay untouched, or `if` would silently stop matching
    assert "additionalProperties" not in notification["allOf"][0]["if"]


def test_files_are_pretty_json_ending_in_newline(repo_root: Path) -> None:
    for path in (repo_root / "schemas").glob("*.schema.json"):
        if path.name in NOT_PAYLOAD_SCHEMAS:
            continue
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path.name
        assert json.loads(text) == load_schemas()[path.name]
