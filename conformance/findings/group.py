"""Group a run's results into findings: one per requirement id and root cause.

Pure: ``analyse(results, transcripts)`` reads the Results, the transcripts' structured data
(context, response status, end record) and nothing else; never a message's wording. Order of
attribution, for every case that is not a pass:

1. **Capability.** A transport none of whose stream connections was answered (every SSE path
   404, every upgrade refused) is one finding at the level of the requirement it breaks
   (``http.sse.status-200`` / ``ws.handshake.refused-status-401``); a single stream a transport
   does not offer is one finding likewise. Every case on those connections is *blocked by* it,
   whatever its verdict: the judges' verdicts stay as they are in ``results`` (so the exit
   status still reflects the missing MUST transport), but such cases are listed under the
   capability finding and never as failures of their own, passes included (a refusal check
   that "passed" because a 404 is a 4xx proves nothing).
2. **Named cause.** ``Result.cause`` (set by a judge that knows, e.g. the delivery judge: a
   case id or requirement id) wins when present.
3. **Structural cause.** A failing root requirement on the same transcript (``rules.RULES``,
   lowest layer first) explains the case.
4. Otherwise the case is a root itself: its finding is its requirement id.

``not_exercised`` cases join a finding only through 1-3 (a cut stream leaves its framing checks
unexercised); the rest are summed by reason for the reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from conformance.findings.capabilities import detect_capabilities, is_transport_transcript
from conformance.findings.model import (
    YES,
    Analysis,
    Availability,
    Capabilities,
    Consequence,
    Evidence,
    Finding,
)
from conformance.findings.rules import RULES, Rule, explains
from conformance.transcript.model import Transcript
from conformance.verdicts import SEVERITY, Result, Verdict

__all__ = ["analyse"]

PROBLEMS = frozenset({Verdict.FAIL, Verdict.WARN, Verdict.ERROR})
#: verdict word -> rank, worst first: the suite's one order (``verdicts.SEVERITY``).
_RANK = {v.value: n for n, v in enumerate(SEVERITY)}
_LEVEL_RANK = {"MUST": 0, "SHOULD": 1, "MAY": 2, "INFO": 3}
_TRANSPORT_NAME = {"sse": "SSE", "ws": "WebSocket"}
_TRANSPORT_REQUIREMENT = {"sse": "http.sse.status-200", "ws": "ws.handshake.refused-status-401"}
_ABNORMAL_ENDS = frozenset({"incomplete", "reset", "eof", "error"})


def _level(requirement: str, fallback: str) -> str:
    try:
        from conformance.requirements import REGISTRY
    except ImportError:  # pragma: no cover - the registry is part of the package
        return fallback
    found = REGISTRY.get(requirement)
    return found.level.value if found is not None else fallback


def _description(requirement: str) -> str:
    try:
        from conformance.requirements import REGISTRY
    except ImportError:  # pragma: no cover
        return requirement
    found = REGISTRY.get(requirement)
    return found.description if found is not None else requirement


@dataclass
class _Group:
    key: str
    kind: str
    requirement: str
    title: str
    level: str
    roots: list[Result] = field(default_factory=list)
    consequences: list[Consequence] = field(default_factory=list)
    transports: set[str] = field(default_factory=set)
    streams: set[str] = field(default_factory=set)


def _capability_groups(
    results: list[Result], transcripts: Mapping[str, Transcript], caps: Capabilities
) -> tuple[list[_Group], dict[str, _Group], dict[str, str]]:
    """Groups for transports / streams not offered, and which case each one blocks."""
    groups: list[_Group] = []
    blocked: dict[str, _Group] = {}
    because: dict[str, str] = {}
    missing_transport: dict[str, Availability] = {
        t: a for t, a in caps.transports.items() if a.state != YES and a.state != "unknown"
    }
    for transport, availability in missing_transport.items():
        name = _TRANSPORT_NAME.get(transport, transport)
        text = (
            f"{name} transport not offered (every stream answered {availability.status})"
            if availability.state == "no"
            else f"{name} transport refused ({availability.detail} on every stream)"
        )
        requirement = _TRANSPORT_REQUIREMENT.get(transport, transport)
        group = _Group(
            f"capability:{transport}",
            "capability",
            requirement,
            text,
            _level(requirement, "MUST"),
            transports={transport},
        )
        groups.append(group)
        tids = {
            tid
            for tid, t in transcripts.items()
            if is_transport_transcript(t, transport) and _same_answer(t, availability)
        }
        for result in results:
            on_it = result.transcript in tids if result.transcript else False
            if on_it or (result.transcript not in transcripts and result.transport == transport):
                blocked[result.id] = group
                because[result.id] = f"blocked by: {text}"
    for stream, cells in caps.streams.items():
        for transport, availability in cells.items():
            if availability.state in (YES, "unknown") or transport in missing_transport:
                continue
            name = _TRANSPORT_NAME.get(transport, transport)
            verb = "not offered" if availability.state == "no" else "refused"
            text = f"{name} stream {stream} {verb} ({availability.detail})"
            requirement = _TRANSPORT_REQUIREMENT.get(transport, transport)
            group = _Group(
                f"capability:{transport}:{stream}",
                "capability",
                requirement,
                text,
                _level(requirement, "MUST"),
                transports={transport},
                streams={stream},
            )
            groups.append(group)
            tids = set(availability.transcripts)
            for result in results:
                if result.id in blocked:
                    continue
                same = result.transport == transport and result.stream == stream
                if result.transcript in tids or (same and result.transcript not in transcripts):
                    blocked[result.id] = group
                    because[result.id] = f"blocked by: {text}"
    return groups, blocked, because


def _same_answer(transcript: Transcript, availability: Availability) -> bool:
    """A refusal probe on a missing transport is blocked only if it got the same answer as the
    streams (a 404 everywhere proves nothing about token checks; a 401 among 403s does)."""
    if transcript.meta.context.get("purpose") != "error":
        return True
    head = transcript.head
    return head is None or head.fields.get("status") == availability.status


def _cut_time(transcript: Transcript | None) -> float | None:
    if transcript is None:
        return None
    end = transcript.end
    if end is not None and end.fields.get("how") in _ABNORMAL_ENDS:
        return end.t
    return None


def _structural_root(
    result: Result, roots_by_transcript: Mapping[str, list[Result]]
) -> tuple[Result, Rule] | None:
    """The lowest-layer failing root on the result's transcript whose rule explains it."""
    if not result.transcript:
        return None
    candidates = {r.requirement: r for r in roots_by_transcript.get(result.transcript, [])}
    elsewhere = {r.requirement: r for roots in roots_by_transcript.values() for r in roots}
    for rule in RULES:
        root = candidates.get(rule.root) or (elsewhere.get(rule.root) if rule.anywhere else None)
        unexercised = result.verdict is Verdict.NOT_EXERCISED
        if (
            root is not None
            and root.id != result.id
            and explains(rule, result.requirement, unexercised=unexercised)
        ):
            return root, rule
    return None


def _because(root: Result, rule: Rule | None, transcripts: Mapping[str, Transcript]) -> str:
    where = root.transcript or f"{root.transport}-{root.stream}"
    text = f"explained by `{root.requirement}` on {where}"
    if rule is not None and rule.timed:
        t = _cut_time(transcripts.get(root.transcript or ""))
        if t is not None:
            text += f" at t={t:.1f} s"
    return text


def _first_evidence(roots: list[Result], transcripts: Mapping[str, Transcript]) -> Evidence | None:
    def started(result: Result) -> tuple[str, str]:
        meta = transcripts.get(result.transcript or "")
        return ((meta.meta.started_at or "") if meta else "~", result.id)

    ordered = sorted(roots, key=lambda r: (r.evidence is None, started(r)))
    if not ordered:
        return None
    first = ordered[0]
    return Evidence(
        case=first.id,
        transcript=first.transcript,
        t=_cut_time(transcripts.get(first.transcript or "")),
        message=first.message,
        evidence=first.evidence,
    )


def analyse(results: Iterable[Result], transcripts: Iterable[Transcript] = ()) -> Analysis:
    """Findings, capabilities and the case -> finding map of one run (pure)."""
    results = list(results)
    by_tid = {t.meta.id: t for t in transcripts}
    caps = detect_capabilities(by_tid.values())
    cap_groups, blocked, blocked_because = _capability_groups(results, by_tid, caps)
    by_id = {r.id: r for r in results}
    problems = [r for r in results if r.verdict in PROBLEMS and r.id not in blocked]
    roots_by_transcript: dict[str, list[Result]] = {}
    for result in problems:
        if result.transcript:
            roots_by_transcript.setdefault(result.transcript, []).append(result)

    def cause_of(result: Result) -> tuple[Result | None, str | None, str] | None:
        """(root result or None, root requirement, because) for a consequence; None: a root."""
        if result.cause:
            named = by_id.get(result.cause)
            if named is not None and named.id != result.id:
                return named, named.requirement, _because(named, None, by_tid)
            same = [r for r in roots_by_transcript.get(result.transcript or "", [])]
            named = next((r for r in same if r.requirement == result.cause), None)
            if named is None:
                named = next((r for r in problems if r.requirement == result.cause), None)
            if named is not None and named.id != result.id:
                return named, named.requirement, _because(named, None, by_tid)
            if result.cause != result.requirement:
                return None, result.cause, f"explained by `{result.cause}`"
        found = _structural_root(result, roots_by_transcript)
        if found is not None:
            root, rule = found
            return root, root.requirement, _because(root, rule, by_tid)
        return None

    def final_root(result: Result) -> tuple[str, str | None, Result | None]:
        """Follow causes down to a root: (finding key, because, the root result)."""
        because: str | None = None
        current, seen = result, {result.id}
        while True:
            step = cause_of(current)
            if step is None:
                return current.requirement, because, current
            root, requirement, text = step
            because = because or text
            if root is None or root.id in seen or root.id in blocked:
                if root is not None and root.id in blocked:
                    return blocked[root.id].key, because, None
                return str(requirement), because, root
            seen.add(root.id)
            current = root

    groups: dict[str, _Group] = {g.key: g for g in cap_groups}
    by_case: dict[str, str] = {}
    for result in results:
        if result.id in blocked:
            group = blocked[result.id]
            group.consequences.append(
                Consequence(
                    result.id, result.requirement, result.verdict.value, blocked_because[result.id]
                )
            )
            if result.stream:
                group.streams.add(result.stream)
            by_case[result.id] = group.key
            continue
        if result.verdict not in PROBLEMS and result.verdict is not Verdict.NOT_EXERCISED:
            continue
        key, because, _ = final_root(result)
        if because is None and result.verdict is Verdict.NOT_EXERCISED:
            continue  # not exercised for its own reason: summed by reason, not a finding
        group = groups.get(key)
        if group is None:
            requirement = key
            group = _Group(
                key,
                "requirement",
                requirement,
                _description(requirement),
                _level(requirement, result.level.value),
            )
            groups[key] = group
        if because is None:
            group.roots.append(result)
            if result.transport:
                group.transports.add(result.transport)
            if result.stream:
                group.streams.add(result.stream)
        else:
            group.consequences.append(
                Consequence(result.id, result.requirement, result.verdict.value, because)
            )
        by_case[result.id] = group.key
    findings = [_finish(g, by_tid, by_id) for g in groups.values()]
    findings = [f for f in findings if f.verdict != "none"]
    findings.sort(key=_order)
    live = {f.id for f in findings}
    by_case = {cid: key for cid, key in by_case.items() if key in live}
    reasons = Counter(
        r.message for r in results if r.verdict is Verdict.NOT_EXERCISED and r.id not in by_case
    )
    return Analysis(
        findings=tuple(findings),
        capabilities=caps,
        by_case=by_case,
        not_exercised=tuple(reasons.most_common()),
    )


def _finish(
    group: _Group, transcripts: Mapping[str, Transcript], by_id: Mapping[str, Result]
) -> Finding:
    first = _first_evidence(group.roots, transcripts)
    if group.kind == "capability":
        own = [
            by_id[c.id]
            for c in group.consequences
            if c.requirement == group.requirement and c.verdict in ("fail", "warn")
        ]
        first = _first_evidence(own, transcripts)
        verdict = "fail" if group.level == "MUST" else "warn" if group.level == "SHOULD" else "info"
    elif group.roots:
        verdict = min((r.verdict.value for r in group.roots), key=_RANK.__getitem__)
    elif group.consequences:
        # A named cause with no failing case of its own: the worst consequence stands for it.
        worst = min((c.verdict for c in group.consequences), key=_RANK.__getitem__)
        verdict = worst if worst in ("fail", "warn", "error") else "none"
    else:
        verdict = "none"
    return Finding(
        id=group.key,
        kind=group.kind,
        requirement=group.requirement,
        level=group.level,
        verdict=verdict,
        title=group.title,
        cases=tuple(sorted(r.id for r in group.roots)),
        transports=tuple(sorted(group.transports)),
        streams=tuple(sorted(group.streams)),
        first=first,
        consequences=tuple(sorted(group.consequences, key=lambda c: (c.requirement, c.id))),
    )


def _order(finding: Finding) -> tuple[int, int, int, int, str]:
    return (
        _RANK.get(finding.verdict, 9),
        0 if finding.kind == "capability" else 1,
        _LEVEL_RANK.get(finding.level, 9),
        -(len(finding.cases) + len(finding.consequences)),
        finding.id,
    )
