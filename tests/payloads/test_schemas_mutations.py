"""Every schema rejects broken payloads: hypothesis mutates valid examples and expects a fail.

Mutations: drop a required key, give a key a value of a type its schema forbids, null a key that
is not nullable, malform a datetime / date / URI. Each must produce a ``fail`` finding whose
pointer names the mutated key, from both the fast and the detailed path.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payload_examples import all_examples

from conformance.payloads import PayloadValidator, load_schemas

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "captures" / "mastodon-4.8.0-alpha.1"

VALUES_BY_TYPE: dict[str, list[Any]] = {
    "string": ["text", "1"],
    "integer": [7, 0],
    "number": [1.5],
    "boolean": [True, False],
    "array": [[], ["x"]],
    "object": [{}, {"k": "v"}],
    "null": [None],
}


def _root(schema_file: str) -> dict[str, Any]:
    schemas = load_schemas()
    schema = schemas[schema_file]
    while "properties" not in schema and "$ref" in schema:
        schema = schemas[schema["$ref"]]
    return schema


def _types(prop: dict[str, Any]) -> set[str]:
    """The JSON types a property schema admits (following $ref and anyOf)."""
    if "$ref" in prop:
        target = prop["$ref"].split("#", 1)[0]
        if target:
            return _types(_root(target))
    if "anyOf" in prop:
        return set().union(*(_types(branch) for branch in prop["anyOf"]))
    kind = prop.get("type")
    if kind is None:
        return set(VALUES_BY_TYPE)
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "number" in kinds:
        kinds.add("integer")
    return kinds


def _malformed(fmt: str) -> st.SearchStrategy[str]:
    suffix = st.text(alphabet="xyz!", min_size=1, max_size=3)
    if fmt == "date-time":
        fixed = st.sampled_from(
            [
                "2026-11-28 09:30:01.000Z",  # space instead of T
                "2026-11-28T09:30:01.000",  # no offset
                "2026-13-28T09:30:01.000Z",  # month 13
                "2026-11-32T09:30:01.000Z",
                "2026-11-28T25:30:01.000Z",
                "2026-11-28",  # a date is not a datetime
                "1795837800",  # a UNIX timestamp
                "",
            ]
        )
        return st.one_of(fixed, suffix.map(lambda s: "2026-11-28T09:30:01.000Z" + s))
    if fmt == "date":
        return st.sampled_from(
            ["2026-11-28T00:00:00.000Z", "2026-13-01", "28/11/2026", "2026-11-31x", ""]
        )
    return st.one_of(  # uri / iri
        st.sampled_from(["not a url", "http://exa mple.example/", "relative/path", "", "//x"]),
        suffix.map(lambda s: "no scheme " + s),
    )


def _mutations(schema_file: str, example: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, key) pairs applicable to this example."""
    root = _root(schema_file)
    out = [("missing", key) for key in root.get("required", []) if key in example]
    for key, prop in root["properties"].items():
        if key not in example:
            continue
        allowed = _types(prop)
        if set(VALUES_BY_TYPE) - allowed:
            out.append(("wrong-type", key))
        if "null" not in allowed:
            out.append(("null", key))
        if prop.get("format") and isinstance(example[key], str):
            out.append(("format", key))
    return out


def _examples() -> dict[str, list[Any]]:
    examples = all_examples(CAPTURES)
    return {name: items[:3] for name, items in examples.items()}


EXAMPLES = _examples() if CAPTURES.is_dir() else {}
ENTITY_FILES = sorted(name for name in load_schemas() if name in EXAMPLES)


def test_every_entity_schema_has_examples() -> None:
    missing = [
        name for name in load_schemas() if not name.startswith("event-") and name not in EXAMPLES
    ]
    assert missing == []


@pytest.mark.parametrize("schema_file", ENTITY_FILES)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutation_is_rejected(schema_file: str, data: st.DataObject) -> None:
    validator = PayloadValidator.default()
    example = copy.deepcopy(data.draw(st.sampled_from(EXAMPLES[schema_file]), label="example"))
    kind, key = data.draw(st.sampled_from(_mutations(schema_file, example)), label="mutation")
    prop = _root(schema_file)["properties"][key]
    if kind == "missing":
        del example[key]
    elif kind == "null":
        example[key] = None
    elif kind == "wrong-type":
        forbidden = sorted(set(VALUES_BY_TYPE) - _types(prop))
        wrong = data.draw(st.sampled_from(forbidden), label="type")
        example[key] = data.draw(st.sampled_from(VALUES_BY_TYPE[wrong]), label="value")
    else:
        example[key] = data.draw(_malformed(prop["format"]), label="malformed")

    assert not validator.is_valid_fast(schema_file, example)
    assert not validator.is_valid_detailed(schema_file, example)
    findings = validator.check_entity(schema_file, example)
    fails = [f for f in findings if f.severity == "fail"]
    assert fails, findings
    assert any(f.pointer == f"/{key}" or f.pointer.startswith(f"/{key}/") for f in fails), fails
    if kind == "format":
        assert any("format" in f.expected for f in fails), fails


def test_malformed_datetime_is_rejected_by_the_detailed_path() -> None:
    """jsonschema skips formats silently without its optional packages: prove it checks them."""
    validator = PayloadValidator.default()
    field = {"name": "Site", "value": "<a>x</a>", "verified_at": "2026-11-28T09:30:01.000Z"}
    assert validator.is_valid_detailed("field.schema.json", field)
    field["verified_at"] = "2026-11-28 09:30"
    assert not validator.is_valid_detailed("field.schema.json", field)
    assert not validator.is_valid_fast("field.schema.json", field)
    (finding,) = validator.check_entity("Field", field)
    assert (finding.severity, finding.pointer, finding.expected) == (
        "fail",
        "/verified_at",
        "format date-time",
    )
    assert finding.observed == 'string: "2026-11-28 09:30"'


def test_malformed_uri_is_rejected_by_both_paths() -> None:
    validator = PayloadValidator.default()
    tag = {"name": "tulips", "url": "https://mastodon.example/tags/tulips"}
    assert validator.is_valid_detailed("status-tag.schema.json", tag)
    tag["url"] = "mastodon.example/tags/tulips"
    assert not validator.is_valid_detailed("status-tag.schema.json", tag)
    assert not validator.is_valid_fast("status-tag.schema.json", tag)


def test_fast_and_detailed_paths_agree_on_every_example() -> None:
    validator = PayloadValidator.default()
    checked = 0
    for schema_file, items in all_examples(CAPTURES).items():
        for item in items:
            assert validator.is_valid_fast(schema_file, item) is True
            assert validator.is_valid_detailed(schema_file, item) is True
            assert validator.is_documented_fast(schema_file, item) == (
                validator.is_documented_detailed(schema_file, item)
            )
            checked += 1
    assert checked > 300
