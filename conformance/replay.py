"""Re-judge saved transcripts offline: a run's report directory, one transcript file, or the
recorded Mastodon captures. No network: what needed a live stimulus is ``not_exercised``.

Captures carry no expectations of their own (nobody wrote down "this request must be refused"),
so for them the expected refusal is derived here from the *request* and from the fixture facts
documented in the captures' INDEX.md (which token is unknown, revoked, scoped; who owns which
list) -- the table below -- exactly as a live case would have set ``expect_status`` and
``expect_error`` before connecting. Nothing is derived from the response being judged.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.errors import ConformanceError, StimulusLogError
from conformance.judge import judge_run
from conformance.judge.context import KNOWN_STREAMS
from conformance.matrix.run_context import RunContext
from conformance.matrix.stimulus_log import STIMULI_ID, read_saved_run
from conformance.observations import fold_run
from conformance.redact import Redactor
from conformance.reports.json_report import RunInfo
from conformance.reports.run_reports import redact_result, write_judged_reports
from conformance.reports.summary import EXIT_ERROR, exit_status
from conformance.transcript.model import Meta, Transcript, read_transcripts
from conformance.transcript.reading import (
    TranscriptFormatError,
    iter_json_lines,
    need_regular_file,
)
from conformance.verdicts import Result, summarise

EXIT_UNREADABLE = EXIT_ERROR
_CAPTURE_RECORD_KINDS = frozenset(
    {
        "tcp-connect",
        "send-bytes",
        "recv-bytes",
        "redis-publish",
        "redis-state",
        "eof",
        "client-close",
    }
)

# -- fixture facts of captures/mastodon-*/ (INDEX.md "Fixture names"; sse-err-*, ws-0x) ---------

_READ_ALL = frozenset({"read", "write", "follow", "push"})
#: token name -> (owner account, scopes); absent names and None owners are invalid tokens
#: (unknown, revoked, disabled user, suspended account).
CAPTURE_TOKENS: dict[str, tuple[str | None, frozenset[str]]] = {
    "aliceTokenReadWriteFollowPush0000000000001": ("alice", _READ_ALL),
    "bobTokenReadWriteFollowPush000000000000002": ("bob", _READ_ALL),
    "aliceTokenReadStatusesOnly00000000000000003": ("alice", frozenset({"read:statuses"})),
    "aliceTokenReadNotificationsOnly00000000004": ("alice", frozenset({"read:notifications"})),
    "aliceTokenProfileOnly0000000000000000000005": ("alice", frozenset({"profile"})),
    "aliceTokenRevoked0000000000000000000000006": (None, frozenset()),
    "doraTokenDisabledUser000000000000000000007": (None, frozenset()),
    "eveTokenSuspendedAccount0000000000000000008": (None, frozenset()),
    "modminTokenViewFeeds000000000000000000000009": ("modmin", _READ_ALL),
    "aliceTokenWriteOnly0000000000000000000000010": ("alice", frozenset({"write"})),
}
#: list id -> owner (alice owns list 1, bob list 2).
CAPTURE_LISTS = {"1": "alice", "2": "bob"}

_SSE_STREAMS = {
    "/api/v1/streaming/user": "user",
    "/api/v1/streaming/user/notification": "user:notification",
    "/api/v1/streaming/public": "public",
    "/api/v1/streaming/public/local": "public:local",
    "/api/v1/streaming/public/remote": "public:remote",
    "/api/v1/streaming/hashtag": "hashtag",
    "/api/v1/streaming/hashtag/local": "hashtag:local",
    "/api/v1/streaming/list": "list",
    "/api/v1/streaming/direct": "direct",
}


def _header(headers: list[Any], name: str) -> str | None:
    for item in headers:
        if isinstance(item, list | tuple) and len(item) == 2 and str(item[0]).lower() == name:
            return str(item[1])
    return None


def _token(headers: list[Any], query: dict[str, list[str]]) -> str | None:
    """Mastodon's precedence (streaming/index.js:408-422): header, then query, then subprotocol."""
    auth = _header(headers, "authorization")
    if auth is not None:
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else auth
    if "access_token" in query:
        return query["access_token"][0]
    return _header(headers, "sec-websocket-protocol")


def _scope_ok(stream: str, scopes: frozenset[str]) -> bool:
    needed = (
        {"read", "read:notifications"}
        if stream == "user:notification"
        else {"read", "read:statuses"}
    )
    return bool(needed & scopes)


def _stream_refusal(
    stream: str, owner: str, scopes: frozenset[str], query: dict[str, list[str]]
) -> tuple[int, str] | None:
    if not _scope_ok(stream, scopes):
        return 401, "Access token does not have the required scopes"
    if stream in ("hashtag", "hashtag:local"):
        tags = query.get("tag", [])
        if len(tags) > 1:
            return 500, "An unexpected error occurred"
        if not tags or not tags[0]:
            return 400, "Missing tag name parameter"
    if stream == "list":
        lists = query.get("list", [])
        if not lists or not lists[0]:
            return 400, "Missing list name parameter"
        if CAPTURE_LISTS.get(lists[0]) != owner:
            return 401, "Not authorized to stream this list"
    return None


def capture_expectations(meta: Meta) -> dict[str, Any]:
    """Context additions (purpose, expect_status, expect_error) a live case would have set."""
    request = meta.request
    parts = urlsplit(str(request.get("path") or "/"))
    query = parse_qs(parts.query, keep_blank_values=True)
    headers = list(request.get("headers") or [])
    method = str(request.get("method") or "GET").upper()
    token = _token(headers, query)
    known = CAPTURE_TOKENS.get(token or "")
    owner, scopes = known if known is not None else (None, frozenset())
    if meta.transport == "ws":
        if token is None:
            return _refuse(401, "Missing access token")
        if owner is None:
            return _refuse(401, "Invalid access token")
        version = _header(headers, "sec-websocket-version")
        if version is not None and version != "13":
            return {"purpose": "error", "expect_status": 400}
        stream = query.get("stream", [None])[0]
        if stream in KNOWN_STREAMS:
            refusal = _stream_refusal(stream, owner, scopes, query)
            if refusal is not None:
                return {"expect_error": refusal[1]}
        return {}
    if meta.transport != "sse" or parts.path.endswith("/health"):
        return {}
    stream = _SSE_STREAMS.get(parts.path)
    if stream is None:
        return _refuse(400, "Unknown channel requested")
    if token is None:
        return _refuse(401, "Missing access token")
    if owner is None:
        return _refuse(401, "Invalid access token")
    if method != "GET":
        return {"purpose": "error", "expect_status": 404}
    refusal = _stream_refusal(stream, owner, scopes, query)
    if refusal is not None:
        return _refuse(*refusal)
    return {}


def _refuse(status: int, error: str) -> dict[str, Any]:
    return {"purpose": "error", "expect_status": status, "expect_error": error}


def with_capture_expectations(transcript: Transcript) -> Transcript:
    """The transcript with the expectations of its request added to the context (captures only)."""
    if not transcript.meta.source.startswith("capture"):
        return transcript
    additions = capture_expectations(transcript.meta)
    if not additions:
        return transcript
    meta = replace(transcript.meta, context={**transcript.meta.context, **additions})
    return Transcript(meta=meta, records=transcript.records)


# -- loading -------------------------------------------------------------------------------------


def _first_lines(path: Path) -> list[tuple[int, Any]]:
    """The first two decoded lines, read with the transcript bounds (untrusted files)."""
    out: list[tuple[int, Any]] = []
    for item in iter_json_lines(path):
        out.append(item)
        if len(out) == 2:
            break
    return out


def _is_capture_file(path: Path) -> bool:
    lines = _first_lines(path)
    if not lines:
        raise TranscriptFormatError(path, 0, "empty file")
    number, first = lines[0]
    if not isinstance(first, dict) or first.get("kind") != "meta":
        raise TranscriptFormatError(path, number, "the first line is not a meta record")
    if "format" in first:
        return False
    if "description" in first:
        return True
    second = lines[1][1] if len(lines) > 1 else None
    return isinstance(second, dict) and second.get("kind") in _CAPTURE_RECORD_KINDS


def _load_file(path: Path) -> list[Transcript]:
    """One file's transcripts; any malformation is a ``TranscriptFormatError`` naming it."""
    if _is_capture_file(path):
        from conformance.transcript.captures import load_capture

        for _ in iter_json_lines(path):  # every line bounded before the capture reader parses
            pass
        try:
            return [load_capture(path)]
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            if isinstance(exc, TranscriptFormatError):
                raise
            raise TranscriptFormatError(
                path, 0, f"not a readable capture: {type(exc).__name__}: {str(exc)[:160]}"
            ) from None
    return read_transcripts(path)


def load_path(path: Path) -> list[Transcript]:
    """Every transcript under ``path`` (report dir, transcript file, captures dir).

    Only regular files are read (a FIFO named ``*.jsonl`` is skipped, never opened)."""
    if path.is_dir():
        directory = path / "transcripts" if (path / "transcripts").is_dir() else path
        found = sorted(p for p in directory.glob("*.jsonl") if not p.name.startswith("_"))
        files = [p for p in found if p.is_file()]
        for skipped in sorted(set(found) - set(files)):
            print(f"replay: skipped {skipped} (not a regular file)", file=sys.stderr)
        if not files:
            raise ValueError(f"no .jsonl transcripts in {directory}")
    else:
        need_regular_file(path)
        files = [path]
    out: list[Transcript] = []
    for file in files:
        out.extend(_load_file(file))
    return out


# -- judging -------------------------------------------------------------------------------------


def replay_results(
    transcripts: list[Transcript],
    *,
    server_version: str | None = None,
    validator: object | None = None,
) -> list[Result]:
    """Judge transcripts that carry no plan (captures, a bare transcript file): ``judge_run``
    without a plan, ``long`` on (the recording holds whatever it holds)."""
    context = RunContext(plan=None, server_version=server_version, long=True, validator=validator)
    return judge_run([with_capture_expectations(t) for t in transcripts], None, context)


def replay_run(
    path: Path,
    transcripts: list[Transcript],
    *,
    server_version: str | None = None,
    validator: object | None = None,
) -> list[Result]:
    """Judge what ``path`` holds exactly as its live run was judged: a run directory with a
    stimulus log is replayed with the log's ``DeliveryLog`` and ``RunContext`` (same cases,
    same verdicts); anything else is judged without a plan. ``server_version`` overrides the
    version the run recorded. Raises ``StimulusLogError`` for an unreadable stimulus log."""
    try:
        saved = read_saved_run(path)
    except (OSError, ValueError, KeyError) as exc:
        raise StimulusLogError(f"stimulus log unreadable: {exc}") from exc
    if saved is None:
        return replay_results(transcripts, server_version=server_version, validator=validator)
    context = replace(saved.context, validator=validator)
    if server_version is not None:
        context = replace(context, server_version=server_version)
    judged = [with_capture_expectations(t) for t in transcripts if t.meta.id != STIMULI_ID]
    results = judge_run(judged, saved.log, context)
    if context.plan is None or not context.connection_keys:
        return results
    # One pytest item, one reported case (observations.py): fold as the live run folded.
    folded, _observed = fold_run(
        results, (c.id for c in context.plan), context.connection_keys, context.unjudged
    )
    return folded


def _default_report_dir() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / f"replay-{stamp}"


def replay_main(
    path: Path,
    *,
    report_dir: Path | None,
    server_version: str | None = None,
    strict: bool = False,
) -> int:
    """CLI ``replay``: judge, write report.json and report.html, print one summary line; exit
    like ``run`` (``reports.summary.exit_status``: 1 on fail, or on warn with ``strict``; 2 on
    error or unreadable input; else 0)."""
    started = datetime.now(UTC)
    clock = time.monotonic()
    path = Path(path)
    try:
        transcripts = load_path(path)
        results = replay_run(path, transcripts, server_version=server_version)
    except (OSError, ValueError, KeyError, ConformanceError) as exc:
        print(f"replay: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    target_dir = report_dir if report_dir is not None else _default_report_dir()
    info = RunInfo(
        target=f"replay:{path}",
        started_at=started.isoformat(timespec="seconds"),
        duration_s=time.monotonic() - clock,
        extra={"mode": "replay", "transcripts": len(transcripts), "server_version": server_version},
    )
    # Saved transcripts may predate stream redaction (a token's halves in two reads, which the
    # judges reassemble into evidence): results and transcripts are redacted again before
    # anything is written. Judging used them as saved (capture expectations read their tokens).
    redactor = replay_redactor()
    results = [redact_result(r, redactor) for r in results]
    transcripts = [redactor.transcript(t) for t in transcripts]
    report = write_judged_reports(target_dir, info, results, transcripts=transcripts)["json"]
    counts = summarise(results)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    print(f"replay: {len(transcripts)} transcripts, {len(results)} results ({summary}) -> {report}")
    return exit_status(results, strict=strict)


def replay_redactor() -> Redactor:
    """Secrets ``replay`` knows: ``MSC_TOKEN``/``MSC_SECOND_TOKEN`` when set (plus the rules
    every redactor applies: credentials in headers, ``access_token=``, URL passwords)."""
    return Redactor(os.environ.get(name, "") for name in ("MSC_TOKEN", "MSC_SECOND_TOKEN"))
