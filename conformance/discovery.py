"""Find out what we are testing: the streaming URL, the version, and how careful to be.

Mastodon advertises its streaming server in ``/api/v2/instance``
(``configuration.urls.streaming``, a ``wss://`` URL) and, on older versions, in
``/api/v1/instance`` (``urls.streaming_api``). SSE uses the same host over ``https://``, so a
``ws(s)://`` base is mapped to ``http(s)://``. ``--streaming-url`` overrides discovery for
setups where the advertised URL is not reachable from the test machine.

Two facts decide what the run may do: ``is_reference`` (``GET /_reference/capabilities``
answers 200: the reference-only scenarios are available) and ``is_public_host`` (the target
resolves to a public address: public posts need ``--allow-public-posts``).

A target that advertises no streaming URL (v1 ``urls.streaming_api`` null, absent or empty and
v2 ``configuration.urls.streaming`` absent) is still a target: ``streaming_advertised`` is False
and the streaming base falls back to the target's own origin, where Mastodon serves the
streaming API by default behind nginx. The session then probes that origin's health endpoint
and either runs there (reporting the missing advertisement) or marks every streaming case
``not_exercised`` (``session/runner.py``, ``_check_streaming``).

``await discover(settings)`` returns a ``TargetInfo`` or raises ``DiscoveryError`` (the CLI and
the plugin turn it into exit status 2, one line): the target is unreachable, answers neither
instance document (nothing there speaks the Mastodon API), or answers in a way nothing can be
read from. What the target answers is untrusted input: a redirect loop, a body that cannot be
decoded (content encoding, UTF-8, JSON, nesting beyond ``safejson.MAX_JSON_DEPTH``), a document
larger than ``MAX_DOCUMENT_BYTES``, a wrong-shaped document or an advertised streaming URL that
is not a ws(s)/http(s) URL with a host is a ``DiscoveryError``, never a traceback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance import __version__, safejson
from conformance.config import Settings
from conformance.errors import SetupError
from conformance.tls import client_tls

__all__ = [
    "DiscoveryError",
    "TargetInfo",
    "discover",
    "http_base",
    "is_public_address",
    "origin",
]

REQUEST_TIMEOUT_S = 10.0
#: Largest instance document read (Mastodon's are about 10 KiB).
MAX_DOCUMENT_BYTES = 1 << 20
#: Redirects followed while discovering (no credential is sent during discovery).
MAX_REDIRECTS = 5
USER_AGENT = f"mastodon-streaming-conformance/{__version__}"


class DiscoveryError(SetupError):
    """The target could not be reached or is not a Mastodon API (no instance document)."""


@dataclass(frozen=True)
class TargetInfo:
    """What discovery found; ``streaming_base`` is http(s) (the ws(s) base derives from it)."""

    base_url: str
    streaming_base: str
    version: str | None
    instance: dict[str, Any] = field(default_factory=dict)
    is_reference: bool = False
    is_public_host: bool = True
    embedded: bool = False
    #: False: neither instance document advertises a streaming URL; without --streaming-url,
    #: ``streaming_base`` is then the target's origin, a guess the session verifies
    streaming_advertised: bool = True
    #: True: ``--streaming-url`` without ``--target`` (``conformance/bare.py``): no REST API
    bare: bool = False

    @property
    def ws_base(self) -> str:
        return ws_base(self.streaming_base)


def http_base(url: str) -> str:
    """``wss://host/x`` -> ``https://host/x`` (and ``ws`` -> ``http``); no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", "")).rstrip("/")


def ws_base(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", "")).rstrip("/")


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified)


async def _is_public_host(host: str) -> bool:
    """True if any address the host resolves to is public; unresolvable counts as public."""
    try:
        return is_public_address(host)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), REQUEST_TIMEOUT_S
        )
    except (OSError, TimeoutError):
        return True
    addresses = {info[4][0] for info in infos}
    return not addresses or any(is_public_address(a) for a in addresses)


async def _get_json(client: httpx.AsyncClient, base: str, path: str) -> tuple[int, Any]:
    """(status, decoded body or None for a body that is not JSON). Raises httpx errors, and
    ``DiscoveryError`` for a document too large or too deeply nested to read safely."""
    url = f"{base}{path}"
    async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT_BYTES:
                raise DiscoveryError(
                    f"target {base}: {path} answers a document larger than "
                    f"{MAX_DOCUMENT_BYTES} bytes"
                )
    try:
        decoded = safejson.loads(bytes(body), max_bytes=MAX_DOCUMENT_BYTES)
    except safejson.JSONBoundsError as exc:
        raise DiscoveryError(
            f"target {base}: {path} answers a document that cannot be read safely: {exc}"
        ) from None
    except ValueError:
        decoded = None
    return response.status_code, decoded


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


async def discover(
    settings: Settings,
    *,
    embedded: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TargetInfo:
    """Read the instance documents of ``settings.target`` (which must be set).

    Every failure is a ``DiscoveryError`` with one line naming the problem."""
    if settings.target is None:
        raise DiscoveryError("no target to discover (the embedded server sets one)")
    base = settings.target.rstrip("/")
    try:
        return await _discover(settings, base, embedded=embedded, transport=transport)
    except DiscoveryError:
        raise
    except httpx.TooManyRedirects:
        raise DiscoveryError(
            f"target {base} answers with more than {MAX_REDIRECTS} redirects (a redirect "
            "loop?): give the final URL as --target"
        ) from None
    except httpx.TransportError as exc:
        raise DiscoveryError(
            f"target {base} is unreachable: {type(exc).__name__}: {exc or 'no detail'}"
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise DiscoveryError(
            f"target {base}: its instance document cannot be read: "
            f"{type(exc).__name__}: {exc or 'no detail'}"
        ) from None
    except Exception as exc:  # untrusted answers: any other surprise is still one line, exit 2
        raise DiscoveryError(
            f"target {base}: discovery failed on an unexpected answer: "
            f"{type(exc).__name__}: {exc or 'no detail'}"
        ) from None


async def _discover(
    settings: Settings,
    base: str,
    *,
    embedded: bool,
    transport: httpx.AsyncBaseTransport | None,
) -> TargetInfo:
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S * settings.timeout_multiplier)
    async with httpx.AsyncClient(
        timeout=timeout,
        verify=client_tls(settings.verify_tls),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    ) as client:
        instance, streaming = await _read_instance(client, base)
        advertised = streaming is not None
        problem = _unusable(streaming) if streaming is not None else None
        if problem is not None and settings.streaming_url is None:
            raise DiscoveryError(
                f"target {base} advertises the streaming URL {streaming!r:.200}, which is "
                f"{problem}: give a usable one with --streaming-url"
            )
        if settings.streaming_url is not None:
            streaming = settings.streaming_url
        elif streaming is None:
            if not instance:
                raise DiscoveryError(
                    f"{base} answers neither /api/v2/instance nor /api/v1/instance with an "
                    "instance document: is it a Mastodon server? (--streaming-url skips "
                    "streaming discovery)"
                )
            streaming = origin(base)
        is_reference = await _answers_200(client, f"{base}/_reference/capabilities")
    host = urlsplit(base).hostname or ""
    version = instance.get("version")
    return TargetInfo(
        base_url=base,
        streaming_base=http_base(streaming),
        version=version if isinstance(version, str) else None,
        instance=instance,
        is_reference=is_reference,
        is_public_host=await _is_public_host(host),
        embedded=embedded,
        streaming_advertised=advertised,
    )


def _unusable(url: str) -> str | None:
    """Why an advertised streaming URL cannot be connected to (None if it can)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("ws", "wss", "http", "https"):
        return f"not a ws(s)/http(s) URL (scheme {parts.scheme or 'none'!r})"
    if not parts.hostname:
        return "a URL without a host"
    return None


def origin(url: str) -> str:
    """``https://host:8443/some/path`` -> ``https://host:8443``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


async def _read_instance(client: httpx.AsyncClient, base: str) -> tuple[dict[str, Any], str | None]:
    status, body = await _get_json(client, base, "/api/v2/instance")
    if status == 200 and isinstance(body, dict):
        streaming = _dig(body, "configuration", "urls", "streaming")
        if isinstance(streaming, str) and streaming:
            return body, streaming
        v2 = body
    else:
        v2 = {}
    status, body = await _get_json(client, base, "/api/v1/instance")
    if status == 200 and isinstance(body, dict):
        streaming = _dig(body, "urls", "streaming_api")
        merged = {**body, **v2}
        if isinstance(streaming, str) and streaming:
            return merged, streaming
        return merged, None
    return v2, None


async def _answers_200(client: httpx.AsyncClient, url: str) -> bool:
    """Whether ``url`` answers 200 (the body is never read: it may be anything)."""
    try:
        async with client.stream("GET", url) as response:
            return response.status_code == 200
    except (httpx.HTTPError, httpx.StreamError):
        return False
