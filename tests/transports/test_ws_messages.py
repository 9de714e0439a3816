"""Parsing Mastodon's WebSocket text frames, and the client control messages we send."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.transcript.captures import load_captures
from conformance.ws.messages import (
    ErrorMessage,
    Malformed,
    StreamMessage,
    decoded_payload,
    parse_server_text,
    subscribe_message,
    unsubscribe_message,
)


def test_stream_message() -> None:
    raw = '{"stream":["hashtag","Café"],"event":"update","payload":"{\\"id\\":\\"1\\"}"}'
    msg = parse_server_text(raw)
    assert msg == StreamMessage(
        stream=["hashtag", "Café"],
        event="update",
        payload='{"id":"1"}',
        payload_present=True,
        raw=raw,
    )
    assert decoded_payload(msg) == {"id": "1"}


def test_bare_string_payload_is_not_decoded() -> None:
    msg = parse_server_text('{"stream":["user"],"event":"delete","payload":"123"}')
    assert isinstance(msg, StreamMessage)
    assert decoded_payload(msg) == "123"


def test_numeric_payload_kept() -> None:
    msg = parse_server_text('{"stream":["user"],"event":"delete","payload":117693363060746879}')
    assert isinstance(msg, StreamMessage) and msg.payload == 117693363060746879


def test_missing_payload_flagged() -> None:
    msg = parse_server_text('{"stream":["user"],"event":"filters_changed"}')
    assert isinstance(msg, StreamMessage)
    assert msg.payload_present is False and msg.payload is None


def test_stream_not_a_list_reported_as_none() -> None:
    msg = parse_server_text('{"stream":"user","event":"update","payload":"{}"}')
    assert isinstance(msg, StreamMessage) and msg.stream is None


def test_error_message_with_and_without_status() -> None:
    assert parse_server_text('{"error":"Unknown stream type","status":400}') == ErrorMessage(
        error="Unknown stream type", status=400, raw='{"error":"Unknown stream type","status":400}'
    )
    msg = parse_server_text('{"error":"Not subscribed"}')
    assert isinstance(msg, ErrorMessage) and msg.status is None
    msg = parse_server_text('{"error":"x","status":true}')
    assert isinstance(msg, ErrorMessage) and msg.status is None


MALFORMED = ["", "not json", "[1,2]", '"str"', "{}", '{"error":5}', "[" * 5000]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_never_raises(text: str) -> None:
    assert isinstance(parse_server_text(text), Malformed)


def test_control_messages() -> None:
    assert subscribe_message("public:local") == '{"type":"subscribe","stream":"public:local"}'
    assert json.loads(subscribe_message("hashtag", tag="Café")) == {
        "type": "subscribe",
        "stream": "hashtag",
        "tag": "Café",
    }
    assert json.loads(unsubscribe_message("list", list_id="1")) == {
        "type": "unsubscribe",
        "stream": "list",
        "list": "1",
    }


def test_every_capture_server_text_frame_is_well_formed(captures_dir: Path) -> None:
    seen = 0
    for transcript in load_captures(captures_dir):
        for record in transcript.of_kind("ws-frame-recv"):
            if record.fields["opcode"] != "text":
                continue
            seen += 1
            msg = parse_server_text(record.data.decode("utf-8"))
            assert isinstance(msg, StreamMessage | ErrorMessage), (transcript.meta.id, msg)
            if isinstance(msg, StreamMessage):
                assert msg.stream and msg.event and msg.payload_present
    assert seen > 50
