"""Token redaction: every artifact the suite writes passes through a ``Redactor`` first.

Published logs leak secrets (the OpenID suite's warning), so recorders redact at record time:
request URLs and headers, response headers (Mastodon echoes ``Sec-WebSocket-Protocol``), and
body chunks or frames that might echo a token. Known secrets are replaced wherever they occur,
raw or percent-encoded; in addition the credential part of every ``Authorization`` header and
every ``access_token`` query value is replaced even when it is not a known secret, because a
token the suite did not mint (a user's own) must not leak either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus

from conformance.transcript.model import Record, Transcript

__all__ = ["MIN_DERIVED_SECRET", "REDACTED", "Redactor", "secrets_from_request"]

REDACTED = "REDACTED"
_ACCESS_TOKEN = re.compile(r"((?:^|[?&;])access_token=)([^&#;\s]*)")
MIN_DERIVED_SECRET = 12
_ALWAYS_HEADERS = frozenset({"authorization", "proxy-authorization"})


class Redactor:
    """Replaces every occurrence of the given secrets with ``REDACTED``.

    Empty secrets are ignored. Longer secrets are replaced first, so a secret that contains
    another is removed whole.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._originals = [s for s in secrets if s]
        variants: set[str] = set()
        for secret in self._originals:
            if not secret:
                continue
            variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
        self._secrets = sorted(variants, key=len, reverse=True)
        self._secret_bytes = [s.encode("utf-8") for s in self._secrets]

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def extend(self, secrets: Iterable[str]) -> Redactor:
        """A redactor that also knows ``secrets``."""
        return Redactor([*self._originals, *secrets])

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def bytes(self, value: bytes) -> bytes:
        for secret in self._secret_bytes:
            if secret in value:
                value = value.replace(secret, REDACTED.encode())
        return value

    def url(self, url: str) -> str:
        """Known secrets, and any ``access_token=`` query value."""
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
        """A redacted copy of nested JSON-like data (str, bytes, lists, tuples, dicts)."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, bytes | bytearray):
            return self.bytes(bytes(obj))
        if isinstance(obj, Mapping):
            return {
                self.text(str(k)) if isinstance(k, str) else k: self.json(v) for k, v in obj.items()
            }
        if isinstance(obj, list | tuple):
            return [self.json(v) for v in obj]
        return obj

    def record(self, record: Record) -> Record:
        fields = dict(record.fields)
        if record.kind == "response-head" and "headers" in fields:
            fields["headers"] = self.headers(fields["headers"])
            fields = {k: (v if k == "headers" else self.json(v)) for k, v in fields.items()}
        else:
            fields = {k: self.json(v) for k, v in fields.items()}
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
        """A redacted copy (e.g. before publishing a capture-derived transcript)."""
        meta = transcript.meta
        meta = replace(meta, request=self.request(meta.request), context=self.json(meta.context))
        return Transcript(meta=meta, records=[self.record(r) for r in transcript.records])


def secrets_from_request(
    url: str | None = None, headers: Iterable[Sequence[str]] = (), token: str | None = None
) -> list[str]:
    """Secrets visible in a request: its bearer token, ``access_token`` and WS subprotocol.

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
    return found
