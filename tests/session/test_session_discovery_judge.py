"""Discovery checks (divergences.md §3.16) on hand-built instance-document transcripts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.judge import judge_transcript
from conformance.judge.discovery import AGREE_ID, INSTANCE_KEYS, form_problem, judge_discovery
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Verdict


def _doc(doc: str, body: Any, status: int = 200) -> Transcript:
    meta = Meta(
        id=INSTANCE_KEYS[doc],
        transport="http",
        request={"method": "GET", "path": f"/api/{doc}/instance"},
        context={"purpose": "http", "instance_doc": doc, "case": INSTANCE_KEYS[doc]},
    )
    tr = Transcript(meta=meta)
    tr.add(0.0, "connect")
    tr.add(0.01, "response-head", status=status, reason="", http_version="HTTP/1.1", headers=[])
    tr.add(0.02, "body-chunk", data=json.dumps(body).encode())
    tr.add(0.03, "end", how="eof", detail="")
    return tr


def _v2(url: Any) -> Transcript:
    return _doc("v2", {"configuration": {"urls": {"streaming": url}}})


def _v1(url: Any) -> Transcript:
    return _doc("v1", {"urls": {"streaming_api": url}})


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("wss://streaming.example", True),
        ("ws://127.0.0.1:4000", True),
        ("wss://streaming.example/", True),
        ("https://streaming.example", False),
        ("wss://streaming.example/api/v1/streaming", False),
        ("/api/v1/streaming", False),
        (5, False),
    ],
)
def test_form(url: Any, ok: bool) -> None:
    assert (form_problem(url) is None) is ok
    (result,) = [
        r for r in judge_transcript(_v2(url)) if r.requirement == "discovery.streaming-url.form"
    ]
    assert result.verdict is (Verdict.PASS if ok else Verdict.WARN)


def test_agreement() -> None:
    same = judge_discovery({t.meta.id: t for t in (_v1("wss://s.ex"), _v2("wss://s.ex"))})
    assert [(r.id, r.verdict) for r in same] == [(AGREE_ID, Verdict.PASS)]
    differ = judge_discovery({t.meta.id: t for t in (_v1("wss://a.ex"), _v2("wss://b.ex"))})
    assert differ[0].verdict is Verdict.WARN and "'wss://a.ex' vs 'wss://b.ex'" in differ[0].message
    only_v2 = judge_discovery({INSTANCE_KEYS["v2"]: _v2("wss://s.ex")})
    assert only_v2[0].verdict is Verdict.NOT_EXERCISED
    assert judge_discovery({}) == []


def test_absent_url_is_not_exercised() -> None:
    (result,) = [
        r for r in judge_transcript(_v1(None)) if r.requirement == "discovery.streaming-url.form"
    ]
    assert result.verdict is Verdict.NOT_EXERCISED
