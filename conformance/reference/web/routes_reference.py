"""Reference-only endpoints under /_reference/ (not Mastodon).

They cause what a real server does only through federation, admin screens or settings pages:
remote statuses, announcements, scoped/app-only tokens, disabled/suspended accounts, feed-access
settings, chosen languages and role permissions. The suite uses them only when
``GET /_reference/capabilities`` answers 200; no authentication is required.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from conformance.reference.seed import REMOTE_DOMAIN
from conformance.reference.store import Account, Announcement, MediaAttachment, utcnow
from conformance.reference.web.context import (
    ApiError,
    api,
    context,
    json_response,
    read_params,
    unprocessable,
)
from conformance.reference.web.fanout import FanOut
from conformance.reference.web.posting import build_status, edit_status
from conformance.reference.web.textparse import parse_status_text

routes = web.RouteTableDef()

CAPABILITIES = {
    "remote_statuses": [
        "POST /_reference/remote_statuses",
        "PUT /_reference/remote_statuses/:id",
        "DELETE /_reference/remote_statuses/:id",
    ],
    "announcements": ["POST /_reference/announcements", "DELETE /_reference/announcements/:id"],
    "tokens": ["POST /_reference/tokens"],
    "account_state": [
        "POST /_reference/accounts/:id/disable",
        "POST /_reference/accounts/:id/enable",
        "POST /_reference/accounts/:id/suspend",
        "POST /_reference/accounts/:id/unsuspend",
        "PATCH /_reference/accounts/:id",
    ],
    "settings": ["PUT /_reference/settings/:name"],
}
FEED_SETTINGS = (
    "local_live_feed_access",
    "remote_live_feed_access",
    "local_topic_feed_access",
    "remote_topic_feed_access",
)


@routes.get("/_reference/capabilities")
@api
async def capabilities(request: web.Request) -> web.StreamResponse:
    return json_response(
        {"reference": True, "capabilities": sorted(CAPABILITIES), "endpoints": CAPABILITIES}
    )


def _remote_author(request: web.Request) -> Account:
    store = context(request).store
    account = next((a for a in store.accounts.values() if a.domain == REMOTE_DOMAIN), None)
    if account is None:
        raise ApiError(404, "Record not found")
    return account


@routes.post("/_reference/remote_statuses")
@api
async def create_remote_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    params = await read_params(request)
    author = _remote_author(request)
    renderer = ctx.renderer(request)
    media_ids = []
    if params.bool("media"):
        media = ctx.store.add_media(
            MediaAttachment(
                id=ctx.store.new_id(),
                account_id=author.id,
                description=params.str("media_description") or "A remote image",
                file_key="remote.jpeg",
            )
        )
        media.remote_url = f"https://files.{REMOTE_DOMAIN}/media/{media.id}.jpeg"
        media_ids.append(media.id)
    language = params.str("language") if params.present("language") else "en"
    status = build_status(
        ctx.store,
        renderer,
        author,
        text=params.str("text", "") or "",
        visibility=params.str("visibility"),
        spoiler_text=params.str("spoiler_text", "") or "",
        sensitive=params.bool("sensitive"),
        language=language,
        in_reply_to_id=params.str("in_reply_to_id"),
        media_ids=media_ids,
    )
    await FanOut(ctx.store, ctx.bus, renderer).distribute(status)
    return json_response(renderer.status(status))


@routes.put("/_reference/remote_statuses/{id}")
@api
async def edit_remote_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    author = _remote_author(request)
    status = ctx.store.status(request.match_info["id"])
    if status is None or status.account_id != author.id:
        raise ApiError(404, "Record not found")
    params = await read_params(request)
    renderer = ctx.renderer(request)
    edit_status(
        ctx.store,
        renderer,
        status,
        text=params.str("text"),
        spoiler_text=params.str("spoiler_text"),
        sensitive=None,
        language=params.str("language"),
        media_ids=None,
    )
    await FanOut(ctx.store, ctx.bus, renderer).distribute(status, update=True)
    return json_response(renderer.status(status))


@routes.delete("/_reference/remote_statuses/{id}")
@api
async def delete_remote_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    author = _remote_author(request)
    status = ctx.store.status(request.match_info["id"])
    if status is None or status.account_id != author.id:
        raise ApiError(404, "Record not found")
    await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).remove(status)
    return json_response({})


@routes.post("/_reference/announcements")
@api
async def create_announcement(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    params = await read_params(request)
    text = params.str("text") or ""
    if not text.strip():
        raise unprocessable("Text can't be blank")
    renderer = ctx.renderer(request)
    parsed = parse_status_text(text, base_url=renderer.base_url, resolve=lambda u, d: None)
    now = utcnow()
    announcement = Announcement(
        id=ctx.store.serial("announcement"),
        text=text,
        content=parsed.content,
        published_at=now,
        updated_at=now,
        starts_at=_datetime(params.str("starts_at")),
        ends_at=_datetime(params.str("ends_at")),
        all_day=params.bool("all_day"),
    )
    ctx.store.announcements[announcement.id] = announcement
    await FanOut(ctx.store, ctx.bus, renderer).announcement(announcement)
    return json_response(renderer.announcement(announcement))


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise unprocessable("Invalid date") from exc


@routes.delete("/_reference/announcements/{id}")
@api
async def delete_announcement(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    announcement = ctx.store.announcements.pop(request.match_info["id"], None)
    if announcement is None:
        raise ApiError(404, "Record not found")
    await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).announcement_delete(announcement.id)
    return json_response({})


@routes.post("/_reference/tokens")
@api
async def mint_token(request: web.Request) -> web.StreamResponse:
    """``account_id: null`` mints an app-only token (valid for nothing that needs a user)."""
    ctx = context(request)
    params = await read_params(request)
    account_id = params.str("account_id")
    if account_id is not None and ctx.store.account(account_id) is None:
        raise ApiError(404, "Record not found")
    raw = params.get_list("scopes") if isinstance(params.raw("scopes"), list) else None
    if raw is None:
        raw = (params.str("scopes") or "read").split()
    token = ctx.store.mint_token(account_id, frozenset(str(s) for s in raw))
    return json_response(
        {"access_token": token.token, "id": token.id, "scope": " ".join(sorted(token.scopes))}
    )


def _account(request: web.Request) -> Account:
    account = context(request).store.account(request.match_info["id"])
    if account is None:
        raise ApiError(404, "Record not found")
    return account


def _state(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "disabled": account.disabled,
        "suspended": account.suspended,
        "chosen_languages": account.chosen_languages,
        "role_permissions": account.role_permissions,
    }


@routes.post("/_reference/accounts/{id}/{action:disable|enable|suspend|unsuspend}")
@api
async def account_state(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    account = _account(request)
    action = request.match_info["action"]
    if action in ("disable", "enable"):
        account.disabled = action == "disable"
    else:
        account.suspended = action == "suspend"
    if action in ("disable", "suspend"):
        await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).kill_account(account.id)
    return json_response(_state(account))


@routes.patch("/_reference/accounts/{id}")
@api
async def account_settings(request: web.Request) -> web.StreamResponse:
    """``chosen_languages`` (list or null) and ``role_permissions`` (int bitmask)."""
    account = _account(request)
    params = await read_params(request)
    if params.present("chosen_languages"):
        languages = params.raw("chosen_languages")
        account.chosen_languages = (
            None if languages is None else [str(x) for x in params.get_list("chosen_languages")]
        )
    permissions = params.int("role_permissions")
    if permissions is not None:
        account.role_permissions = permissions
    return json_response(_state(account))


@routes.put("/_reference/settings/{name}")
@api
async def put_setting(request: web.Request) -> web.StreamResponse:
    """Feed-access settings, stored YAML-encoded like Rails settings (``--- disabled\\n``)."""
    ctx = context(request)
    name = request.match_info["name"]
    if name not in FEED_SETTINGS:
        raise ApiError(404, "Record not found")
    params = await read_params(request)
    value = params.str("value") or ""
    if value not in ("public", "authenticated", "disabled"):
        raise unprocessable("Value is not included in the list")
    ctx.store.settings[name] = f"--- {value}\n"
    return json_response({"name": name, "value": value})
