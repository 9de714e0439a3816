"""Token redaction: known secrets everywhere, credentials in their usual places always."""

from __future__ import annotations

from conformance.redact import REDACTED, Redactor, secrets_from_request
from conformance.transcript.model import Meta, Transcript

TOKEN = "aliceTokenReadWriteFollowPush0000000000001"


def test_text_bytes_and_percent_encoded() -> None:
    r = Redactor([TOKEN, "a/b+c="])
    assert r.text(f"x{TOKEN}y") == f"x{REDACTED}y"
    assert r.bytes(f"data: {TOKEN}\n".encode()) == b"data: REDACTED\n"
    assert r.text("q=a%2Fb%2Bc%3D") == f"q={REDACTED}"


def test_empty_secrets_ignored() -> None:
    r = Redactor(["", TOKEN])
    assert r.text("unchanged") == "unchanged"
    assert not Redactor([""]).active


def test_url_access_token_always_redacted() -> None:
    r = Redactor([])
    url = "ws://h/api/v1/streaming?stream=user&access_token=someoneElsesToken&x=1"
    assert r.url(url) == f"ws://h/api/v1/streaming?stream=user&access_token={REDACTED}&x=1"
    assert r.url("http://h/p?access_token=") == "http://h/p?access_token="


def test_headers_keep_scheme_and_order() -> None:
    r = Redactor([TOKEN])
    headers = [
        ("Authorization", f"Bearer {TOKEN}"),
        ("X-A", "1"),
        ("Sec-WebSocket-Protocol", TOKEN),
        ("authorization", "bogus"),
    ]
    assert r.headers(headers) == [
        ["Authorization", f"Bearer {REDACTED}"],
        ["X-A", "1"],
        ["Sec-WebSocket-Protocol", REDACTED],
        ["authorization", REDACTED],
    ]


def test_nested_json() -> None:
    r = Redactor([TOKEN])
    obj = {"a": [TOKEN, {"b": f"Bearer {TOKEN}"}], "n": 1, "raw": TOKEN.encode()}
    assert r.json(obj) == {
        "a": [REDACTED, {"b": f"Bearer {REDACTED}"}],
        "n": 1,
        "raw": REDACTED.encode(),
    }


def test_transcript_copy_has_no_token() -> None:
    meta = Meta(
        id="x",
        transport="ws",
        request={
            "url": f"ws://h/?access_token={TOKEN}",
            "headers": [["Sec-WebSocket-Protocol", TOKEN]],
        },
    )
    t = Transcript(meta=meta)
    t.add(
        0.0,
        "response-head",
        status=101,
        reason="",
        http_version="HTTP/1.1",
        headers=[["Sec-WebSocket-Protocol", TOKEN]],
    )
    t.add(0.1, "ws-frame-recv", opcode="text", data=f'{{"echo":"{TOKEN}"}}'.encode())
    t.add(0.2, "stimulus", action="rest", detail={"token": TOKEN}, marker=None)
    redacted = Redactor([TOKEN]).transcript(t)
    assert TOKEN not in redacted.dumps()
    assert TOKEN in t.dumps()  # the original is untouched


def test_secrets_from_request() -> None:
    found = secrets_from_request(
        f"http://h/?access_token={TOKEN}",
        [
            ("Authorization", "Bearer fake.token.value.0123"),
            ("Sec-WebSocket-Protocol", f"{TOKEN}, mastodon"),
        ],
    )
    assert TOKEN in found and "fake.token.value.0123" in found
    assert "mastodon" not in found  # too short to be a token: never blank out plain words
    assert secrets_from_request(None, [("Authorization", "Bearer x")]) == []
