"""The stimulus log: saved with the transcripts, it makes a run re-judgeable offline."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from reference_proc import reference_server

from conformance.config import Settings
from conformance.discovery import discover
from conformance.matrix import DeliveryLog, RunContext, StepOutcome
from conformance.matrix.stimulus_log import (
    STIMULI_FILE,
    build_stimulus_log,
    parse_stimulus_log,
    saved_run,
    write_stimulus_log,
)
from conformance.redact import Redactor
from conformance.replay import load_path, replay_main, replay_run
from conformance.reports.run_reports import write_run_reports
from conformance.session import run_session
from conformance.session.plan import PlannedCase
from conformance.stimulus.base import Produced
from conformance.transcript.model import Record, Transcript
from conformance.verdicts import Verdict


def test_log_round_trips_outcomes_and_cases() -> None:
    log = DeliveryLog(mux_unsubscribed_after="P", not_run_reason="")
    log.outcomes["P"] = StepOutcome(
        "P",
        Produced("status.public", "m-p", {"status": "7"}, {"status": {"id": "7"}}, {"author": "b"}),
    )
    log.outcomes["AN"] = StepOutcome("AN", None, "needs the reference server's extras")
    log.outcomes["E"] = StepOutcome("E", None, "HTTP 500", error=True)
    cases = [
        PlannedCase(
            "delivery.x[sse-user-update]", "delivery.x", "delivery", "sse", "user", "update"
        ),
        PlannedCase("http.y[sse-user]", "http.y", "http", "sse", "user", None),
    ]
    rest = Record(t=0.1, kind="stimulus", fields={"action": "rest", "detail": {}, "marker": "m"})
    transcript = build_stimulus_log(log, cases, [rest])
    again = Transcript.loads(transcript.dumps())
    parsed, parsed_cases = parse_stimulus_log(again)
    assert parsed.mux_unsubscribed_after == "P"
    assert parsed.outcomes["P"].produced == log.outcomes["P"].produced
    assert parsed.outcomes["AN"].produced is None and "extras" in parsed.outcomes["AN"].reason
    assert parsed.outcomes["E"].error is True
    assert [c.id for c in parsed_cases] == ["delivery.x[sse-user-update]"]  # delivery only
    actions = [r.fields["action"] for r in again.records]
    assert actions.count("step") == 3 and actions[-1] == "rest"
    schema = json.loads(
        (Path(__file__).parents[2] / "schemas" / "transcript.schema.json").read_text()
    )
    validator = jsonschema.Draft202012Validator(schema)
    for line in transcript.dumps().splitlines():
        assert not list(validator.iter_errors(json.loads(line))), line[:200]


def test_log_round_trips_the_run_context() -> None:
    case = PlannedCase("http.y[sse-user]", "http.y", "http", "sse", "user", None, frozenset({"x"}))
    context = RunContext(
        plan=(case,),
        server_version="4.8.0",
        long=False,
        available=frozenset({"rest"}),
        unjudged={"http.y[sse-user]": "sse-user not opened: needs --long"},
        setup_failures={"sse-user": "gave up after 3 attempts: 429 Too Many Requests"},
        run_level_only=frozenset({"sse-user-revocable"}),
    )
    transcript = build_stimulus_log(DeliveryLog(), [case], context=context)
    again = saved_run(Transcript.loads(transcript.dumps()))
    assert again.context == context


def test_replay_without_a_log_judges_no_delivery(tmp_path: Path) -> None:
    assert replay_run(tmp_path, []) == []


@pytest.mark.slow  # over 5 s: a whole session (10-13 s measured at load 7)
async def test_saved_run_rejudges_delivery_identically(tmp_path: Path) -> None:
    with reference_server("--heartbeat", "1") as ref:
        a, b = ref["accounts"][0], ref["accounts"][1]
        settings = Settings(
            target=ref["url"], token=a["token"], second_token=b["token"], heartbeat_timeout_s=1.5
        )
        outcome = await run_session(settings, await discover(settings))
    redactor = Redactor([a["token"], b["token"]])
    write_run_reports(
        tmp_path,
        target=ref["url"],
        started_at=outcome.started_at,
        duration_s=outcome.duration_s,
        results=list(outcome.results.values()),
        transcripts=outcome.transcripts,
        redactor=redactor,
    )
    assert outcome.stimuli is not None
    saved = write_stimulus_log(tmp_path, redactor.transcript(outcome.stimuli))
    assert saved == tmp_path / "transcripts" / STIMULI_FILE
    text = saved.read_text(encoding="utf-8")
    assert a["token"] not in text and b["token"] not in text
    rest = [r for r in outcome.stimuli.records if r.fields["action"] == "rest"]
    assert any(
        r.fields["marker"] and r.fields["detail"]["path"] == "/api/v1/statuses" for r in rest
    )
    assert all("Authorization" not in str(r.fields) for r in rest)

    transcripts = load_path(tmp_path)
    assert all(t.meta.id != "_stimuli" for t in transcripts)
    replayed = {r.id: r for r in replay_run(tmp_path, transcripts) if r.id in outcome.results}
    live = {
        rid: r
        for rid, r in outcome.results.items()
        if r.requirement.startswith(("delivery.", "ws.multiplex.", "discovery.streaming-url.agree"))
    }
    assert len(live) > 100
    replayed = {rid: r for rid, r in replayed.items() if rid in live}
    assert set(replayed) == set(live)
    differ = [rid for rid in live if live[rid].verdict is not replayed[rid].verdict]
    assert differ == []
    assert not [r for r in replayed.values() if r.verdict is Verdict.NOT_EXERCISED]
    # and through the CLI entry point: delivery results are in the replay report
    assert replay_main(tmp_path, report_dir=tmp_path / "replayed") == 0
    report = (tmp_path / "replayed" / "report.json").read_text(encoding="utf-8")
    assert "delivery.public-status.arrives[ws-hashtag-update]" in report
