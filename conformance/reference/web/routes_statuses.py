"""/api/v1/statuses: post, show, edit, delete, favourite, reblog."""

from __future__ import annotations

from aiohttp import web

from conformance.reference.store import Status
from conformance.reference.web.context import (
    ApiError,
    api,
    context,
    json_response,
    read_params,
)
from conformance.reference.web.fanout import FanOut
from conformance.reference.web.posting import build_status, edit_status, visible_status

routes = web.RouteTableDef()


@routes.post("/api/v1/statuses")
@api
async def create_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    token, account = ctx.require(request, "write:statuses")
    params = await read_params(request)
    renderer = ctx.renderer(request)
    status = build_status(
        ctx.store,
        renderer,
        account,
        text=params.str("status", "") or "",
        visibility=params.str("visibility"),
        spoiler_text=params.str("spoiler_text", "") or "",
        sensitive=params.bool("sensitive"),
        language=params.str("language") or "en",
        in_reply_to_id=params.str("in_reply_to_id"),
        media_ids=params.get_list("media_ids"),
        application=(token.app_name, token.app_website),
    )
    await FanOut(ctx.store, ctx.bus, renderer).distribute(status)
    return json_response(renderer.status(status, account.id))


@routes.get("/api/v1/statuses/{id}")
@api
async def show_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    found = ctx.optional_token(request)
    viewer_id = found[1].id if found else None
    status = visible_status(ctx.store, request.match_info["id"], viewer_id)
    return json_response(ctx.renderer(request).status(status, viewer_id))


def _own_status(request: web.Request, account_id: str) -> Status:
    status = context(request).store.status(request.match_info["id"])
    if status is None or status.account_id != account_id or status.reblog_of_id:
        raise ApiError(404, "Record not found")
    return status


@routes.put("/api/v1/statuses/{id}")
@api
async def update_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:statuses")
    status = _own_status(request, account.id)
    params = await read_params(request)
    renderer = ctx.renderer(request)
    edit_status(
        ctx.store,
        renderer,
        status,
        text=params.str("status"),
        spoiler_text=params.str("spoiler_text"),
        sensitive=params.bool("sensitive") if params.raw("sensitive") is not None else None,
        language=params.str("language"),
        media_ids=params.get_list("media_ids") if params.has("media_ids") else None,
    )
    await FanOut(ctx.store, ctx.bus, renderer).distribute(status, update=True)
    return json_response(renderer.status(status, account.id))


@routes.delete("/api/v1/statuses/{id}")
@api
async def delete_status(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:statuses")
    status = _own_status(request, account.id)
    renderer = ctx.renderer(request)
    rendered = renderer.status(status, account.id)
    # Delete-and-redraft: the response carries the source `text` instead of `content`.
    body = {
        ("text" if k == "content" else k): (status.text if k == "content" else v)
        for k, v in rendered.items()
    }
    await FanOut(ctx.store, ctx.bus, renderer).remove(status)
    # Mastodon 4.4: delete_media=true deletes the attachments now; otherwise they are kept,
    # unattached, for a redraft (and DELETE /api/v1/media/:id may remove them).
    delete_media = request.query.get("delete_media", "").lower() in ("1", "true")
    for media_id in status.media_ids:
        if delete_media:
            ctx.store.media.pop(media_id, None)
        elif media_id in ctx.store.media:
            ctx.store.media[media_id].status_id = None
    return json_response(body)


@routes.post("/api/v1/statuses/{id}/favourite")
@api
async def favourite(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:favourites")
    status = visible_status(ctx.store, request.match_info["id"], account.id)
    renderer = ctx.renderer(request)
    key = (account.id, status.id)
    if key not in ctx.store.favourites:
        ctx.store.favourites.add(key)
        await FanOut(ctx.store, ctx.bus, renderer).notify(
            status.account_id, account.id, "favourite", status.id
        )
    return json_response(renderer.status(status, account.id))


@routes.post("/api/v1/statuses/{id}/unfavourite")
@api
async def unfavourite(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:favourites")
    status = visible_status(ctx.store, request.match_info["id"], account.id)
    ctx.store.favourites.discard((account.id, status.id))
    return json_response(ctx.renderer(request).status(status, account.id))


@routes.post("/api/v1/statuses/{id}/reblog")
@api
async def reblog(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    token, account = ctx.require(request, "write:statuses")
    store = ctx.store
    status = visible_status(store, request.match_info["id"], account.id)
    original = store.status(status.reblog_of_id) if status.reblog_of_id else status
    if original is None:
        raise ApiError(404, "Record not found")
    if original.visibility not in ("public", "unlisted") and not (
        original.visibility == "private" and original.account_id == account.id
    ):
        raise ApiError(403, "This action is not allowed")
    renderer = ctx.renderer(request)
    existing = store.reblog_by(account.id, original.id)
    if existing is not None:
        return json_response(renderer.status(existing, account.id))
    params = await read_params(request)
    visibility = params.str("visibility") or "public"
    if visibility not in ("public", "unlisted", "private"):
        visibility = "public"
    wrapper = store.add_status(
        Status(
            id=store.new_id(),
            account_id=account.id,
            visibility=original.visibility if original.visibility != "public" else visibility,
            language=original.language,
            reblog_of_id=original.id,
            application=(token.app_name, token.app_website),
        )
    )
    fanout = FanOut(store, ctx.bus, renderer)
    await fanout.distribute(wrapper)
    await fanout.notify(original.account_id, account.id, "reblog", original.id)
    return json_response(renderer.status(wrapper, account.id))


@routes.post("/api/v1/statuses/{id}/unreblog")
@api
async def unreblog(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:statuses")
    status = visible_status(ctx.store, request.match_info["id"], account.id)
    original_id = status.reblog_of_id or status.id
    renderer = ctx.renderer(request)
    existing = ctx.store.reblog_by(account.id, original_id)
    if existing is not None:
        await FanOut(ctx.store, ctx.bus, renderer).remove(existing)
    original = ctx.store.status(original_id) or status
    return json_response(renderer.status(original, account.id))
