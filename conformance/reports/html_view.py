"""What report.html shows, as plain data for its template (``html.py`` renders it).

Kept apart from the rendering so that building the view needs no jinja2, and so the template
stays a plain layout: every value it prints is computed here. A run has ~1000 cases and a
matrix of ~900 cells, and the page is written on the run's critical path, so the rows are
tuples with the words the template prints (no chains of attribute look-ups per cell), text
derived from a repeated message is computed once per distinct message, and the detail of a case
(findings, evidence, clause) only for the cases whose detail the page shows. Text from the
server (messages, evidence, ids) is shortened and made visible here. The matrix and case rows
are escaped here, once per distinct text (``Escaper``: every str they hold is ``Markup``), and
printed with autoescaping off; everything else is escaped by the template (autoescaping on).
``highlight`` escapes before it marks anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

from markupsafe import Markup, escape

from conformance import __version__
from conformance.findings import Analysis, analyse
from conformance.reports.findings_view import capabilities_view, findings_view
from conformance.reports.json_report import RunInfo
from conformance.verdicts import SEVERITY, SUMMARY_KEYS, Level, Result, Verdict, summarise

__all__ = ["LABELS", "SYMBOLS", "build_view", "highlight", "split_message"]

#: Worst first (``verdicts.SEVERITY``, the suite's one order): the order of the case table and
#: the verdict a matrix cell shows. ``not_exercised`` outranks ``pass`` so it never hides.
PROBLEMS = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.WARN})
LABELS = {
    "pass": "pass",
    "fail": "fail",
    "warn": "warn",
    "info": "info",
    "not_exercised": "not exercised",
    "error": "error",
}
SYMBOLS = {"pass": "", "fail": "F", "warn": "W", "info": "i", "not_exercised": "N", "error": "E"}
#: Verdict words, worst first, and each one's rank in that order.
_WORST_FIRST = tuple(v.value for v in SEVERITY)
_RANK = {word: rank for rank, word in enumerate(_WORST_FIRST)}
#: The plain word of a Verdict or Level member: ``.value`` is a Python-level property, called
#: ~9000 times a page, while a look-up here hashes the member as the str it is.
_WORD = {member: member.value for member in (*Verdict, *Level)}
_TRANSPORT_ORDER = {"sse": 0, "ws": 1, "http": 2}
#: Settings worth showing in the header; credentials are never among them.
_SHOWN_SETTINGS = ("stimulus", "read-only", "strict", "long", "allow-public-posts")
_LEVEL_ORDER = ["MUST", "SHOULD", "MAY", "INFO"]
_MAX_EVIDENCE = 8000
_MAX_SHORT = 180
# C0 controls (except tab/newline/CR) are HTML parse errors or invisible; show them as \xNN.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_AS_TEXT = {c: f"\\x{c:02x}" for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
_EXPECTED = re.compile(r"^(?P<lead>.*?)\bexpected (?P<expected>.*)$", re.S)
_KEYWORDS = re.compile(r"\b(expected|observed)\b")
_NO_TEXT = Markup()


def _visible(text: str) -> str:
    return text if _CONTROLS.search(text) is None else text.translate(_AS_TEXT)


def _short(text: str) -> str:
    text = " ".join(_visible(text).split())
    return text if len(text) <= _MAX_SHORT else text[: _MAX_SHORT - 1] + "…"


def highlight(text: str) -> Markup:
    """Escape first, then mark the words "expected"/"observed": escaped text holds no tags."""
    escaped = str(escape(_visible(text)))
    if "expected" not in escaped and "observed" not in escaped:
        return Markup(escaped)  # most messages: no regex pass
    return Markup(_KEYWORDS.sub(_keyword_html, escaped))


def _keyword_html(match: re.Match[str]) -> str:
    # A function, not r"...\1...": a template is expanded in Python on every match.
    return f'<strong class="kw">{match[1]}</strong>'


def column_key(result: Result) -> str:
    return f"{result.transport or 'other'}-{result.stream or '(none)'}"


class Column(NamedTuple):
    key: str
    transport: str
    stream: str


class Escaper(dict[str, Markup]):
    """``escaper[text]``: ``markupsafe.escape(text)``, computed once per distinct text.

    Why: the case table and the matrix print ~20,000 values, mostly repeats (verdict words,
    requirement ids, columns), and jinja2 escapes each printed value anew (~0.7 us each, half of
    rendering the page). So their rows hold only text escaped here (``Markup``) and the template
    prints those two blocks with autoescaping off; every other block keeps it on. A look-up of a
    text seen before is a plain dict look-up.
    """

    def __missing__(self, text: str) -> Markup:
        done = self[text] = escape(text)
        return done

    def optional(self, text: str | None) -> Markup | None:
        return None if text is None else self[text]


class Cell(NamedTuple):
    """A matrix cell, escaped (``Escaper``)."""

    verdict: Markup
    symbol: Markup
    title: Markup
    href: Markup


class MatrixRow(NamedTuple):
    """A matrix row, escaped (``Escaper``); ``quoted`` is the requirement as a URL fragment."""

    requirement: Markup
    quoted: Markup
    level: Markup
    description: Markup
    worst: Markup
    cells: list[Cell | None]


@dataclass(frozen=True, slots=True)
class Finding:
    """One "<where> expected A; observed B" clause of a message (or a plain clause: no pair)."""

    where: str
    expected: str | None = None
    observed: str | None = None


def split_message(message: str) -> list[Finding]:
    """Judges write ``[where] expected A; observed B`` clauses joined by ``"; "``; an auditor
    reads them best as rows. Returns [] when the message holds no such pair (shown as text)."""
    segments = _visible(message).split("; ")
    findings: list[Finding] = []
    paired = False
    i = 0
    while i < len(segments):
        match = _EXPECTED.match(segments[i])
        follower = segments[i + 1] if i + 1 < len(segments) else ""
        if match and follower.startswith("observed "):
            where = match["lead"].strip()
            findings.append(
                Finding(
                    where=where[:-1].rstrip() if where.endswith(":") else where,
                    expected=match["expected"],
                    observed=follower[len("observed ") :],
                )
            )
            paired = True
            i += 2
        else:
            findings.append(Finding(where=segments[i]))
            i += 1
    return findings if paired else []


class CaseDetail(NamedTuple):
    """What the page shows under a failing, warning or erroring case only; escaped
    (``Escaper``), ``message`` highlighted."""

    message: Markup
    findings: list[Finding]
    evidence: Markup | None
    evidence_truncated: int
    transcript: Markup | None
    transcript_href: Markup | None
    clause: Markup | None
    description: Markup | None


class CaseRow(NamedTuple):
    """One case as the table prints it, escaped (``Escaper``): ``text`` is the message cell (a
    problem's short form, else the highlighted message); ``detail`` is None unless ``problem``."""

    anchor: Markup
    id: Markup
    verdict: Markup
    label: Markup
    level: Markup
    requirement: Markup
    event: Markup | None
    column: Markup
    problem: bool
    short: Markup
    text: Markup
    because: Markup | None
    detail: CaseDetail | None


def _requirement_facts() -> Mapping[str, Any]:
    """The registry for descriptions and clauses; a report still renders without it."""
    try:
        from conformance.requirements import REGISTRY
    except Exception:  # pragma: no cover - the registry is part of the package
        return {}
    return REGISTRY


def _columns(results: list[Result]) -> list[Column]:
    keys = {(r.transport or "other", r.stream or "(none)") for r in results}
    ordered = sorted(keys, key=lambda k: (_TRANSPORT_ORDER.get(k[0], 9), k[0], k[1]))
    return [Column(key=f"{t}-{s}", transport=t, stream=s) for t, s in ordered]


def _cell(
    requirement: str, column: str, counts: Mapping[str, int], href: str, esc: Escaper
) -> Cell:
    if len(counts) == 1:  # most cells: one verdict
        ((worst, count),) = counts.items()
        parts = f"{count} {LABELS[worst]}"
    else:
        present = [word for word in _WORST_FIRST if word in counts]
        parts = ", ".join(f"{counts[word]} {LABELS[word]}" for word in present)
        worst = present[0]
    title = f"{requirement} × {column}: {parts}"
    return Cell(esc[worst], esc[SYMBOLS[worst]], escape(title), escape(href))


def _matrix(
    results: list[Result], columns: list[Column], facts: Mapping[str, Any], esc: Escaper
) -> list[MatrixRow]:
    """One row per requirement, a cell per transport-stream: its verdict counts, worst first."""
    by_requirement: dict[str, dict[str, dict[str, int]]] = {}
    levels: dict[str, str] = {}
    for result in results:
        requirement = result.requirement
        row = by_requirement.get(requirement)
        if row is None:
            row = by_requirement[requirement] = {}
            levels[requirement] = _WORD[result.level]
        counts = row.setdefault(column_key(result), {})
        verdict = _WORD[result.verdict]
        counts[verdict] = counts.get(verdict, 0) + 1
    quoted_columns = [f"&ts={quote(column.key, safe='')}" for column in columns]
    rows = []
    for requirement in sorted(by_requirement):
        row = by_requirement[requirement]
        href = f"req={quote(requirement, safe='')}"
        cells: list[Cell | None] = []
        for column, quoted in zip(columns, quoted_columns, strict=True):
            counts = row.get(column.key)
            cell = _cell(requirement, column.key, counts, href + quoted, esc) if counts else None
            cells.append(cell)
        fact = facts.get(requirement)
        rows.append(
            MatrixRow(
                requirement=esc[requirement],
                quoted=esc[quote(requirement, safe="/")],  # what jinja2's |urlencode writes
                level=esc[fact.level.value if fact is not None else levels[requirement]],
                description=esc[fact.description if fact is not None else ""],
                worst=min((c.verdict for c in cells if c is not None), key=_RANK.__getitem__),
                cells=cells,
            )
        )
    return rows


def _detail(
    result: Result, facts: Mapping[str, Any], links: Mapping[str, str], esc: Escaper
) -> CaseDetail:
    evidence = result.evidence
    truncated = 0
    if evidence is not None and len(evidence) > _MAX_EVIDENCE:
        truncated = len(evidence)
        evidence = evidence[:_MAX_EVIDENCE]
    fact = facts.get(result.requirement)
    return CaseDetail(
        message=highlight(result.message),
        findings=[
            Finding(esc[f.where], esc.optional(f.expected), esc.optional(f.observed))
            for f in split_message(result.message)
        ],
        evidence=escape(_visible(evidence)) if evidence is not None else None,
        evidence_truncated=truncated,
        transcript=esc.optional(result.transcript),
        transcript_href=esc.optional(links.get(result.transcript or "")),
        clause=esc.optional(fact.clause if fact is not None else None),
        description=esc.optional(fact.description if fact is not None else None),
    )


def _cases(
    ordered: list[Result],
    facts: Mapping[str, Any],
    links: Mapping[str, str],
    because: Mapping[str, str],
    esc: Escaper,
) -> list[CaseRow]:
    highlighted: dict[str, Markup] = {}  # messages repeat across streams: once per text
    rows = []
    for index, result in enumerate(ordered):
        verdict = _WORD[result.verdict]
        problem = result.verdict in PROBLEMS
        message = result.message
        short = esc[_short(message)] if problem else _NO_TEXT
        text = short if problem else highlighted.get(message)
        if text is None:
            text = highlighted[message] = highlight(message)
        rows.append(
            CaseRow(
                anchor=Markup(f"case-{index}"),  # digits only: nothing to escape
                id=escape(result.id),  # unique: not worth remembering
                verdict=esc[verdict],
                label=esc[LABELS[verdict]],
                level=esc[_WORD[result.level]],
                requirement=esc[result.requirement],
                event=esc.optional(result.event),
                column=esc[column_key(result)],
                problem=problem,
                short=short,
                text=text,
                because=esc.optional(because.get(result.id)),
                detail=_detail(result, facts, links, esc) if problem else None,
            )
        )
    return rows


def _mode(extra: Mapping[str, Any]) -> str:
    if extra.get("mode") == "replay":
        count = extra.get("transcripts")
        return f"offline replay of {count} saved transcripts" if count else "offline replay"
    if extra.get("embedded"):
        return "live run against the embedded reference server"
    return str(extra.get("mode") or "live run")


def _settings(extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    settings = extra.get("settings")
    if not isinstance(settings, Mapping):
        return []
    shown = []
    for key in _SHOWN_SETTINGS:
        if key in settings and settings[key] is not None:
            value = settings[key]
            shown.append((key, value if isinstance(value, str) else json.dumps(value)))
    return shown


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def _groups(columns: list[Column]) -> list[tuple[str, int]]:
    """The header row above the columns: each transport and how many columns it spans."""
    groups: list[tuple[str, int]] = []
    for column in columns:
        if groups and groups[-1][0] == column.transport:
            groups[-1] = (column.transport, groups[-1][1] + 1)
        else:
            groups.append((column.transport, 1))
    return groups


def _status(counts: Mapping[str, int], total: int, analysis: Analysis) -> tuple[str, str]:
    """The page's overall verdict and the sentence that explains it."""
    if counts["fail"]:
        roots = sum(1 for f in analysis.findings if f.verdict == "fail")
        status, text = (
            "fail",
            f"{counts['fail']} failing case(s) from {roots} root cause(s): not conformant",
        )
    elif counts["error"]:
        status, text = "error", f"{counts['error']} case(s) could not be judged (error)"
    elif counts["warn"]:
        status, text = "warn", f"no failures; {counts['warn']} warning(s)"
    elif not total or counts["not_exercised"] == total:
        status, text = "not_exercised", "nothing was exercised"
    else:
        status, text = "pass", "no failures"
    if status != "not_exercised" and counts["not_exercised"]:
        text += f"; {counts['not_exercised']} case(s) not exercised"
    return status, text


def build_view(
    info: RunInfo,
    results: list[Result],
    *,
    transcript_links: Mapping[str, str] | None = None,
    analysis: Analysis | None = None,
) -> dict[str, Any]:
    """Everything the template shows, computed here so the template stays a plain layout.

    Without an ``analysis`` (no transcripts at hand) findings are derived from the results alone.
    """
    facts = _requirement_facts()
    ordered = sorted(results, key=lambda r: (_RANK[r.verdict], r.id))
    columns = _columns(results)
    counts = summarise(results)
    if analysis is None:
        analysis = analyse(results)
    because = {c.id: c.because for f in analysis.findings for c in f.consequences}
    esc = Escaper()
    cases = _cases(ordered, facts, transcript_links or {}, because, esc)
    anchors = {r.id: c.anchor for r, c in zip(ordered, cases, strict=True)}
    extra = info.extra
    status, status_text = _status(counts, len(results), analysis)
    return {
        "target": info.target,
        "suite_version": str(extra.get("suite_version") or __version__),
        "started_at": info.started_at,
        "duration": _duration(info.duration_s),
        "server_version": extra.get("server_version") or "unknown",
        "mode": _mode(extra),
        "settings": _settings(extra),
        "interrupted": bool(extra.get("interrupted")),
        "session_error": extra.get("session_error"),
        "counts": [(key, LABELS[key], counts[key]) for key in SUMMARY_KEYS],
        "total": len(results),
        "status": status,
        "status_text": status_text,
        "problems": [c for c in cases if c.problem],
        "findings": findings_view(analysis, anchors, labels=LABELS, short=_short, visible=_visible),
        "capabilities": capabilities_view(analysis),
        "columns": columns,
        "groups": _groups(columns),
        "matrix": _matrix(results, columns, facts, esc),
        "cases": cases,
        "levels": sorted({_WORD[r.level] for r in results}, key=_LEVEL_ORDER.index),
        "verdicts": [(v.value, LABELS[v.value]) for v in SEVERITY],
        "symbols": SYMBOLS,
        "labels": LABELS,
    }
