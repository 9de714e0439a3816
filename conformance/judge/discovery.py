"""Discovery: the streaming URL the instance documents advertise (divergences.md §3.16).

The session records ``GET /api/v2/instance`` and ``GET /api/v1/instance`` as plain ``http``
transcripts (``context["instance_doc"]`` = ``v2`` / ``v1``), so both checks are judged from the
recording and re-judgeable offline. The form is a per-transcript check; agreement needs both
documents, so it is a run-level check (``@run_check``), planned whenever the run records both.

A target that advertises no streaming URL but streams at its origin (the live run probed
``<origin>/api/v1/streaming/health``; the instance transcripts carry the answer as
``context["streaming_fallback"]``) breaks clients that read the document: the form case then
reports the missing advertisement per its level. Structured data decides, never a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from conformance.judge.context import JudgeContext
from conformance.judge.registry import (
    Observation,
    PlannedResult,
    RunJudgeContext,
    check,
    held,
    run_check,
    unexercised,
    violated,
)
from conformance.requirements import get as get_requirement
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Result, Verdict, verdict_for_violation

INSTANCE_KEYS = {"v2": "http-instance-v2", "v1": "http-instance-v1"}
AGREE_ID = "discovery.streaming-url.agree[http-instance]"
_PATHS = {"v2": ("configuration", "urls", "streaming"), "v1": ("urls", "streaming_api")}


def _instance_doc(meta: Meta) -> bool:
    return meta.transport == "http" and meta.context.get("instance_doc") in _PATHS


def advertised(transcript: Transcript) -> tuple[bool, Any]:
    """(document readable, advertised value or None) from a recorded instance document."""
    head = transcript.head
    if head is None or head.fields.get("status") != 200:
        return False, None
    try:
        body = json.loads(transcript.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False, None
    value: Any = body
    for key in _PATHS[str(transcript.meta.context.get("instance_doc"))]:
        value = value.get(key) if isinstance(value, Mapping) else None
    return True, value


def form_problem(url: Any) -> str | None:
    """Why ``url`` is not an absolute ``ws(s)://host[:port]`` without a path (None if it is)."""
    if not isinstance(url, str):
        return f"not a string ({type(url).__name__})"
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        return f"scheme {parts.scheme or 'none'!r}, not ws/wss"
    if not parts.hostname:
        return "no host"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"has a path/query {url[len(parts.scheme) + 3 + len(parts.netloc) :]!r}"
    return None


@check("discovery.streaming-url.form", applies=_instance_doc)
def streaming_url_form(cx: JudgeContext) -> Iterator[Observation]:
    readable, value = advertised(cx.transcript)
    doc = cx.context.get("instance_doc")
    if not readable:
        yield unexercised(f"/api/{doc}/instance not readable (status {cx.status})")
    elif value is None and _streams_at_origin(cx.context.get("streaming_fallback")):
        origin = cx.context["streaming_fallback"]["origin"]
        yield violated(
            f"expected the instance document to advertise the streaming URL; observed "
            f"/api/{doc}/instance advertises none, yet {origin}/api/v1/streaming/health "
            "answers 200: clients that read the advertised URL (Tuba, Phanpy) cannot find the "
            "stream"
        )
    elif value is None:
        yield unexercised(f"/api/{doc}/instance advertises no streaming URL")
    elif (problem := form_problem(value)) is None:
        yield held(f"/api/{doc}/instance advertises {value!r}")
    else:
        yield violated(
            f"expected an absolute ws(s)://host[:port] without a path; observed {value!r} "
            f"({problem})"
        )


def _streams_at_origin(fallback: Any) -> bool:
    """Whether the live run found the streaming API at the origin (``streaming_fallback``)."""
    return (
        isinstance(fallback, Mapping)
        and fallback.get("health_status") == 200
        and isinstance(fallback.get("origin"), str)
    )


AGREE_REQUIREMENT = "discovery.streaming-url.agree"


def _plan_agree(metas: Sequence[Meta]) -> Iterable[PlannedResult]:
    """Planned when the run records both instance documents."""
    docs = {m.context.get("instance_doc") for m in metas if _instance_doc(m)}
    if {"v1", "v2"} <= docs:
        return [PlannedResult(AGREE_ID, AGREE_REQUIREMENT, transport="http")]
    return []


@run_check(
    "discovery-agreement",
    owns=lambda requirement: requirement == AGREE_REQUIREMENT,
    plan=_plan_agree,
)
def agreement_check(rcx: RunJudgeContext) -> Iterable[Result]:
    return judge_discovery(rcx.transcripts)


def judge_discovery(transcripts: Mapping[str, Transcript]) -> list[Result]:
    """The agreement case, if the run recorded the instance documents (else nothing)."""
    if INSTANCE_KEYS["v2"] not in transcripts and INSTANCE_KEYS["v1"] not in transcripts:
        return []
    requirement = get_requirement(AGREE_REQUIREMENT)
    values: dict[str, Any] = {}
    for doc, key in INSTANCE_KEYS.items():
        transcript = transcripts.get(key)
        if transcript is not None:
            readable, value = advertised(transcript)
            if readable:
                values[doc] = value
    if len(values) < 2:
        verdict, message = Verdict.NOT_EXERCISED, "needs both instance documents"
    elif values["v1"] is None and values["v2"] is None:
        verdict, message = Verdict.NOT_EXERCISED, "neither document advertises a streaming URL"
    elif values["v1"] == values["v2"]:
        verdict, message = Verdict.PASS, f"both advertise {values['v2']!r}"
    else:
        verdict = verdict_for_violation(requirement.level)
        message = (
            f"expected v1 urls.streaming_api == v2 configuration.urls.streaming; observed "
            f"{values['v1']!r} vs {values['v2']!r}"
        )
    return [
        Result(
            id=AGREE_ID,
            requirement=requirement.id,
            verdict=verdict,
            level=requirement.level,
            message=message,
            transport="http",
            stream=None,
            event=None,
            transcript=INSTANCE_KEYS["v2"],
        )
    ]


__all__ = [
    "AGREE_ID",
    "AGREE_REQUIREMENT",
    "INSTANCE_KEYS",
    "advertised",
    "form_problem",
    "judge_discovery",
]
