"""The judging engine's contract: planned ids, one Result each, extras, ids, aggregation."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import transcript_builders as b

from conformance.judge import judge_transcript, planned_results
from conformance.judge import registry as registry_module
from conformance.judge.registry import Check, held, violated
from conformance.verdicts import Verdict

JUDGE_DIR = Path(__file__).resolve().parents[2] / "conformance" / "judge"
OWN_JUDGE_FILES = (
    "__init__",
    "registry",
    "context",
    "engine",
    "http_checks",
    "sse_framing",
    "heartbeat",
    "events",
    "payloads",
    "websocket",
    "errors",
    "auth",
)


def _by_id(results):  # type: ignore[no-untyped-def]
    return {r.id: r for r in results}


@pytest.mark.parametrize("build", [b.sse, b.ws, lambda: b.http(status=401, body=b"{}")])
def test_every_planned_id_has_exactly_one_result(build) -> None:  # type: ignore[no-untyped-def]
    transcript = build()
    planned = planned_results(transcript.meta)
    assert planned == planned_results(transcript.meta)  # deterministic
    ids = [r.id for r in judge_transcript(transcript)]
    for item in planned:
        assert ids.count(item.id) == 1, item.id
    assert len(ids) == len(set(ids))


def test_result_ids_use_case_or_transport_and_stream() -> None:
    with_case = b.sse()
    assert "http.sse.status-200[t]" in _by_id(judge_transcript(with_case))
    without = b.sse(context={"case": None})
    assert "http.sse.status-200[sse-user]" in _by_id(judge_transcript(without))
    no_stream = b.sse(context={"case": None, "stream": None}, path="/x")
    assert "http.sse.status-200[sse--]" in _by_id(judge_transcript(no_stream))


def test_per_event_results_planned_from_expect_events_and_extras_for_others() -> None:
    transcript = b.sse(
        [(0.1, b.event("delete", "1")), (0.2, b.event("announcement.delete", "8"))],
        context={"expect_events": ["delete", "update"]},
    )
    planned = {p.id for p in planned_results(transcript.meta)}
    assert {"payload.schema.valid[t-delete]", "payload.schema.valid[t-update]"} <= planned
    results = _by_id(judge_transcript(transcript))
    assert results["payload.schema.valid[t-delete]"].verdict is Verdict.PASS
    assert results["payload.schema.valid[t-update]"].verdict is Verdict.NOT_EXERCISED
    extra = results["payload.schema.valid[t-announcement.delete]"]
    assert extra.id not in planned and extra.event == "announcement.delete"


def test_aggregation_worst_verdict_and_each_message_listed() -> None:
    transcript = b.sse(
        [
            (0.1, b.event("delete", '{"a":1}')),
            (0.2, b.event("delete", "2")),
            (0.3, b.event("delete", '"3"')),
        ]
    )
    result = _by_id(judge_transcript(transcript))["events.delete.bare-id[t]"]
    assert result.verdict is Verdict.FAIL
    assert "'{\"a\":1}'" in result.message and "'\"3\"'" in result.message
    assert result.evidence is not None and len(result.evidence) <= 600


def test_evidence_is_truncated() -> None:
    transcript = b.sse([(0.1, b.event("update", "x" * 5000))])
    result = _by_id(judge_transcript(transcript))["events.payload.json[t]"]
    assert result.verdict is Verdict.FAIL
    assert result.evidence is not None and len(result.evidence) <= 600


def test_info_requirement_never_passes() -> None:
    result = _by_id(judge_transcript(b.sse()))["http.sse.opening-comment[t]"]
    assert result.verdict is Verdict.INFO and "(as Mastodon)" in result.message


def test_a_crashing_check_is_an_error_not_a_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(cx):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")
        yield  # pragma: no cover

    checks = [c for c in registry_module.CHECKS if c.requirement != "http.sse.not-cut"]
    checks.append(
        Check(
            requirement="http.sse.not-cut", fn=broken, applies=lambda m: True, plan=lambda m: True
        )
    )
    monkeypatch.setattr(registry_module, "CHECKS", checks)
    result = _by_id(judge_transcript(b.sse()))["http.sse.not-cut[t]"]
    assert result.verdict is Verdict.ERROR and "boom" in result.message


def test_observation_helpers_map_to_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    def mixed(cx):  # type: ignore[no-untyped-def]
        yield held("fine")
        yield violated("expected a; observed b")

    req = "http.sse.cache-control-no-store"
    checks = [c for c in registry_module.CHECKS if c.requirement != req]
    checks.append(Check(requirement=req, fn=mixed, applies=lambda m: True, plan=lambda m: True))
    monkeypatch.setattr(registry_module, "CHECKS", checks)
    result = _by_id(judge_transcript(b.sse()))["http.sse.cache-control-no-store[t]"]
    assert result.verdict is Verdict.WARN and result.message == "expected a; observed b"


def test_short_recordings_leave_long_checks_unexercised() -> None:
    results = _by_id(judge_transcript(b.sse()))
    assert results["sse.heartbeat.within-timeout[t]"].verdict is Verdict.NOT_EXERCISED
    ws_results = _by_id(judge_transcript(b.ws(context={"long": True}), long=False))
    assert ws_results["ws.ping.server-keepalive[t]"].verdict is Verdict.NOT_EXERCISED


def test_heartbeat_interval_reports_measured_intervals() -> None:
    chunks = [(0.02, b":)\n")] + [(15.0 * k, b":thump\n\n") for k in (1, 2, 3)]
    results = _by_id(judge_transcript(b.sse(chunks, end_t=50.0)))
    interval = results["sse.heartbeat.interval[t]"]
    assert interval.verdict is Verdict.PASS and "15.0, 15.0" in interval.message
    assert results["sse.heartbeat.within-timeout[t]"].verdict is Verdict.PASS
    assert "blank line" in results["sse.heartbeat.form[t]"].message


def test_heartbeat_timeout_comes_from_context() -> None:
    chunks = [(0.02, b":)\n"), (25.0, b":thump\n\n")]
    strict = _by_id(judge_transcript(b.sse(chunks, end_t=31.0)))
    lenient = _by_id(
        judge_transcript(b.sse(chunks, end_t=31.0, context={"heartbeat_timeout_s": 30.0}))
    )
    assert strict["sse.heartbeat.within-timeout[t]"].verdict is Verdict.FAIL
    assert lenient["sse.heartbeat.within-timeout[t]"].verdict is Verdict.PASS


@pytest.mark.parametrize(
    "data, verdict",
    [(None, Verdict.PASS), ("", Verdict.PASS), ("undefined", Verdict.PASS), ("{}", Verdict.FAIL)],
)
def test_filters_changed_sse_forms(data: str | None, verdict: Verdict) -> None:
    transcript = b.sse([(0.1, b.event("filters_changed", data))])
    result = _by_id(judge_transcript(transcript))["events.filters-changed.no-payload[t]"]
    assert result.verdict is verdict
    framing = _by_id(judge_transcript(transcript))["sse.framing.data-field[t]"]
    assert framing.verdict is Verdict.NOT_EXERCISED  # filters_changed may lack data


def test_filters_changed_ws_forms() -> None:
    absent = b.ws([(0.1, "recv", "text", b.message("user", "filters_changed", with_payload=False))])
    empty = b.ws([(0.1, "recv", "text", b.message("user", "filters_changed", ""))])
    req = "events.filters-changed.no-payload[t]"
    assert _by_id(judge_transcript(absent))[req].verdict is Verdict.PASS
    assert _by_id(judge_transcript(absent))["ws.message.shape[t]"].verdict is Verdict.PASS
    assert _by_id(judge_transcript(empty))[req].verdict is Verdict.FAIL


@pytest.mark.parametrize(
    "path, sent, stream, verdict",
    [
        (
            "/api/v1/streaming",
            {"type": "subscribe", "stream": "list", "list": 1},
            ["list", 1],
            Verdict.PASS,
        ),
        (
            "/api/v1/streaming",
            {"type": "subscribe", "stream": "list", "list": "1"},
            ["list", "2"],
            Verdict.FAIL,
        ),
        (
            "/api/v1/streaming",
            {"type": "subscribe", "stream": "hashtag", "tag": "Café"},
            ["hashtag", "Café"],
            Verdict.PASS,
        ),
        (
            "/api/v1/streaming",
            {"type": "subscribe", "stream": ["public:local", "user"]},
            ["public:local"],
            Verdict.PASS,
        ),
        ("/api/v1/streaming?stream=hashtag&tag=Foo", None, ["hashtag", "Foo"], Verdict.PASS),
        ("/api/v1/streaming?stream=hashtag&tag=Foo", None, ["hashtag:Foo"], Verdict.FAIL),
        ("/api/v1/streaming?stream=user", None, "user", Verdict.PASS),
    ],
)
def test_stream_array_matches_what_was_asked(
    path: str, sent: dict | None, stream: object, verdict: Verdict
) -> None:
    frames = [(0.05, "send", "text", json.dumps(sent))] if sent else []
    frames.append((0.1, "recv", "text", b.message(stream, "delete", "1")))  # type: ignore[arg-type]
    result = _by_id(judge_transcript(b.ws(frames, path=path)))
    assert result["ws.message.stream-matches-subscription[t]"].verdict is verdict


def test_delete_ws_number_payload_fails_both_string_and_schema() -> None:
    transcript = b.ws([(0.1, "recv", "text", '{"stream":["user"],"event":"delete","payload":5}')])
    results = judge_transcript(transcript)
    failed = {r.requirement for r in results if r.verdict is Verdict.FAIL}
    assert {"payload.ws.string", "payload.schema.valid", "events.delete.bare-id"} <= failed


def test_revocation_makes_a_clean_end_expected() -> None:
    transcript = b.sse(end="eof")
    transcript.add(0.05, "stimulus", action="token.revoke", detail={}, marker=None)
    result = _by_id(judge_transcript(transcript))["http.sse.stays-open[t]"]
    assert result.verdict is Verdict.PASS


def test_anonymous_public_access_and_user_refusal_are_both_must() -> None:
    anon = b.http(
        status=200,
        body=b"",
        content_type="text/event-stream",
        context={"stream": "public", "expect_error": "Missing access token"},
    )
    results = _by_id(judge_transcript(anon))
    assert results["auth.anonymous.public-streams[t]"].verdict is Verdict.FAIL  # issue 10
    assert "errors.sse.missing-token[t]" not in results
    user = b.http(
        status=200,
        body=b"",
        content_type="text/event-stream",
        context={"stream": "user", "expect_error": "Missing access token"},
    )
    assert _by_id(judge_transcript(user))["errors.sse.missing-token[t]"].verdict is Verdict.FAIL


def test_judges_do_no_io() -> None:
    forbidden = {"httpx", "websockets", "asyncio", "socket", "aiohttp", "requests"}
    for name in OWN_JUDGE_FILES:
        tree = ast.parse((JUDGE_DIR / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                mods = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not mods & forbidden, f"{name}.py imports {mods & forbidden}"


def test_a_heartbeat_before_the_timeout_exercises_keepalive_on_a_short_recording() -> None:
    """The live session closes a stream once a heartbeat arrived; that is enough evidence."""
    results = _by_id(judge_transcript(b.sse([(0.02, b":)\n"), (15.0, b":thump\n\n")], end_t=15.1)))
    assert results["sse.heartbeat.within-timeout[t]"].verdict is Verdict.PASS
    assert results["sse.heartbeat.interval[t]"].verdict is Verdict.PASS
    opener_only = _by_id(judge_transcript(b.sse([(0.02, b":)\n")], end_t=15.1)))
    assert opener_only["sse.heartbeat.within-timeout[t]"].verdict is Verdict.NOT_EXERCISED


def test_planned_results_memo_follows_the_meta_and_the_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plan is memoised per meta; a changed meta or a changed check registry is planned
    afresh, never answered from the memo."""
    meta = b.sse().meta
    first = planned_results(meta)
    assert planned_results(meta) == first and planned_results(meta) is not first
    narrowed = b.sse(context={**meta.context, "only": ["http.sse.not-cut"]}).meta
    assert {p.requirement for p in planned_results(narrowed)} == {"http.sse.not-cut"}
    req = "http.sse.not-cut"
    checks = [c for c in registry_module.CHECKS if c.requirement != req]
    monkeypatch.setattr(registry_module, "CHECKS", checks)
    assert req not in {p.requirement for p in planned_results(meta)}
    monkeypatch.undo()
    assert planned_results(meta) == first
