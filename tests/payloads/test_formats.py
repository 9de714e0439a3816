"""The explicit format checkers: they reject what RFC 3339 / 3986 / 3987 reject, agree with the
compiled fast path, and keep every command's start cheap (no grammar is built, nothing compiled
before a payload is judged)."""

from __future__ import annotations

import subprocess
import sys

import jsonschema_rs
import pytest
from timing import scaled

from conformance.payloads import PayloadValidator
from conformance.payloads.formats import FORMATS, format_checker

VALID = {
    "date-time": [
        "2026-11-28T09:30:01.000Z",
        "2026-11-28T09:30:01Z",
        "2026-11-28T09:30:01+02:00",
        "2026-11-28t09:30:01.5z",
    ],
    "date": ["2026-11-28", "2024-02-29"],
    "uri": [
        "https://mastodon.example/@alice",
        "https://mastodon.example/tags/tulips?x=1#top",
        "mailto:alice@example.com",
        "https://mastodon.example/%E6%97%A5%E6%9C%AC",
    ],
    "iri": [
        "https://mastodon.example/@alice",
        "https://mastodon.example/tags/日本語",
        "https://bücher.example/",
    ],
}
INVALID = {
    "date-time": [
        "2026-11-28 09:30",
        "2026-11-28T09:30:01",
        "2026-13-28T09:30:01Z",
        "2026-11-28T25:30:01Z",
        "28/11/2026",
        "",
    ],
    "date": ["2026-11-28T09:30:01Z", "2026-02-30", "2026-1-28", "20261128", "２０２６-11-28"],
    "uri": [
        "mastodon.example/tags/tulips",
        "/relative/path",
        "https://mastodon.example/a b",
        "https://mastodon.example/日本",
        "",
    ],
    "iri": ["mastodon.example/日本", "/tags/日本", "https://mastodon.example/a b", ""],
}
CASES = [(name, text, True) for name, texts in VALID.items() for text in texts] + [
    (name, text, False) for name, texts in INVALID.items() for text in texts
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_checker_verdict(name: str, text: str, expected: bool) -> None:
    assert FORMATS[name](text) is expected


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_jsonschema_checker_holds_the_same_verdict(name: str, text: str, expected: bool) -> None:
    assert format_checker().conforms(text, name) is expected
    assert format_checker().conforms(12, name)  # non-strings are the `type` keyword's job


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_compiled_fast_path_agrees(name: str, text: str, expected: bool) -> None:
    fast = jsonschema_rs.Draft202012Validator(
        {"type": "string", "format": name}, validate_formats=True, ignore_unknown_formats=False
    )
    assert fast.is_valid(text) is expected


def test_the_checker_knows_exactly_the_formats_the_schemas_use() -> None:
    used: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                used.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    from conformance.payloads import load_schemas

    walk(dict(load_schemas()))
    assert used == set(FORMATS)
    assert set(format_checker().checkers) == set(FORMATS)


def test_validator_compiles_nothing_until_a_payload_is_judged() -> None:
    from conformance.payloads import load_schemas

    validator = PayloadValidator(load_schemas())
    assert validator._set._targets == {}
    assert validator.check_entity("Field", {"name": "a", "value": "b", "verified_at": None}) == []
    assert list(validator._set._targets) == ["field.schema.json"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=scaled(60),
    )
    return set(out.stdout.split())


def test_light_imports_load_no_schema_library() -> None:
    """``list`` and the judges' imports must not pay for a validator nobody asked for."""
    loaded = _modules_after(
        "import conformance.payloads.events, conformance.replay, conformance.cli"
    )
    assert not {"jsonschema", "jsonschema_rs", "referencing"} & loaded


def test_judging_a_bad_payload_builds_no_grammar() -> None:
    """The detailed path imports jsonschema, but never rfc3987-syntax's lark grammars."""
    loaded = _modules_after(
        "from conformance.payloads import PayloadValidator\n"
        "findings = PayloadValidator.default().check_entity('Field', "
        "{'name': 'a', 'value': 'b', 'verified_at': 'yesterday'})\n"
        "assert [f.expected for f in findings] == ['format date-time'], findings"
    )
    assert "jsonschema" in loaded
    assert not {"rfc3987_syntax", "lark", "rfc3987"} & loaded
