"""Token redaction: known secrets everywhere, credentials in their usual places always."""

from __future__ import annotations

import base64
import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.redact import REDACTED, RedactingOutput, Redactor, secrets_from_request
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


def test_second_redaction_skipped_only_when_no_new_secret() -> None:
    """A writer redacting an already-redacted copy again for the same (or fewer) secrets gets
    it back as is; a redactor knowing one more secret still removes it."""
    other = "anothersecretvalue42"
    t = Transcript(meta=Meta(id="x", transport="sse", request={"url": "http://h/"}))
    t.add(0.0, "body-chunk", data=f"data: {TOKEN} {other}\n\n".encode())
    once = Redactor([TOKEN]).transcript(t)
    assert Redactor([TOKEN]).transcript(once) is once
    assert Redactor().transcript(once) is once
    assert other in once.dumps()
    twice = Redactor([TOKEN, other]).transcript(once)
    assert twice is not once and other not in twice.dumps() and TOKEN not in twice.dumps()
    assert Redactor([other]).transcript(twice) is twice
    # the marker holds digests, never a secret
    assert once.redacted_for and not any(TOKEN in f for f in once.redacted_for)
    assert t.redacted_for is None


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


# -- redaction that cannot be split (issue 15 item 2) ---------------------------------------

SECRETS = [TOKEN, "hunter2Secret99", "a/b+c=d%e"]
PASSWORD = "hunter2Secret99"


def _forms(secret: str) -> list[bytes]:
    from urllib.parse import quote

    raw = secret.encode()
    return [
        raw,
        quote(secret, safe="").encode(),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe="")).encode(),
        base64.b64encode(raw),
        base64.b64encode(b"user:" + raw),
        base64.urlsafe_b64encode(b"xy" + raw),
    ]


def _leaks(out: bytes, secret: str) -> bool:
    """True if ``out`` still carries ``secret`` in any form (base64: its core characters)."""
    raw = secret.encode()
    if raw in out or quote_all(secret).encode() in out:
        return True
    for lead in range(3):
        core = base64.b64encode(b"\0" * lead + raw).rstrip(b"=")[{0: 0, 1: 2, 2: 3}[lead] : -1]
        if core in out or core.replace(b"+", b"-").replace(b"/", b"_") in out:
            return True
    return False


def quote_all(secret: str) -> str:
    from urllib.parse import quote

    return quote(secret, safe="")


def test_stream_redactor_every_split_point() -> None:
    stream_secrets = Redactor(SECRETS)
    for secret in SECRETS:
        for form in _forms(secret):
            body = b"event: update\ndata: {" + form + b"}\n\n"
            for cut in range(len(body) + 1):
                stream = stream_secrets.stream()
                out = stream.feed(body[:cut]) + stream.feed(body[cut:]) + stream.flush()
                assert not _leaks(out, secret), (secret, form, cut, out)
                assert out.startswith(b"event: update\ndata: {")
                assert REDACTED.encode() in out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"x", b"\n", b"ali", b"ce", b"Tok", b" ", *_forms(TOKEN)]), max_size=12
    ),
    st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_stream_redactor_any_chunking(parts: list[bytes], cuts: list[int]) -> None:
    """Redacting in pieces removes every secret the whole-buffer redaction removes."""
    data = b"".join(parts)
    stream = Redactor(SECRETS).stream()
    out = b""
    last = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        out += stream.feed(data[last:cut])
        last = cut
    out += stream.feed(data[last:]) + stream.flush()
    whole = Redactor(SECRETS).stream()
    assert out == whole.feed(data) + whole.flush()
    assert not _leaks(out, TOKEN)


def test_stream_redactor_holds_only_secret_prefixes() -> None:
    """Ordinary traffic is never delayed: only a tail that could start a secret is held."""
    stream = Redactor([TOKEN]).stream()
    assert stream.feed(b"event: update\ndata: {}\n\n") == b"event: update\ndata: {}\n\n"
    assert stream.feed(b"data: ali") == b"data: "
    assert stream.held == 3
    assert stream.feed(b"as\n") == b"alias\n"
    assert stream.flush() == b""


def test_transcript_redacts_body_records_as_one_stream() -> None:
    meta = Meta(id="s", transport="sse", request={"url": "http://h/"})
    t = Transcript(meta=meta)
    half = len(TOKEN) // 2
    t.add(0.0, "connect")
    t.add(0.1, "body-chunk", data=b"data: " + TOKEN[:half].encode())
    t.add(0.2, "body-chunk", data=TOKEN[half:].encode() + b"\n\n")
    t.add(0.3, "body-chunk", data=b"data: " + TOKEN[:5].encode())
    t.add(0.4, "end", how="eof", detail="")
    redacted = Redactor([TOKEN]).transcript(t)
    assert TOKEN not in redacted.dumps()
    assert TOKEN[:half] not in redacted.body.decode()
    assert redacted.body == b"data: REDACTED\n\ndata: " + TOKEN[:5].encode()
    assert [r.t for r in redacted.records] == [r.t for r in t.records]


def test_userinfo_password_is_a_secret_everywhere() -> None:
    url = f"http://user:{PASSWORD}@127.0.0.1:3000/api"
    assert PASSWORD in secrets_from_request(url)
    r = Redactor([])
    assert r.url(url) == "http://user:REDACTED@127.0.0.1:3000/api"
    assert r.text(f"target {url} is unreachable") == (
        "target http://user:REDACTED@127.0.0.1:3000/api is unreachable"
    )
    basic = base64.b64encode(f"user:{PASSWORD}".encode())
    assert PASSWORD.encode() not in base64.b64decode(Redactor([PASSWORD]).bytes(basic) + b"==")


def test_settings_secrets_include_url_passwords() -> None:
    from conformance.config import Settings, describe_settings

    s = Settings(target=f"http://user:{PASSWORD}@h:1", token=TOKEN)
    assert PASSWORD in s.secrets()
    assert all(PASSWORD not in line for line in describe_settings(s))


def test_redacting_output_catches_split_writes() -> None:
    sink = io.StringIO()
    out = RedactingOutput(sink, [TOKEN, PASSWORD])
    half = len(TOKEN) // 2
    out.write("token " + TOKEN[:half])
    out.write(TOKEN[half:] + " and http://u:" + PASSWORD[:4])
    out.write(PASSWORD[4:] + "@h/\n")
    out.write("tail ali")
    out.release()
    text = sink.getvalue()
    assert TOKEN not in text and PASSWORD not in text
    assert text == "token REDACTED and http://u:REDACTED@h/\ntail ali"


def test_json_redaction_survives_hostile_nesting() -> None:
    deep: object = TOKEN
    for _ in range(200_000):
        deep = [deep]
    out = Redactor([TOKEN]).json({"k": deep})
    for _ in range(200_001):
        out = out[0] if isinstance(out, list) else out["k"]
    assert out == REDACTED
