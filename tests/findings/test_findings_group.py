"""Findings: one per requirement id and root cause; consequences counted under their cause.

The synthetic runs in ``tests/support/findings_fixtures.py`` have the structure of the live
fault runs (``serve --fault sse-crlf --fault leak-private --fault ws-payload-object``,
``--fault sse-cut-mid-event``, ``--fault no-sse``); the grouping reads only that structure.
"""

from __future__ import annotations

from dataclasses import replace

from findings_fixtures import cut_run, no_sse_run, result, three_fault_run, transcript

from conformance.findings import analyse
from conformance.reports.summary import exit_status, summary_lines
from conformance.verdicts import Verdict


def test_three_faults_give_exactly_three_findings_with_consequences_beneath() -> None:
    results, transcripts = three_fault_run()
    analysis = analyse(results, transcripts)
    assert [f.id for f in analysis.findings] == [
        "payload.ws.string",
        "delivery.private-status.excluded",
        "sse.framing.lf-line-endings",
    ]
    ws = analysis.findings[0]
    assert ws.cases == ("payload.ws.string[ws-public]", "payload.ws.string[ws-user]")
    assert {c.requirement for c in ws.consequences} == {
        "payload.schema.valid",
        "events.delete.bare-id",
        "delivery.delete.everywhere",
    }
    assert all("explained by `payload.ws.string`" in c.because for c in ws.consequences)
    # CRLF explains nothing: the leak on the CRLF stream stays a finding of its own, and a
    # leak (an event that arrived) is never explained by a payload-encoding fault either.
    leak = analysis.findings[1]
    assert len(leak.cases) == 2 and not leak.consequences
    assert leak.transports == ("sse", "ws")
    crlf = analysis.findings[2]
    assert crlf.streams == ("public", "user") and not crlf.consequences
    assert analysis.by_case["delivery.delete.everywhere[ws-public-delete]"] == "payload.ws.string"
    assert "delivery.public-status.arrives[sse-public-update]" not in analysis.by_case


def test_terminal_leads_with_the_findings() -> None:
    results, transcripts = three_fault_run()
    lines = summary_lines(results, target="http://t", transcripts=transcripts)
    text = "\n".join(lines)
    assert lines[2].startswith("FINDINGS (3)")
    assert text.index("1. FAIL [MUST] payload.ws.string") < text.index("FAIL (10;")
    assert "explains 4 case(s) (4 fail)" in text
    # consequences are not listed again as failures of their own
    listing = text[text.index("FAIL (10;") :]
    assert "payload.schema.valid[" not in listing and "payload.ws.string[ws-user]" in listing


def test_cut_stream_comes_first_with_the_never_arrived_cases_under_it() -> None:
    results, transcripts = cut_run()
    analysis = analyse(results, transcripts)
    assert [f.id for f in analysis.findings] == ["http.sse.not-cut"]
    cut = analysis.findings[0]
    explained = {c.id: c for c in cut.consequences}
    arrive = explained["delivery.public-status.arrives[sse-user-update]"]
    assert arrive.verdict == "fail"
    assert arrive.because == "explained by `http.sse.not-cut` on sse-user at t=3.2 s"
    assert "delivery.mention.notifies[sse-user-notification]" in explained
    # not exercised because the stream was gone: counted under the cut, not as a reason
    assert "delivery.private-status.excluded[sse-public-u]" in explained
    assert analysis.not_exercised == ()
    assert cut.first is not None and cut.first.t in (3.2, 3.4)


def test_a_stream_that_stayed_intact_is_not_explained_by_another_streams_cut() -> None:
    results, transcripts = cut_run()
    results.append(result("delivery.public-status.arrives", "ws-user", suffix="-notif"))
    analysis = analyse(results, transcripts)
    assert "delivery.public-status.arrives" in [f.id for f in analysis.findings]


def test_no_sse_is_one_capability_finding_blocking_every_sse_case_and_exit_1() -> None:
    results, transcripts = no_sse_run()
    analysis = analyse(results, transcripts)
    assert [f.id for f in analysis.findings] == ["capability:sse"]
    sse = analysis.findings[0]
    assert sse.kind == "capability" and sse.level == "MUST" and sse.verdict == "fail"
    assert sse.title == "SSE transport not offered (every stream answered 404)"
    blocked = {c.id: c for c in sse.consequences}
    # the refusal check that "passed" because a 404 is a 4xx is blocked too, not a pass
    assert blocked["errors.sse.missing-token[sse-err-missing-token]"].verdict == "pass"
    assert all(
        c.because.startswith("blocked by: SSE transport not offered") for c in blocked.values()
    )
    assert len(blocked) == 7
    caps = analysis.capabilities
    assert caps.transports["sse"].state == "no" and caps.transports["ws"].state == "yes"
    assert caps.streams["user"]["sse"].symbol == "✗ 404"
    assert caps.streams["user"]["ws"].symbol == "✓"
    # verdicts are unchanged, so the missing MUST transport still fails the run
    assert exit_status(results) == 1


def test_a_refused_stream_on_an_offered_transport_is_its_own_capability_finding() -> None:
    results, transcripts = three_fault_run()
    transcripts.append(
        transcript(
            "ws-direct",
            "ws",
            status=101,
            stream="direct",
            frames=('{"error":"Unknown stream type","status":400}',),
        )
    )
    results.append(result("ws.message.shape", "ws-direct"))
    analysis = analyse(results, transcripts)
    finding = next(f for f in analysis.findings if f.id == "capability:ws:direct")
    assert "not offered (error frame: Unknown stream type)" in finding.title
    assert [c.id for c in finding.consequences] == ["ws.message.shape[ws-direct]"]


def test_a_named_cause_wins_over_structure() -> None:
    results, transcripts = three_fault_run()
    # the judge says this "never arrived" was really the cut of the SSE stream
    named = [
        replace(r, cause="sse.framing.lf-line-endings")
        if r.id == "delivery.private-status.excluded[sse-public-update]"
        else r
        for r in results
    ]
    analysis = analyse(named, transcripts)
    crlf = next(f for f in analysis.findings if f.id == "sse.framing.lf-line-endings")
    assert [c.id for c in crlf.consequences] == [
        "delivery.private-status.excluded[sse-public-update]"
    ]
    # a cause with no failing case of its own still becomes the finding (e.g. an INFO rename)
    renamed = [
        replace(r, cause="events.name.documented")
        if r.id == "delivery.delete.everywhere[ws-public-delete]"
        else r
        for r in results
    ]
    ids = [f.id for f in analyse(renamed, transcripts).findings]
    assert "events.name.documented" in ids


def test_results_alone_still_group_by_requirement() -> None:
    results, _ = three_fault_run()
    analysis = analyse(results)
    # without transcripts the structural rules still see the shared transcript ids
    assert analysis.findings[0].id == "payload.ws.string"
    assert analysis.capabilities.streams == {}


def test_passes_infos_and_unexplained_not_exercised_make_no_findings() -> None:
    results, transcripts = three_fault_run()
    quiet = [r for r in results if r.verdict is Verdict.PASS]
    quiet.append(result("ws.ping.server-keepalive", "ws-user", Verdict.NOT_EXERCISED))
    analysis = analyse(quiet, transcripts)
    assert analysis.findings == ()
    assert analysis.not_exercised[0][1] == 1
