"""Notifications, conversations and announcements (what arrives for one account)."""

from __future__ import annotations

from aiohttp import web

from conformance.reference.store import Announcement
from conformance.reference.web.context import ApiError, api, context, json_response
from conformance.reference.web.fanout import FanOut

routes = web.RouteTableDef()


@routes.get("/api/v1/notifications")
@api
async def notifications(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:notifications")
    types = set(request.query.getall("types[]", []))
    excluded = set(request.query.getall("exclude_types[]", []))
    own = [
        n
        for n in ctx.store.notifications.values()
        if n.account_id == account.id and (not types or n.type in types) and n.type not in excluded
    ]
    own.sort(key=lambda n: int(n.id), reverse=True)
    since, max_id = request.query.get("since_id"), request.query.get("max_id")
    if since and since.isdigit():
        own = [n for n in own if int(n.id) > int(since)]
    if max_id and max_id.isdigit():
        own = [n for n in own if int(n.id) < int(max_id)]
    limit = request.query.get("limit", "")
    count = min(int(limit), 80) if limit.isdigit() and int(limit) > 0 else 40
    renderer = ctx.renderer(request)
    return json_response([renderer.notification(n) for n in own[:count]])


@routes.post("/api/v1/notifications/{id}/dismiss")
@api
async def dismiss_notification(request: web.Request) -> web.StreamResponse:
    """Mastodon deletes the notification (404 for another account's)."""
    ctx = context(request)
    _, account = ctx.require(request, "write:notifications")
    found = ctx.store.notifications.get(request.match_info["id"])
    if found is None or found.account_id != account.id:
        raise ApiError(404, "Record not found")
    del ctx.store.notifications[found.id]
    return json_response({})


@routes.get("/api/v1/conversations")
@api
async def conversations(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:statuses")
    own = [
        c
        for c in ctx.store.conversations.values()
        if c.account_id == account.id and ctx.store.status(c.last_status_id) is not None
    ]
    own.sort(key=lambda c: int(c.last_status_id), reverse=True)
    renderer = ctx.renderer(request)
    return json_response([renderer.conversation(c) for c in own])


@routes.get("/api/v1/announcements")
@api
async def announcements(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read")
    renderer = ctx.renderer(request)
    items = sorted(ctx.store.announcements.values(), key=lambda a: int(a.id))
    return json_response([renderer.announcement(a, account.id) for a in items])


def _announcement(request: web.Request) -> Announcement:
    found = context(request).store.announcements.get(request.match_info["id"])
    if found is None:
        raise ApiError(404, "Record not found")
    return found


@routes.put("/api/v1/announcements/{id}/reactions/{name}")
@api
async def add_reaction(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:favourites")
    announcement = _announcement(request)
    name = request.match_info["name"]
    if not name.strip():
        raise ApiError(422, "Validation failed: Name is invalid")
    reactors = announcement.reactions.setdefault(name, [])
    if account.id not in reactors:
        reactors.append(account.id)
        await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).announcement_reaction(
            announcement, name
        )
    return json_response({})


@routes.delete("/api/v1/announcements/{id}/reactions/{name}")
@api
async def remove_reaction(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:favourites")
    announcement = _announcement(request)
    name = request.match_info["name"]
    reactors = announcement.reactions.get(name, [])
    if account.id not in reactors:
        raise ApiError(404, "Record not found")
    reactors.remove(account.id)
    await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).announcement_reaction(
        announcement, name
    )
    if not reactors:
        del announcement.reactions[name]
    return json_response({})


@routes.post("/api/v1/announcements/{id}/dismiss")
@api
async def dismiss(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:accounts")
    _announcement(request).read_by.add(account.id)
    return json_response({})
