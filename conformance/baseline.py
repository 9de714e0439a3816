"""Expected-failure baselines: a target's known non-passing results, kept honest.

A server adopting the suite rarely passes everything on day one. A baseline file lists the
results it is known to miss, each with a reason and an issue link, so CI can gate on *new*
failures without hiding old ones. The verdicts in report.json never change; the baseline only
changes the exit status. As in the OpenID conformance suite, the gate cuts both ways: an entry
that no longer happens (the case passes now, or is not exercised, or no such case exists) is
*stale* and fails the run with exit status 3, so a baseline cannot rot into a blanket waiver.

File format (JSON, or TOML when the name ends in ``.toml``)::

    {"target": "https://example.social", "server_version": "4.3.2",
     "entries": [{"id": "sse.heartbeat.interval[sse-user]", "verdict": "warn",
                  "reason": "proxy buffers comments", "issue": "https://..."}]}

``id`` is a case id or a requirement id, exact or a glob where only ``*`` and ``?`` are wildcards
(case ids contain ``[...]``, which stays literal). ``verdict`` is one of ``fail``, ``warn``,
``error``, ``not_exercised`` or a list of them (default ``["fail", "warn"]``). A bare list of
entries is accepted too. Everything here is pure: results in, classification out.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.errors import ConfigError
from conformance.selection import id_glob, matches_any
from conformance.verdicts import Level, Result, Verdict

__all__ = [
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BaselineOutcome",
    "StaleEntry",
    "compare",
    "load_baseline",
    "parse_baseline",
    "skeleton",
    "write_baseline",
]

#: Verdicts an entry may expect; ``pass`` and ``info`` never need excusing.
EXPECTABLE = frozenset({Verdict.FAIL, Verdict.WARN, Verdict.ERROR, Verdict.NOT_EXERCISED})
DEFAULT_VERDICTS = frozenset({Verdict.FAIL, Verdict.WARN})
#: Verdicts that are labelled ``unexpected`` when no entry covers them.
NON_PASSING = frozenset({Verdict.FAIL, Verdict.WARN, Verdict.ERROR})
_ENTRY_KEYS = frozenset({"id", "verdict", "reason", "issue"})
_TOP_KEYS = frozenset({"target", "server_version", "suite_version", "generated_at", "entries"})


class BaselineError(ConfigError):
    """An unreadable or malformed baseline file (a usage error: exit status 2)."""


@dataclass(frozen=True)
class BaselineEntry:
    """One expected non-passing result (or family of results, for a glob)."""

    id: str
    verdicts: frozenset[Verdict] = DEFAULT_VERDICTS
    reason: str = ""
    issue: str | None = None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return id_glob(self.id)

    def names(self, case_id: str, requirement: str) -> bool:
        return matches_any((self.pattern,), case_id, requirement)

    def expects(self, result: Result) -> bool:
        return result.verdict in self.verdicts and self.names(result.id, result.requirement)

    def to_json(self) -> dict[str, Any]:
        verdicts = sorted(v.value for v in self.verdicts)
        out: dict[str, Any] = {
            "id": self.id,
            "verdict": verdicts[0] if len(verdicts) == 1 else verdicts,
            "reason": self.reason,
        }
        if self.issue:
            out["issue"] = self.issue
        return out


@dataclass(frozen=True)
class Baseline:
    """A parsed baseline file; ``target``/``server_version`` are what it was written for."""

    entries: tuple[BaselineEntry, ...]
    target: str | None = None
    server_version: str | None = None
    source: str | None = None

    def expected_by(self, result: Result) -> BaselineEntry | None:
        """The first entry that expects this result (its id and its verdict), if any."""
        return next((e for e in self.entries if e.expects(result)), None)


def _verdicts(value: Any, where: str) -> frozenset[Verdict]:
    if value is None:
        return DEFAULT_VERDICTS
    words = [value] if isinstance(value, str) else value
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        raise BaselineError(f"{where}: 'verdict' must be a verdict or a non-empty list of them")
    out = set()
    for word in words:
        try:
            verdict = Verdict(word.strip().lower())
        except ValueError:
            verdict = None
        if verdict not in EXPECTABLE:
            allowed = ", ".join(sorted(v.value for v in EXPECTABLE))
            raise BaselineError(f"{where}: verdict {word!r} cannot be expected (use {allowed})")
        out.add(verdict)
    return frozenset(out)


def _optional_text(value: Any, where: str, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BaselineError(f"{where}: {key!r} must be a string")
    return value


def parse_baseline(data: Any, *, source: str | None = None) -> Baseline:
    """Validate decoded JSON/TOML into a Baseline; raises BaselineError naming the bad entry."""
    label = source or "baseline"
    top: Mapping[str, Any] = {}
    if isinstance(data, list):
        raw_entries: Any = data
    elif isinstance(data, dict):
        top = data
        unknown = set(top) - _TOP_KEYS
        if unknown:
            raise BaselineError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
        raw_entries = top.get("entries", [])
    else:
        raise BaselineError(f"{label}: expected an object with 'entries', or a list of entries")
    if not isinstance(raw_entries, list):
        raise BaselineError(f"{label}: 'entries' must be a list")
    entries = []
    for index, raw in enumerate(raw_entries):
        where = f"{label}: entry {index + 1}"
        if not isinstance(raw, dict):
            raise BaselineError(f"{where}: expected an object")
        unknown = set(raw) - _ENTRY_KEYS
        if unknown:
            raise BaselineError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        entry_id = raw.get("id")
        if not isinstance(entry_id, str) or not entry_id.strip():
            raise BaselineError(f"{where}: 'id' (a case id, requirement id or glob) is required")
        entries.append(
            BaselineEntry(
                id=entry_id.strip(),
                verdicts=_verdicts(raw.get("verdict"), where),
                reason=_optional_text(raw.get("reason"), where, "reason") or "",
                issue=_optional_text(raw.get("issue"), where, "issue"),
            )
        )
    return Baseline(
        entries=tuple(entries),
        target=_optional_text(top.get("target"), label, "target"),
        server_version=_optional_text(top.get("server_version"), label, "server_version"),
        source=source,
    )


def load_baseline(path: Path) -> Baseline:
    """Read a JSON or (``*.toml``) TOML baseline file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not valid: {exc}") from None
    return parse_baseline(data, source=str(path))


# -- comparing a run against a baseline ----------------------------------------------------------


@dataclass(frozen=True)
class StaleEntry:
    """An entry that did not happen in this run, and what happened instead."""

    entry: BaselineEntry
    why: str

    def to_json(self) -> dict[str, Any]:
        return {**self.entry.to_json(), "why": self.why}


@dataclass
class BaselineOutcome:
    """How a run's results relate to a baseline.

    ``labels`` holds ``expected`` / ``unexpected`` / ``stale`` per result id (results the
    baseline says nothing about are absent). ``unresolved`` are entries whose cases did not run
    here by choice (``-k``, ``--exclude``) or errored: neither used nor stale.
    """

    baseline: Baseline
    labels: dict[str, str] = field(default_factory=dict)
    expected: list[tuple[Result, BaselineEntry]] = field(default_factory=list)
    unexpected: list[Result] = field(default_factory=list)
    stale: list[StaleEntry] = field(default_factory=list)
    unresolved: list[tuple[BaselineEntry, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def expected_ids(self) -> frozenset[str]:
        return frozenset(r.id for r, _ in self.expected)

    def summary(self) -> dict[str, Any]:
        """The ``baseline`` block of report.json."""
        return {
            "file": self.baseline.source,
            "target": self.baseline.target,
            "server_version": self.baseline.server_version,
            "entries": len(self.baseline.entries),
            "expected": len(self.expected),
            "unexpected": len(self.unexpected),
            "stale": [s.to_json() for s in self.stale],
            "unresolved": [{**e.to_json(), "why": why} for e, why in self.unresolved],
            "notes": list(self.notes),
        }


def _describe(results: Sequence[Result], entry: BaselineEntry) -> str:
    wanted = "/".join(sorted(v.value for v in entry.verdicts))
    seen = sorted({r.verdict.value for r in results})
    if seen == ["pass"]:
        return f"passed now (baseline expects {wanted})"
    if len(results) == 1:
        only = results[0]
        detail = f": {only.message}" if only.verdict is Verdict.NOT_EXERCISED else ""
        return f"{only.verdict.value} now (baseline expects {wanted}){detail}"
    return f"{', '.join(seen)} now across {len(results)} cases (baseline expects {wanted})"


def compare(
    baseline: Baseline,
    results: Sequence[Result],
    *,
    not_run: Iterable[tuple[str, str]] = (),
    server_version: str | None = None,
) -> BaselineOutcome:
    """Classify a run's results against a baseline.

    ``not_run`` lists ``(case id, requirement)`` of planned cases this run chose not to run
    (deselected by ``-k``, excluded): an entry naming only those is unresolved, not stale. An
    entry that names nothing planned at all (a typo, a removed case) is stale.
    """
    outcome = BaselineOutcome(baseline=baseline)
    not_run = list(not_run)
    for result in results:
        entry = baseline.expected_by(result)
        if entry is not None:
            outcome.expected.append((result, entry))
            outcome.labels[result.id] = "expected"
    for entry in baseline.entries:
        named = [r for r in results if entry.names(r.id, r.requirement)]
        if any(entry.expects(r) for r in named):
            continue
        if any(r.verdict is Verdict.ERROR for r in named):
            outcome.unresolved.append((entry, "the case errored: the harness could not tell"))
            continue
        if named:
            outcome.stale.append(StaleEntry(entry, _describe(named, entry)))
            for result in named:
                outcome.labels.setdefault(result.id, "stale")
            continue
        if any(entry.names(cid, req) for cid, req in not_run):
            outcome.unresolved.append((entry, "not selected in this run"))
            continue
        outcome.stale.append(StaleEntry(entry, "did not run: no such case in this run's plan"))
    for result in results:
        if result.verdict in NON_PASSING and outcome.labels.get(result.id) != "expected":
            outcome.unexpected.append(result)
            outcome.labels[result.id] = "unexpected"
    if baseline.server_version and server_version and baseline.server_version != server_version:
        outcome.notes.append(
            f"baseline written for server version {baseline.server_version}, "
            f"target runs {server_version}"
        )
    return outcome


# -- writing a skeleton ---------------------------------------------------------------------------


def skeleton(
    results: Iterable[Result], *, target: str | None, server_version: str | None
) -> dict[str, Any]:
    """A baseline of this run's failing and warning MUST/SHOULD results, reasons left empty.

    Errors are left out on purpose: they are the harness's or the network's problem, to be
    fixed, not expected.
    """
    rows = sorted(
        (
            r
            for r in results
            if r.verdict in (Verdict.FAIL, Verdict.WARN) and r.level in (Level.MUST, Level.SHOULD)
        ),
        key=lambda r: r.id,
    )
    return {
        "target": target,
        "server_version": server_version,
        "suite_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "entries": [
            {"id": r.id, "verdict": r.verdict.value, "reason": "", "issue": ""} for r in rows
        ],
    }


def _toml_value(value: Any) -> str:
    # A JSON string (ASCII-escaped) is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def _to_toml(doc: Mapping[str, Any]) -> str:
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if k != "entries" and v is not None]
    for entry in doc.get("entries", []):
        lines += ["", "[[entries]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def write_baseline(path: Path, doc: Mapping[str, Any]) -> Path:
    """Write a skeleton as JSON, or as TOML when the name ends in ``.toml``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".toml":
        text = _to_toml(doc)
    else:
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
