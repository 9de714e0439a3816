"""The transcript: everything one connection saw, as data, so judging never needs the network.

Record-then-judge is the suite's spine. A transport adapter appends records while it talks to a
server; a judge reads them later, possibly on another machine (``replay``). The same model is
produced from the recorded Mastodon captures (``conformance.transcript.captures``), so a check is
proven against the real server's bytes and a live run with one code path.

On disk a transcript is JSON Lines: line 1 is the ``meta`` record, every further line one
``Record``. ``schemas/transcript.schema.json`` is the published contract; keep the two in step.

Record kinds (``Record.kind``) and the fields each carries in ``Record.fields``:

``connect``         TCP/TLS connection opened (``t`` is 0.0 by definition).
``response-head``   ``status`` (int), ``reason`` (str), ``http_version`` (str),
                    ``headers`` (list of ``[name, value]`` in wire order).
``body-chunk``      one read of the response body, after transfer decoding: ``data`` bytes.
``end``             the stream ended: ``how`` is one of ``END_KINDS``; ``detail`` (str).
``ws-frame-recv``   a frame from the server: ``opcode`` (``text``, ``binary``, ``ping``, ``pong``,
                    ``close``, ``continuation``), ``data`` bytes, and for ``close`` frames
                    ``close_code`` (int | None) and ``close_reason`` (str).
``ws-frame-send``   a frame we sent, same fields.
``stimulus``        something a driver did to cause events: ``action`` (str), ``detail`` (dict),
                    ``marker`` (str | None): the unique text that identifies our traffic.
``timeout``         a wait that expired: ``wait`` (what we waited for), ``deadline_s`` (float).
``note``            free text: ``text``.

Bytes are stored as ``"data"`` (text) when they decode as strict UTF-8, else ``"data_b64"``, so
transcripts stay readable in a bug report yet byte-exact.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

FORMAT_VERSION = 1

RECORD_KINDS = frozenset(
    {
        "connect",
        "response-head",
        "body-chunk",
        "end",
        "ws-frame-recv",
        "ws-frame-send",
        "stimulus",
        "timeout",
        "note",
    }
)

#: How a stream ended. ``eof``: the server finished the message cleanly (terminating chunk,
#: Content-Length reached, or TCP closed after a WebSocket close). ``incomplete``: the server
#: closed the connection in the middle of a message (e.g. no terminating chunk: a crash).
#: ``reset``: connection reset. ``deadline``: our own deadline stopped the recording (normal
#: for endless streams). ``client-close``: we closed on purpose. ``error``: the recorder failed.
END_KINDS = frozenset({"eof", "incomplete", "reset", "deadline", "client-close", "error"})

TRANSPORTS = frozenset({"sse", "ws", "http"})


def _encode_bytes(data: bytes) -> dict[str, str]:
    try:
        return {"data": data.decode("utf-8", errors="strict")}
    except UnicodeDecodeError:
        return {"data_b64": base64.b64encode(data).decode("ascii")}


def _decode_bytes(obj: dict[str, Any]) -> bytes:
    if "data_b64" in obj and obj["data_b64"] is not None:
        return base64.b64decode(obj["data_b64"], validate=True)
    data = obj.get("data")
    if data is None:
        return b""
    return data.encode("utf-8")


_BYTE_KINDS = frozenset({"body-chunk", "ws-frame-recv", "ws-frame-send"})
#: ``json.dumps(obj, ensure_ascii=False)`` of one JSON Lines line, with one encoder for all of
#: them: ``json.dumps`` builds a new one per call (a run writes a few thousand lines).
_line = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One observation, timestamped in seconds since the connection started (monotonic)."""

    t: float
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in RECORD_KINDS:
            raise ValueError(f"unknown record kind {self.kind!r}")
        if self.kind == "end" and self.fields.get("how") not in END_KINDS:
            raise ValueError(f"end record needs how in {sorted(END_KINDS)}")

    @property
    def data(self) -> bytes:
        """The record's bytes (body chunk or frame payload); empty for other kinds."""
        value = self.fields.get("data", b"")
        return value if isinstance(value, bytes) else b""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": round(self.t, 6), "kind": self.kind}
        if self.kind not in _BYTE_KINDS:  # most records: no bytes to encode
            out.update(self.fields)
            return out
        for key, value in self.fields.items():
            if key == "data":
                out.update(_encode_bytes(value))
            else:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Record:
        kind = obj["kind"]
        fields = {k: v for k, v in obj.items() if k not in {"t", "kind", "data", "data_b64"}}
        if kind in _BYTE_KINDS:
            fields["data"] = _decode_bytes(obj)
        return cls(t=float(obj["t"]), kind=kind, fields=fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta:
    """What was asked, of whom, and why: enough to judge the transcript without the run.

    ``context`` carries what the recorder intended, e.g. ``{"stream": "public:local",
    "endpoint": "/api/v1/streaming/public/local", "auth": "header", "purpose": "stream",
    "expect_status": 200}``; judges read it instead of guessing. Captures get a context derived
    from their request line.
    """

    id: str
    transport: str
    request: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    source: str = "live"
    server: dict[str, Any] = field(default_factory=dict)
    started_at: str | None = None

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {sorted(TRANSPORTS)}")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "meta",
            "format": FORMAT_VERSION,
            "id": self.id,
            "transport": self.transport,
            "request": self.request,
            "context": self.context,
            "source": self.source,
            "server": self.server,
            "started_at": self.started_at,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Meta:
        return cls(
            id=obj["id"],
            transport=obj["transport"],
            request=obj.get("request", {}),
            context=obj.get("context", {}),
            source=obj.get("source", "live"),
            server=obj.get("server", {}),
            started_at=obj.get("started_at"),
        )


@dataclass(slots=True)
class Transcript:
    """A meta record plus the records in arrival order. Mutable only while recording."""

    meta: Meta
    records: list[Record] = field(default_factory=list)
    #: set by ``Redactor.transcript`` on the copy it returns: fingerprints (never the values) of
    #: the secrets that copy was redacted for, so a writer redacting again for the same or fewer
    #: secrets can skip the second pass (~0.05 s a run). None: never redacted.
    redacted_for: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def add(self, t: float, kind: str, **fields: Any) -> Record:
        record = Record(t=t, kind=kind, fields=fields)
        self.records.append(record)
        return record

    def of_kind(self, *kinds: str) -> Iterator[Record]:
        return (r for r in self.records if r.kind in kinds)

    @property
    def head(self) -> Record | None:
        return next(self.of_kind("response-head"), None)

    @property
    def end(self) -> Record | None:
        return next(self.of_kind("end"), None)

    @property
    def body(self) -> bytes:
        return b"".join(r.data for r in self.of_kind("body-chunk"))

    def header(self, name: str) -> str | None:
        """First value of a response header, case-insensitively; None if absent."""
        head = self.head
        if head is None:
            return None
        lname = name.lower()
        for key, value in head.fields.get("headers", []):
            if key.lower() == lname:
                return value
        return None

    def dumps(self) -> str:
        """The transcript as JSON Lines text (what ``dump`` writes)."""
        text = io.StringIO()
        self.dump(text)
        return text.getvalue()

    def dump(self, file: TextIO) -> None:
        """Write what ``dumps`` returns without joining it into one string: a run's stimulus log
        has a ~0.4 MB meta line, and every large temporary string is fresh memory to fault in."""
        file.write(_line(self.meta.to_json()))
        file.write("\n")
        if self.records:
            file.write("\n".join([_line(r.to_json()) for r in self.records]) + "\n")

    @classmethod
    def loads(cls, text: str, *, name: str = "<transcript>") -> Transcript:
        """One transcript from JSON Lines text, validated line by line like a file."""
        from conformance.transcript.reading import MAX_LINE_BYTES, decode_line

        lines = [
            (number, decode_line(name, number, line.encode("utf-8"), MAX_LINE_BYTES))
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
        if not lines:
            raise ValueError("empty transcript")
        transcripts = _build(name, lines)
        if len(transcripts) != 1:
            raise ValueError(f"{name}: {len(transcripts)} transcripts, expected one")
        return transcripts[0]


def write_transcripts(path: Path, transcripts: Iterable[Transcript]) -> None:
    """Write several transcripts to one ``.jsonl`` file, each starting with its meta line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for transcript in transcripts:
            transcript.dump(fh)


def read_transcripts(path: Path) -> list[Transcript]:
    """Read a file written by ``write_transcripts`` (one or more transcripts).

    The file may come from a bug report: only a regular file is opened, every line is bounded
    and validated against ``schemas/transcript.schema.json`` (``transcript/reading.py``), and any
    problem is a ``TranscriptFormatError`` (a ValueError) naming the file and the line."""
    from conformance.transcript.reading import TranscriptFormatError, iter_json_lines

    transcripts = _build(path, iter_json_lines(path))
    if not transcripts:
        raise TranscriptFormatError(path, 0, "no transcript in the file (empty)")
    return transcripts


def _build(name: Path | str, lines: Iterable[tuple[int, Any]]) -> list[Transcript]:
    """Transcripts from decoded lines: each meta line starts one, records follow it."""
    from conformance.transcript.reading import TranscriptFormatError, check_line

    out: list[Transcript] = []
    for number, obj in lines:
        is_meta = check_line(name, number, obj)
        if not is_meta and not out:
            raise TranscriptFormatError(name, number, "the first line must be the meta record")
        try:
            if is_meta:
                out.append(Transcript(meta=Meta.from_json(obj)))
            else:
                out[-1].records.append(Record.from_json(obj))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TranscriptFormatError(
                name, number, f"{type(exc).__name__}: {str(exc)[:160]}"
            ) from None
    return out
