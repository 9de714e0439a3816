"""The compiled validators of each schema, built on first use and then kept.

Each schema has four validators: fast (jsonschema-rs) or detailed (``jsonschema``), against
the open schema or its strict variant. Nothing is built when this module is imported, nor when
a ``SchemaSet`` is created: a schema's fast validators are compiled the first time a payload of
that schema is checked, its detailed ones only when a fast one says the payload is not clean,
and the schema libraries themselves are imported then. A command that judges no payload (``list``,
a run of HTTP cases only) pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from conformance.payloads.loader import build_registry, schema_uri, strict_variant

if TYPE_CHECKING:
    import jsonschema_rs
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry


def _refuse_retrieval(uri: str) -> Any:
    raise LookupError(f"schema {uri} is not in the local registry (network fetches are refused)")


def rs_registry(schemas: Mapping[str, dict[str, Any]]) -> jsonschema_rs.Registry:
    """A jsonschema-rs registry of the given schemas that refuses any network retrieval."""
    import jsonschema_rs

    return jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in schemas.values()], retriever=_refuse_retrieval
    )


class SchemaSet:
    """The schemas, their strict variants and registries, each derived on first need."""

    def __init__(self, schemas: Mapping[str, dict[str, Any]]) -> None:
        self.schemas: dict[str, dict[str, Any]] = dict(schemas)
        self._targets: dict[str, Target] = {}

    def target(self, name: str) -> Target:
        """The validators of one schema file (KeyError for an unknown one)."""
        found = self._targets.get(name)
        if found is None:
            if name not in self.schemas:
                raise KeyError(name)
            found = self._targets[name] = Target(self, name)
        return found

    def title(self, name: str) -> str:
        """The entity name used in messages; an event schema takes its referenced entity's."""
        schema = self.schemas[name]
        referenced = str(schema.get("$ref", ""))
        if referenced in self.schemas:
            return self.title(referenced)
        return str(schema.get("x-entity") or schema.get("title") or name)

    @cached_property
    def strict(self) -> dict[str, dict[str, Any]]:
        return {name: strict_variant(schema) for name, schema in self.schemas.items()}

    @cached_property
    def rs_open(self) -> jsonschema_rs.Registry:
        return rs_registry(self.schemas)

    @cached_property
    def rs_strict(self) -> jsonschema_rs.Registry:
        return rs_registry(self.strict)

    @cached_property
    def detail_open_registry(self) -> Registry:
        return build_registry(self.schemas)

    @cached_property
    def detail_strict_registry(self) -> Registry:
        return build_registry(self.strict)

    @cached_property
    def checker(self) -> FormatChecker:
        from conformance.payloads.formats import format_checker

        return format_checker()


class Target:
    """The four validators of one schema: fast/detailed x open/strict, each compiled lazily."""

    def __init__(self, owner: SchemaSet, name: str) -> None:
        self._owner = owner
        self.name = name
        self._root = {"$ref": schema_uri(name)}

    @cached_property
    def title(self) -> str:
        return self._owner.title(self.name)

    @cached_property
    def fast_open(self) -> Any:
        return _fast(self._root, self._owner.rs_open)

    @cached_property
    def fast_strict(self) -> Any:
        return _fast(self._root, self._owner.rs_strict)

    @cached_property
    def detail_open(self) -> Draft202012Validator:
        return _detail(self._root, self._owner.detail_open_registry, self._owner.checker)

    @cached_property
    def detail_strict(self) -> Draft202012Validator:
        return _detail(self._root, self._owner.detail_strict_registry, self._owner.checker)


def _fast(schema: dict[str, Any], registry: jsonschema_rs.Registry) -> Any:
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(
        schema,
        registry=registry,
        validate_formats=True,
        ignore_unknown_formats=False,
        offline=True,
    )


def _detail(
    schema: dict[str, Any], registry: Registry, checker: FormatChecker
) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, registry=registry, format_checker=checker)
