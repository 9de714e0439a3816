"""The sampled subscribers: full transcripts through the suite's recorders, judged afterwards.

Load must not trade correctness for numbers: framing and payloads have to stay valid while the
server is busy. One subscriber in ``--sample-every`` (at least one per step) is therefore not a
lightweight core but a real recorder (``transports/sse.py``, ``transports/ws.py``), and its
transcript goes through the same judges as a conformance run (``judge_transcript``). Its
deliveries are not counted in the delivery figures (its clock is the recorder's), only its
verdicts are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from conformance.discovery import ws_base
from conformance.judge import judge_transcript
from conformance.load.streams import StreamSpec
from conformance.transcript.model import Meta, Transcript, write_transcripts
from conformance.transports.sse import SSERecorder
from conformance.transports.ws import WSRecorder

__all__ = ["SampleSet", "judge_samples"]

MAX_LISTED_FAILURES = 20


def _meta(key: str, transport: str, spec: StreamSpec, heartbeat_timeout_s: float) -> Meta:
    path, params = spec.sse_path()
    stream = spec.kind if spec.kind != "hashtag" else "hashtag"
    context: dict[str, Any] = {
        "purpose": "stream",
        "stream": stream,
        "endpoint": path if transport == "sse" else None,
        "params": params if transport == "sse" else {},
        "auth": "header",
        "expect_status": 101 if transport == "ws" else 200,
        "expect_error": None,
        "expect_events": ["update"],
        "subscriptions": [],
        "heartbeat_timeout_s": heartbeat_timeout_s,
        "case": key,
    }
    return Meta(id=key, transport=transport, request={}, context=context)


@dataclass
class SampleSet:
    """The recorders of one worker's sampled subscribers."""

    base_url: str
    token: str | None
    heartbeat_timeout_s: float
    connect_timeout_s: float
    recorders: list[Any] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None

    async def open(self, key: str, transport: str, spec: StreamSpec) -> None:
        meta = _meta(key, transport, spec, self.heartbeat_timeout_s)
        if transport == "ws":
            url = f"{ws_base(self.base_url)}/api/v1/streaming?{urlencode(spec.ws_params())}"
            if self.base_url.rstrip("/").endswith("/api/v1/streaming"):
                url = f"{ws_base(self.base_url)}?{urlencode(spec.ws_params())}"
            recorder: Any = WSRecorder(
                url,
                token=self.token,
                token_via="header",
                meta=meta,
                open_timeout_s=self.connect_timeout_s,
            )
        else:
            if self._client is None:
                self._client = httpx.AsyncClient(
                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=0)
                )
            path, params = spec.sse_path()
            base = self.base_url.rstrip("/").removesuffix("/api/v1/streaming")
            url = base + path + (f"?{urlencode(params)}" if params else "")
            headers = [("Accept", "text/event-stream")]
            if self.token:
                headers.append(("Authorization", f"Bearer {self.token}"))
            recorder = SSERecorder(
                self._client,
                url,
                headers=headers,
                meta=meta,
                connect_timeout_s=self.connect_timeout_s,
                idle_timeout_s=max(60.0, self.heartbeat_timeout_s * 3),
            )
        self.recorders.append(recorder)
        await recorder.start()

    async def close(self) -> list[Transcript]:
        for recorder in self.recorders:
            await recorder.close()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        return [recorder.transcript for recorder in self.recorders]


def judge_samples(transcripts: list[Transcript], out_dir: Path | None, name: str) -> dict[str, Any]:
    """Verdict counts and the failures of the sampled transcripts (written to ``out_dir``)."""
    verdicts: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    for transcript in transcripts:
        for result in judge_transcript(transcript):
            verdicts[result.verdict.value] += 1
            if result.verdict.value in {"fail", "warn", "error"}:
                failures.append(
                    {
                        "id": result.id,
                        "verdict": result.verdict.value,
                        "transcript": transcript.meta.id,
                        "message": result.message[:500],
                    }
                )
    if out_dir is not None and transcripts:
        write_transcripts(out_dir / "transcripts" / f"{name}.jsonl", transcripts)
    return {
        "transcripts": len(transcripts),
        "verdicts": dict(sorted(verdicts.items())),
        "failures": failures[:MAX_LISTED_FAILURES],
        "failure_count": len(failures),
    }
