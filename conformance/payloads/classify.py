"""Turn ``jsonschema`` errors into findings: which are failures, which are only extensions.

Errors against the *open* schema (the published one) are ``fail`` findings, except a missing
key the schema marks ``x-added`` with a version newer than the server's, which is ``warn``.
Errors that only the strict variant raises are undocumented keys (``info``) and unknown enum
values (``warn``): servers add extensions, so these never fail.

Only runs when the compiled fast path already said a payload is not clean, so nothing here is
on the hot path; it never imports ``jsonschema`` itself (the errors come in as arguments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.payloads.findings import SchemaFinding, json_type, pointer, show, where
from conformance.payloads.loader import ADDED
from conformance.payloads.versions import added_after

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_SOFT_KEYWORDS = frozenset({"additionalProperties", "unevaluatedProperties", "enum"})
_BRANCH_KEYWORDS = frozenset({"anyOf", "oneOf"})


def _branches(error: ValidationError) -> dict[int, list[ValidationError]]:
    grouped: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        index = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        grouped.setdefault(int(index), []).append(sub)
    return grouped


def soft_leaves(error: ValidationError) -> list[ValidationError] | None:
    """The undocumented-key / unknown-value errors that alone explain ``error``, else None."""
    if error.validator in _SOFT_KEYWORDS:
        return [error]
    if error.validator in _BRANCH_KEYWORDS:
        for _, errors in sorted(_branches(error).items()):
            leaves: list[ValidationError] = []
            for sub in errors:
                found = soft_leaves(sub)
                if found is None:
                    break
                leaves.extend(found)
            else:
                return leaves
    return None


def _is_wrong_branch(error: ValidationError, parent_depth: int) -> bool:
    return error.validator in ("type", "const", "enum") and len(error.absolute_path) == parent_depth


def hard_leaves(error: ValidationError) -> list[ValidationError]:
    """Descend through anyOf/oneOf into the branch that best fits the instance."""
    if error.validator not in _BRANCH_KEYWORDS:
        return [error]
    depth = len(error.absolute_path)
    candidates = [
        errors
        for _, errors in sorted(_branches(error).items())
        if not any(_is_wrong_branch(sub, depth) for sub in errors)
    ]
    if not candidates:
        return [error]
    best = min(candidates, key=len)
    leaves: list[ValidationError] = []
    for sub in best:
        leaves.extend(hard_leaves(sub))
    return leaves


def _expected(error: ValidationError) -> str:
    validator = error.validator
    value = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "type":
        return " or ".join(value) if isinstance(value, list) else str(value)
    if validator == "format":
        return f"format {value}"
    if validator in ("anyOf", "oneOf"):
        options = []
        for sub in value:
            if isinstance(sub, dict):
                options.append(str(sub.get("$ref") or sub.get("type") or "schema"))
        return "one of: " + ", ".join(options)
    if validator == "enum":
        return "one of " + ", ".join(show(item) for item in value)
    if validator == "false":
        return "nothing (forbidden)"
    detail = schema.get("title")
    return f"{validator} {show(value)}" + (f" ({detail})" if detail else "")


def hard_finding(
    title: str, error: ValidationError, server_version: str | None
) -> list[SchemaFinding]:
    """Findings for one open-schema error leaf (``fail``, or ``warn`` for a newer key)."""
    at = pointer(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        properties = schema.get("properties", {})
        findings = []
        for key in error.validator_value:
            if key in error.instance:
                continue
            key_pointer = f"{at}/{key}"
            added = properties.get(key, {}).get(ADDED) if isinstance(properties, dict) else None
            if added and added_after(added, server_version):
                findings.append(
                    SchemaFinding(
                        "warn",
                        key_pointer,
                        f"key {key!r} (added in Mastodon {added})",
                        "absent",
                        f"{title} {where(at)}: missing {key!r}, added in Mastodon {added} "
                        f"(newer than the server's {server_version})",
                    )
                )
            else:
                findings.append(
                    SchemaFinding(
                        "fail",
                        key_pointer,
                        f"key {key!r}",
                        "absent",
                        f"{title} {where(at)}: missing required key {key!r}",
                    )
                )
        return findings
    observed = f"{json_type(error.instance)}: {show(error.instance)}"
    return [
        SchemaFinding(
            "fail",
            at,
            _expected(error),
            observed,
            f"{title} {where(at)}: {error.message}",
        )
    ]


def soft_finding(error: ValidationError) -> list[SchemaFinding]:
    """Findings for one strict-only error leaf: an unknown value or undocumented keys."""
    at = pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "enum":
        return [
            SchemaFinding(
                "warn",
                at,
                _expected(error),
                show(error.instance),
                f"{where(at)}: undocumented value {show(error.instance)} "
                "(servers may add values; not a failure)",
            )
        ]
    known = set(schema.get("properties", {}))
    owner = schema.get("title") or "object"
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [
        SchemaFinding(
            "info",
            f"{at}/{key}",
            f"a documented key of {owner}",
            f"key {key!r}",
            f"{where(at)}: undocumented key {key!r} (extension; not judged)",
        )
        for key in instance
        if key not in known
    ]
