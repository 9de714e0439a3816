"""Preflight: prove the run's setup works before any stream opens and before any write.

Why: a CI job with an expired secret, a wrong second token, a Redis that is down or a server
that advertises ``wss://`` but speaks plain HTTP used to go through the whole session and turn
the problem into hundreds of ``not_exercised`` cases (exit 0) or dozens of MUST failures *of the
server*. Each of those is a problem of the run's configuration, so it is found here, first, and
reported as ONE line naming the option to fix (``PreflightError``: exit 2). Nothing is opened
and nothing is written before it passes: the checks only read (``verify_credentials``, the
streaming health endpoint, a Redis ``PING``) and the report directory is checked without
creating anything.

Checks, in order (the first problem wins):

1. the report directory is writable (an existing directory, or a creatable path);
2. a token is given unless a token-less audit is asked for (``--anonymous``); the REST stimulus
   has both tokens;
3. each token is accepted (``GET /api/v1/accounts/verify_credentials``) and the two belong to
   different accounts;
4. the tokens' scopes cover the run where the server reports them
   (``GET /api/v1/apps/verify_credentials`` ``scopes``, Mastodon 4.3+); otherwise refusals
   show up later as 403s of the stimulus;
5. Redis answers ``PING`` (``--stimulus redis``);
6. the streaming URL answers with the advertised scheme: a TLS handshake met by plain HTTP
   (``SSL: WRONG_VERSION_NUMBER``) is explained with the ``--streaming-url ws://...`` fix.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance.config import Settings
from conformance.discovery import TargetInfo
from conformance.errors import SetupError
from conformance.tls import client_tls
from conformance.urls import without_userinfo

__all__ = [
    "ANONYMOUS_UNCHECKED",
    "PreflightError",
    "PreflightFacts",
    "check_report_dir",
    "covers",
    "needed_scopes",
    "preflight",
]

#: What a token-less audit (``--anonymous``) cannot check; the banner lists it.
ANONYMOUS_UNCHECKED = (
    "authenticated streams (user, user:notification, direct, list)",
    "event delivery (no stimulus: nothing is posted)",
    "token-bound checks (query/header/subprotocol token, revocation)",
)

_READ = ("read:statuses", "read:notifications", "read:accounts")
_WRITE = (
    "write:statuses",
    "write:favourites",
    "write:follows",
    "write:media",
    "write:lists",
    "write:mutes",
    "write:blocks",
)
#: The legacy ``follow`` scope grants these (Mastodon's Doorkeeper scopes).
_FOLLOW = (
    "read:follows",
    "read:blocks",
    "read:mutes",
    "write:follows",
    "write:blocks",
    "write:mutes",
)


class PreflightError(SetupError):
    """The run's setup cannot work; the message is one line naming the option to fix."""


@dataclass(frozen=True)
class PreflightFacts:
    """What preflight learnt: the accounts behind the tokens, the scopes when reported."""

    accounts: dict[str, str] = field(default_factory=dict)  # option -> account id
    scopes: dict[str, frozenset[str] | None] = field(default_factory=dict)
    checked: tuple[str, ...] = ()


def covers(granted: Iterable[str], needed: str) -> bool:
    """Whether granted scopes include ``needed`` (``read`` covers ``read:*``; ``follow`` its
    follow/block/mute scopes)."""
    granted = set(granted)
    if needed in granted or needed.split(":", 1)[0] in granted:
        return True
    return "follow" in granted and needed in _FOLLOW


def needed_scopes(settings: Settings) -> tuple[str, ...]:
    """The scopes each token needs for the planned cases: reading streams always, writing
    when the REST stimulus acts with it (both accounts post, follow, mute ...)."""
    writes = settings.stimulus == "rest" and not settings.read_only
    return _READ + (_WRITE if writes else ())


def check_report_dir(path: Path) -> None:
    """Raise PreflightError unless ``path`` is (or can be created as) a writable directory;
    creates nothing."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise PreflightError(
            f"--report-dir {path}: {probe} is not a directory; give a writable --report-dir"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PreflightError(
            f"--report-dir {path}: {probe} is not writable; give a writable --report-dir"
        )


def _ws_url(http_url: str) -> str:
    parts = urlsplit(http_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _tls_mismatch(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(seen):
            return True
        if "WRONG_VERSION_NUMBER" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _cert_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _account(
    client: httpx.AsyncClient, base: str, token: str, option: str, timeout_s: float
) -> tuple[str, str]:
    """(account id, acct) of a token; PreflightError naming ``option`` if it is refused."""
    url = _bearer_base(base) + "/api/v1/accounts/verify_credentials"
    try:
        response = await client.get(
            url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )
    except httpx.HTTPError as exc:
        raise PreflightError(
            f"{option}: could not check the token ({url}: {type(exc).__name__}); "
            "check --target and the network"
        ) from None
    if response.status_code in (401, 403):
        raise PreflightError(
            f"{option} is not accepted by the target (verify_credentials answered "
            f"{response.status_code}); give a valid access token"
        )
    if response.status_code != 200:
        raise PreflightError(
            f"{option}: verify_credentials answered {response.status_code}, not 200; "
            "check the token and --target"
        )
    try:
        body = response.json()
        return str(body["id"]), str(body.get("acct") or body.get("username") or body["id"])
    except (ValueError, KeyError, TypeError):
        raise PreflightError(
            f"{option}: verify_credentials answered 200 without an account id; check --target"
        ) from None


async def _scopes(
    client: httpx.AsyncClient, base: str, token: str, timeout_s: float
) -> frozenset[str] | None:
    """The token's scopes if the server reports them (Mastodon 4.3+), else None."""
    url = _bearer_base(base) + "/api/v1/apps/verify_credentials"
    try:
        response = await client.get(
            url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )
        if response.status_code != 200:
            return None
        scopes = response.json().get("scopes")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
        return frozenset(scopes)
    if isinstance(scopes, str):
        return frozenset(scopes.split())
    return None


async def _check_redis(url: str, timeout_s: float) -> None:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    try:
        await asyncio.wait_for(client.ping(), timeout_s)
    except (RedisError, OSError, TimeoutError) as exc:
        where = urlsplit(url)
        shown = f"{where.scheme}://{where.hostname}:{where.port or 6379}"
        raise PreflightError(
            f"--redis-url {shown} does not answer PING ({type(exc).__name__}); "
            "start Redis or fix --redis-url"
        ) from None
    finally:
        await client.aclose()


async def _check_streaming(
    client: httpx.AsyncClient, target: TargetInfo, settings: Settings, timeout_s: float
) -> None:
    """GET the streaming health endpoint with the advertised scheme; only a transport-level
    failure is a setup problem (any HTTP answer, even a 5xx, is the server's to be judged)."""
    if not target.streaming_advertised and not settings.streaming_url:
        return  # session/setup.check_streaming probes the origin and says why
    base = str(target.streaming_base).rstrip("/")
    url = base + "/api/v1/streaming/health"
    shown = _ws_url(base)
    try:
        await client.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        if _tls_mismatch(exc):
            plain = "ws://" + urlsplit(base).netloc
            raise PreflightError(
                f"the streaming URL {shown} speaks plain HTTP, not TLS (SSL: "
                f"WRONG_VERSION_NUMBER); give --streaming-url {plain}"
            ) from None
        if _cert_problem(exc):
            raise PreflightError(
                f"the streaming URL {shown}: TLS certificate not trusted; give --insecure "
                "(test servers) or a trusted certificate"
            ) from None
        option = "--streaming-url" if settings.streaming_url else "--streaming-url (advertised)"
        raise PreflightError(
            f"the streaming URL {shown} does not answer ({type(exc).__name__}); "
            f"give a working {option.split(' ')[0]}"
            + ("" if settings.streaming_url else f" (the target advertises {shown})")
        ) from None


async def preflight(
    settings: Settings,
    target: TargetInfo,
    *,
    report_dir: Path | None = None,
    anonymous: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PreflightFacts:
    """Every check above; raises PreflightError (one line) at the first problem."""
    mult = max(settings.timeout_multiplier or 1.0, 0.1)
    timeout_s = 10.0 * mult
    checked: list[str] = []
    if report_dir is not None:
        check_report_dir(report_dir)
        checked.append("report-dir")
    # Bare mode (``--streaming-url`` without ``--target``, ``conformance/bare.py``) has no REST
    # API to ask: its tokens are judged by the streams themselves.
    rest = settings.target is not None or target.embedded
    if not anonymous and not target.embedded and rest:
        if not settings.token:
            raise PreflightError(
                "no --token: give an access token (MSC_TOKEN), or --anonymous for a "
                "token-less audit that checks only what needs no account"
            )
        if settings.stimulus == "rest" and not settings.read_only and not settings.second_token:
            raise PreflightError(
                "the REST stimulus needs --second-token (a second account's token); or give "
                "--stimulus none / --read-only for a run that causes no events"
            )
    accounts: dict[str, str] = {}
    scopes: dict[str, frozenset[str] | None] = {}
    async with httpx.AsyncClient(
        verify=client_tls(settings.verify_tls), transport=transport, follow_redirects=False
    ) as client:
        acct: dict[str, str] = {}
        for option, token in (
            ("--token", settings.token),
            ("--second-token", settings.second_token),
        ):
            if not token or anonymous or not rest:
                continue
            accounts[option], acct[option] = await _account(
                client, target.base_url, token, option, timeout_s
            )
            scopes[option] = await _scopes(client, target.base_url, token, timeout_s)
            granted = scopes[option]
            if granted is not None:
                lacking = [s for s in needed_scopes(settings) if not covers(granted, s)]
                if lacking:
                    raise PreflightError(
                        f"{option} lacks the scope(s) {', '.join(lacking)} (it has "
                        f"{' '.join(sorted(granted)) or 'none'}); give a token with "
                        "'read write follow'"
                    )
        if accounts:
            checked.append("tokens")
        if len(accounts) == 2 and accounts["--token"] == accounts["--second-token"]:
            raise PreflightError(
                f"--token and --second-token belong to the same account (@{acct['--token']}); "
                "give a second account's token as --second-token"
            )
        if settings.redis_url and (settings.stimulus == "redis" or not target.embedded):
            await _check_redis(settings.redis_url, timeout_s)
            checked.append("redis")
        await _check_streaming(client, target, settings, timeout_s)
        checked.append("streaming-url")
    return PreflightFacts(accounts=accounts, scopes=scopes, checked=tuple(checked))


def _bearer_base(base: str) -> str:
    """``base`` without userinfo: httpx turns ``user:password@`` into a Basic Authorization
    header that would replace the token's Bearer one (the token is what is being checked)."""
    return without_userinfo(base).rstrip("/")
