"""The requirement registry: every rule the suite enforces, kept apart from the code that checks it.

A requirement has a stable, meaningful id (``sse.framing.blank-line-terminates-event``; never a
position or a section number, which churn), a level, and the clause it enforces with its source
kind: ``docs`` (mastodon/documentation), ``code`` (``streaming/index.js:LINE``), ``capture``
(``captures/<version>/<file>``), ``spec`` (WHATWG SSE, RFC 6455) or ``client`` (what a named
client breaks without). Area modules in this package each define their requirements with
``define(...)``; importing the package loads them all, so ``REGISTRY`` is complete.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass

from conformance.verdicts import Level

_ID = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)+$")
SOURCES = frozenset({"docs", "code", "capture", "spec", "client"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One enforceable rule. ``clause`` cites where it comes from; ``description`` is one line."""

    id: str
    level: Level
    source: str
    clause: str
    description: str
    level_reason: str | None = None  # why this level, where it was decided by harm (levels.py)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"requirement id {self.id!r} is not a dotted lower-case slug")
        if self.source not in SOURCES:
            raise ValueError(f"requirement {self.id}: source must be one of {sorted(SOURCES)}")


REGISTRY: dict[str, Requirement] = {}


def define(
    id: str, level: Level | str, *, source: str, clause: str, description: str
) -> Requirement:
    """Register a requirement; a duplicate id is a programming error, caught at import."""
    if id in REGISTRY:
        raise ValueError(f"requirement {id} defined twice")
    requirement = Requirement(
        id=id, level=Level(level), source=source, clause=clause, description=description
    )
    REGISTRY[id] = requirement
    return requirement


def get(requirement_id: str) -> Requirement:
    return REGISTRY[requirement_id]


def level_of(requirement_id: str) -> Level:
    """The registered level of a requirement id (MUST for an unknown id: never understate)."""
    found = REGISTRY.get(requirement_id)
    return found.level if found is not None else Level.MUST


def _load_areas() -> None:
    from dataclasses import replace

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    from conformance.requirements.levels import LEVEL_REASONS

    for requirement_id, reason in LEVEL_REASONS.items():
        REGISTRY[requirement_id] = replace(REGISTRY[requirement_id], level_reason=reason)


_load_areas()

__all__ = ["REGISTRY", "Requirement", "define", "get", "level_of"]
