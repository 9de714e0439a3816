"""Token redaction: every artifact the suite writes passes through a ``Redactor`` first.

Published logs leak secrets (the OpenID suite's warning), so recorders redact at record time:
request URLs and headers, response headers (Mastodon echoes ``Sec-WebSocket-Protocol``), and
body chunks or frames that might echo a token. Known secrets are replaced wherever they occur,
raw, percent-encoded (either hex case) or base64-encoded (standard and URL alphabets, at each of
the three byte alignments, so a token inside ``Basic base64(user:token)`` is caught too). In
addition the credential part of every ``Authorization`` header, every ``access_token`` query
value and the password of every ``user:password@`` URL are replaced even when they are not
known secrets, because a token the suite did not mint (a user's own) must not leak either.

Redaction cannot be split: a server may echo a token across two reads (or a body may be cut
into records anywhere), so byte streams are redacted as streams, never per read.
``StreamRedactor`` holds back the shortest tail that could still become a secret (at most the
longest secret's length minus one byte, and only when the tail *is* a secret prefix, so ordinary
traffic is never delayed) until more bytes arrive or the stream ends. The SSE and HTTP recorders
use one per connection, and ``Redactor.transcript`` (what every transcript writer and the
runner call) redacts all ``body-chunk`` records of a transcript as one stream. WebSocket frames
are redacted per frame: a frame arrives whole (its payload is never split across reads), and a
token split across *fragments* of one message is the one case this does not cover.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

from conformance.transcript.model import Record, Transcript

__all__ = [
    "MIN_DERIVED_SECRET",
    "REDACTED",
    "RedactingOutput",
    "Redactor",
    "StreamRedactor",
    "redact_userinfo",
    "redacting_output",
    "secret_prefixes",
    "secret_variants",
    "secrets_from_request",
    "secrets_from_url",
]

REDACTED = "REDACTED"
_REDACTED_BYTES = REDACTED.encode()
_ACCESS_TOKEN = re.compile(r"((?:^|[?&;])access_token=)([^&#;\s]*)")
#: ``scheme://user:password@`` in any text: the password goes, the user name stays.
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:)([^/?#@\s]+)(@)")
MIN_DERIVED_SECRET = 12
#: Shortest secret whose base64 forms are redacted (shorter ones would match ordinary text).
MIN_BASE64_SECRET = 6
_ALWAYS_HEADERS = frozenset({"authorization", "proxy-authorization"})
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _base64_cores(secret: bytes) -> set[str]:
    """The base64 characters that encode ``secret`` whatever precedes it (3 alignments)."""
    out: set[str] = set()
    if len(secret) < MIN_BASE64_SECRET:
        return out
    for lead in range(3):
        encoded = base64.b64encode(b"\0" * lead + secret).decode("ascii").rstrip("=")
        # Characters mixing filler bits (before) or unknown following bytes (after) go.
        skip = {0: 0, 1: 2, 2: 3}[lead]
        end = len(encoded) - (1 if (lead + len(secret)) % 3 else 0)
        core = encoded[skip:end]
        if len(core) >= 4:
            out.add(core)
            out.add(core.replace("+", "-").replace("/", "_"))
    return out


def secret_variants(secret: str) -> set[str]:
    """Every form in which ``secret`` is redacted: raw, percent-encoded, base64."""
    if not secret:
        return set()
    variants = {secret, quote(secret, safe=""), quote_plus(secret)}
    variants |= {_PERCENT.sub(lambda m: m.group(0).lower(), v) for v in list(variants)}
    variants |= _base64_cores(secret.encode("utf-8"))
    return {v for v in variants if v}


def redact_userinfo(text: str) -> str:
    """``scheme://user:password@host`` -> ``scheme://user:REDACTED@host``, anywhere in text."""
    if "@" not in text:
        return text
    return _USERINFO.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)


def secrets_from_url(url: str | None) -> list[str]:
    """The password of a URL's userinfo, as written and percent-decoded."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    return list(dict.fromkeys([password, unquote(password)])) if password else []


def secret_prefixes(secrets: Iterable[Any]) -> frozenset[Any]:
    """Every proper prefix of every secret: a stream's tail that is one may still grow into a
    secret, so it is held back."""
    return frozenset(s[:k] for s in secrets for k in range(1, len(s)))


class StreamRedactor:
    """Redacts a stream fed in arbitrary pieces: ``feed(bytes) -> bytes``, then ``flush()``.

    Whatever the split, no secret survives into the concatenated output. The output lags the
    input only by a tail that is itself the beginning of a secret. Secrets given as ``str``
    make a text stream redactor (``feed(str) -> str``), used for stdout and stderr.
    """

    def __init__(
        self, secrets: Iterable[bytes] | Iterable[str], *, prefixes: frozenset[Any] | None = None
    ) -> None:
        """``prefixes``: ``secret_prefixes(secrets)`` when the caller has it already (a
        ``Redactor`` makes one stream per transcript, ~70 a run, for the same secrets)."""
        ordered: list[Any] = sorted({s for s in secrets if s}, key=len, reverse=True)
        text = bool(ordered) and isinstance(ordered[0], str)
        self._empty: Any = "" if text else b""
        self._mask: Any = REDACTED if text else _REDACTED_BYTES
        joiner: Any = "|" if text else b"|"
        self._pattern = re.compile(joiner.join(re.escape(s) for s in ordered)) if ordered else None
        self._longest = len(ordered[0]) if ordered else 0
        self._prefixes = secret_prefixes(ordered) if prefixes is None else prefixes
        self._held: Any = self._empty

    @property
    def held(self) -> int:
        """Bytes (characters) currently held back."""
        return len(self._held)

    def feed(self, data: Any) -> Any:
        if self._pattern is None:
            return data
        buf = self._held + data
        cut = self._hold_from(buf)
        self._held = buf[cut:]
        return self._pattern.sub(self._mask, buf[:cut])

    def flush(self) -> Any:
        """The stream ended: release (redacted) whatever was held back."""
        held, self._held = self._held, self._empty
        if self._pattern is None or not held:
            return held
        return self._pattern.sub(self._mask, held)

    def _hold_from(self, buf: Any) -> int:
        """Where the held tail starts: the earliest position whose rest could grow a secret."""
        n = len(buf)
        start = max(0, n - self._longest + 1)
        cut = n
        for pos in range(start, n):
            if buf[pos:] in self._prefixes:
                cut = pos
                break
        if cut == n:
            return n
        # Never cut through a complete match that began earlier: hold the whole match.
        assert self._pattern is not None
        for match in self._pattern.finditer(buf, max(0, cut - self._longest)):
            if match.start() < cut < match.end():
                return match.start()
            if match.start() >= cut:
                break
        return cut


class Redactor:
    """Replaces every occurrence of the given secrets (and their encoded forms) with ``REDACTED``.

    Empty secrets are ignored. Longer secrets are replaced first, so a secret that contains
    another is removed whole.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._originals = list(dict.fromkeys(s for s in secrets if s))
        self._fingerprints = frozenset(_fingerprint(s) for s in self._originals)
        variants: set[str] = set()
        for secret in self._originals:
            variants |= secret_variants(secret)
        self._secrets = sorted(variants, key=len, reverse=True)
        self._secret_bytes = [s.encode("utf-8") for s in self._secrets]
        self._byte_prefixes = secret_prefixes(self._secret_bytes)
        #: a string shorter than every secret form cannot hold one (most JSON keys and values)
        self._shortest = min((len(v) for v in self._secrets), default=0)
        self._text_re = (
            re.compile("|".join(re.escape(s) for s in self._secrets)) if variants else None
        )
        self._bytes_re = (
            re.compile(b"|".join(re.escape(s) for s in self._secret_bytes)) if variants else None
        )

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def extend(self, secrets: Iterable[str]) -> Redactor:
        """A redactor that also knows ``secrets``."""
        return Redactor([*self._originals, *secrets])

    def stream(self) -> StreamRedactor:
        """A fresh per-connection stream redactor for these secrets."""
        return StreamRedactor(self._secret_bytes, prefixes=self._byte_prefixes)

    def text(self, value: str) -> str:
        if self._text_re is not None and len(value) >= self._shortest:
            value = self._text_re.sub(REDACTED, value)
        return redact_userinfo(value)

    def bytes(self, value: bytes) -> bytes:
        if self._bytes_re is not None and len(value) >= self._shortest:
            value = self._bytes_re.sub(_REDACTED_BYTES, value)
        return value

    def mask_across(self, parts: Sequence[bytes]) -> list[bytes]:
        """``parts`` (one message's frames, each already redacted alone) with every secret that
        spans a boundary masked by ``*`` of the same length, so each part keeps its length and the
        frames stay true evidence of their sizes; a secret inside one part was already replaced.
        """
        joined = b"".join(parts)
        if self._bytes_re is None or not self._bytes_re.search(joined):
            return list(parts)
        masked = bytearray(joined)
        for match in self._bytes_re.finditer(joined):
            masked[match.start() : match.end()] = b"*" * (match.end() - match.start())
        out, at = [], 0
        for part in parts:
            out.append(bytes(masked[at : at + len(part)]))
            at += len(part)
        return out

    def url(self, url: str) -> str:
        """Known secrets, any ``access_token=`` query value and any userinfo password."""
        url = self.text(url)
        return _ACCESS_TOKEN.sub(lambda m: m.group(1) + (REDACTED if m.group(2) else ""), url)

    def header_value(self, name: str, value: str) -> str:
        lname = name.lower()
        if lname in _ALWAYS_HEADERS and value:
            scheme, sep, credential = value.partition(" ")
            if sep and credential:
                return f"{scheme} {REDACTED}"
            return REDACTED
        return self.text(value)

    def headers(self, headers: Iterable[Sequence[str]]) -> list[list[str]]:
        """Headers as ``[[name, value], ...]`` in the given order, values redacted."""
        return [[name, self.header_value(name, value)] for name, value in headers]

    def json(self, obj: Any) -> Any:
        """A redacted copy of nested JSON-like data (str, bytes, lists, tuples, dicts).

        Iterative, so hostile nesting depth cannot exhaust the stack.
        """
        return _redact_json(self, obj)

    def record(self, record: Record, *, keep: str | None = None) -> Record:
        """A redacted copy; the field named ``keep`` is copied as it is (the caller redacts it
        otherwise: a body chunk's ``data`` goes through the transcript's stream redactor)."""
        fields: dict[str, Any] = {}
        head = record.kind == "response-head"
        for key, value in record.fields.items():
            kind = type(value)
            if key == keep or kind in _SCALARS:  # most fields: numbers, flags, None
                fields[key] = value
            elif head and key == "headers":
                fields[key] = self.headers(value)
            elif kind is str:
                fields[key] = self.text(value)
            elif kind is bytes:
                fields[key] = self.bytes(value)
            else:
                fields[key] = self.json(value)
        return Record(t=record.t, kind=record.kind, fields=fields)

    def request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in request.items():
            if key in {"url", "path", "target"} and isinstance(value, str):
                out[key] = self.url(value)
            elif key == "headers" and isinstance(value, list):
                out[key] = self.headers(value)
            else:
                out[key] = self.json(value)
        return out

    def transcript(self, transcript: Transcript) -> Transcript:
        """A redacted copy; the ``body-chunk`` records are redacted as one byte stream.

        A secret split across two records is removed: the bytes that could start a secret move
        to the next body record (or, at the end, stay in the last one). A transcript this class
        already redacted for these secrets or more (``Transcript.redacted_for``) is returned as
        it is: redaction is idempotent, and the always-redacted forms (Authorization, access
        tokens, URL passwords) do not depend on the secrets.
        """
        done = transcript.redacted_for
        if done is not None and self._fingerprints <= done:
            return transcript
        meta = transcript.meta
        meta = replace(meta, request=self.request(meta.request), context=self.json(meta.context))
        records = [
            self.record(r, keep="data" if r.kind == "body-chunk" else None)
            for r in transcript.records
        ]
        stream = self.stream()
        last: int | None = None
        for index, record in enumerate(records):
            if record.kind != "body-chunk":
                continue
            records[index] = _with_data(record, stream.feed(record.data))
            last = index
        rest = stream.flush()
        if rest and last is not None:
            records[last] = _with_data(records[last], records[last].data + rest)
        return Transcript(meta=meta, records=records, redacted_for=self._fingerprints)


class RedactingOutput:
    """A text stream (``sys.stdout``/``sys.stderr``) that redacts what is written to it.

    A last line of defence for messages the suite did not build through a ``Redactor`` (a
    third-party exception naming the target URL with its password). Writes pass through a
    text ``StreamRedactor``, so a secret split across two writes is caught; ``release`` (at
    the end) writes out whatever prefix of a secret is still held back.
    """

    def __init__(self, wrapped: Any, secrets: Iterable[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants |= secret_variants(secret)
        self._wrapped = wrapped
        self._stream = StreamRedactor(variants)

    def write(self, text: str) -> int:
        self._wrapped.write(redact_userinfo(self._stream.feed(text)))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def release(self) -> None:
        rest = self._stream.flush()
        if rest:
            self._wrapped.write(rest)
        self._wrapped.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


@contextlib.contextmanager
def redacting_output(secrets: Iterable[str]) -> Iterator[None]:
    """Redact ``secrets`` from everything written to ``sys.stdout`` and ``sys.stderr``."""
    values = [s for s in secrets if s]
    saved = sys.stdout, sys.stderr
    out, err = RedactingOutput(saved[0], values), RedactingOutput(saved[1], values)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.release()


def _fingerprint(secret: str) -> str:
    """What ``Transcript.redacted_for`` holds for a secret: a digest, never the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _with_data(record: Record, data: bytes) -> Record:
    return Record(t=record.t, kind=record.kind, fields={**record.fields, "data": data})


_SCALARS = frozenset({int, float, bool, type(None)})


def _redact_json(redactor: Redactor, obj: Any) -> Any:
    """Depth-independent copy of JSON-like data with every string and bytes value redacted."""

    def leaf(value: Any) -> tuple[bool, Any]:
        kind = type(value)
        if kind in _SCALARS:  # the common JSON leaves, without the slower ABC checks below
            return True, value
        if kind is str or isinstance(value, str):
            return True, redactor.text(value)
        if isinstance(value, bytes | bytearray):
            return True, redactor.bytes(bytes(value))
        if kind is dict or kind is list or isinstance(value, Mapping | list | tuple):
            return False, None
        return True, value

    done, value = leaf(obj)
    if done:
        return value
    root: Any = {} if isinstance(obj, Mapping) else []
    stack: list[tuple[Any, Any]] = [(obj, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, child in items:
            done, value = leaf(child)
            if not done:
                value = {} if isinstance(child, Mapping) else []
                stack.append((child, value))
            if isinstance(target, dict):
                target[redactor.text(key) if isinstance(key, str) else key] = value
            else:
                target.append(value)
    return root


def secrets_from_request(
    url: str | None = None, headers: Iterable[Sequence[str]] = (), token: str | None = None
) -> list[str]:
    """Secrets visible in a request: its bearer token, ``access_token``, WS subprotocol and
    the password of the URL's userinfo.

    Values derived from headers and the URL shorter than ``MIN_DERIVED_SECRET`` characters are
    skipped: a deliberately bogus token such as ``x`` must not blank out every ``x`` in a body
    (the header and query positions are redacted regardless). ``token`` is always kept.
    """
    derived: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname in _ALWAYS_HEADERS:
            derived.append(value.partition(" ")[2] or value)
        elif lname == "sec-websocket-protocol":
            derived.append(value.strip())
            derived.extend(part.strip() for part in value.split(","))
    if url:
        derived.extend(m.group(2) for m in _ACCESS_TOKEN.finditer(url))
    found = [token] if token else []
    found.extend(s for s in derived if len(s) >= MIN_DERIVED_SECRET)
    found.extend(secrets_from_url(url))
    return found
