"""Media upload (/api/v2/media, /api/v1/media) and token revocation (/oauth/revoke)."""

from __future__ import annotations

import secrets

from aiohttp import web

from conformance.reference.store import MediaAttachment
from conformance.reference.web.context import (
    ApiError,
    api,
    context,
    json_response,
    read_params,
    unprocessable,
)
from conformance.reference.web.fanout import FanOut

routes = web.RouteTableDef()
MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio"}


async def _upload(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:media")
    params = await read_params(request)
    upload = params.file("file")
    if upload is None:
        raise unprocessable("File can't be blank")
    upload.file.read()  # bytes are not kept: the entity needs only a placeholder URL
    major = (upload.content_type or "image/png").split("/", 1)[0]
    extension = (upload.filename or "file.png").rsplit(".", 1)[-1].lower() or "png"
    media = ctx.store.add_media(
        MediaAttachment(
            id=ctx.store.new_id(),
            account_id=account.id,
            type=MEDIA_TYPES.get(major, "image"),
            description=params.str("description"),
            file_key=f"{secrets.token_hex(8)}.{extension}",
        )
    )
    return json_response(ctx.renderer(request).media(media))


@routes.post("/api/v2/media")
@api
async def upload_v2(request: web.Request) -> web.StreamResponse:
    return await _upload(request)


@routes.post("/api/v1/media")
@api
async def upload_v1(request: web.Request) -> web.StreamResponse:
    return await _upload(request)


@routes.get("/api/v1/media/{id}")
@api
async def show_media(request: web.Request) -> web.StreamResponse:
    """Always 200: uploads are "processed" synchronously, so ``url`` is never null."""
    ctx = context(request)
    _, account = ctx.require(request, "write:media")
    media = ctx.store.media.get(request.match_info["id"])
    if media is None or media.account_id != account.id:
        raise ApiError(404, "Record not found")
    return json_response(ctx.renderer(request).media(media))


@routes.put("/api/v1/media/{id}")
@api
async def update_media(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:media")
    media = ctx.store.media.get(request.match_info["id"])
    if media is None or media.account_id != account.id:
        raise ApiError(404, "Record not found")
    params = await read_params(request)
    if params.raw("description") is not None:
        media.description = params.str("description")
    return json_response(ctx.renderer(request).media(media))


@routes.delete("/api/v1/media/{id}")
@api
async def delete_media(request: web.Request) -> web.StreamResponse:
    """Mastodon 4.4: only media not attached to a (live) status can be deleted."""
    ctx = context(request)
    _, account = ctx.require(request, "write:media")
    media = ctx.store.media.get(request.match_info["id"])
    if media is None or media.account_id != account.id:
        raise ApiError(404, "Record not found")
    if media.status_id is not None and ctx.store.status(media.status_id) is not None:
        raise ApiError(422, "Media attachment is currently used by a status")
    del ctx.store.media[media.id]
    return json_response({})


@routes.post("/oauth/revoke")
@api
async def revoke(request: web.Request) -> web.StreamResponse:
    """RFC 7009: always 200, even for unknown tokens; a live token's streams get ``kill``."""
    ctx = context(request)
    params = await read_params(request)
    value = params.str("token") or ""
    token = ctx.store.revoke_token(value)
    if token is not None:
        await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).kill_token(token.id)
    return json_response({})
