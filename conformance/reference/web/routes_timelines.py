"""/api/v1/timelines: the REST side of what the streams deliver (newest first)."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from conformance.reference.store import Status
from conformance.reference.web.context import ApiError, api, context, json_response, truthy
from conformance.reference.web.posting import can_see
from conformance.reference.web.textparse import normalize_tag

routes = web.RouteTableDef()


def _page(request: web.Request, statuses: Iterable[Status]) -> list[Status]:
    """Newest first, honouring limit, max_id, since_id and min_id (ids compare as integers)."""
    query = request.query
    try:
        limit = max(1, min(int(query.get("limit", "20")), 40))
    except ValueError:
        limit = 20
    max_id, since_id = query.get("max_id"), query.get("since_id") or query.get("min_id")
    chosen = sorted(statuses, key=lambda s: int(s.id), reverse=True)
    if max_id and max_id.isdigit():
        chosen = [s for s in chosen if int(s.id) < int(max_id)]
    if since_id and since_id.isdigit():
        chosen = [s for s in chosen if int(s.id) > int(since_id)]
    return chosen[:limit]


def _viewer(request: web.Request) -> str | None:
    found = context(request).optional_token(request)
    return found[1].id if found else None


def _public_candidates(request: web.Request, viewer_id: str | None) -> list[Status]:
    store = context(request).store
    out = []
    for status in store.live_statuses():
        author = store.accounts[status.account_id]
        if status.visibility != "public" or status.reblog_of_id:
            continue
        if viewer_id and (
            store.blocks_or_mutes_any(viewer_id, [author.id, *status.mention_ids])
            or store.is_blocked_by(author.id, viewer_id)
            or (author.domain and store.blocks_domain(viewer_id, author.domain))
        ):
            continue
        if truthy(request.query.get("only_media", "false")) and not status.media_ids:
            continue
        out.append(status)
    return out


@routes.get("/api/v1/timelines/home")
@api
async def home(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:statuses")
    feed = [ctx.store.status(i) for i in ctx.store.home_feeds.get(account.id, [])]
    statuses = _page(request, [s for s in feed if s is not None])
    renderer = ctx.renderer(request)
    return json_response([renderer.status(s, account.id) for s in statuses])


@routes.get("/api/v1/timelines/public")
@api
async def public(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    viewer_id = _viewer(request)
    statuses = _public_candidates(request, viewer_id)
    if truthy(request.query.get("local", "false")):
        statuses = [s for s in statuses if ctx.store.accounts[s.account_id].local]
    elif truthy(request.query.get("remote", "false")):
        statuses = [s for s in statuses if not ctx.store.accounts[s.account_id].local]
    renderer = ctx.renderer(request)
    return json_response([renderer.status(s, viewer_id) for s in _page(request, statuses)])


@routes.get("/api/v1/timelines/tag/{tag}")
@api
async def tag(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    viewer_id = _viewer(request)
    name = normalize_tag(request.match_info["tag"])
    statuses = [s for s in _public_candidates(request, viewer_id) if name in s.tags]
    if truthy(request.query.get("local", "false")):
        statuses = [s for s in statuses if ctx.store.accounts[s.account_id].local]
    renderer = ctx.renderer(request)
    return json_response([renderer.status(s, viewer_id) for s in _page(request, statuses)])


@routes.get("/api/v1/timelines/list/{id}")
@api
async def list_timeline(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:lists")
    lst = ctx.store.lists.get(request.match_info["id"])
    if lst is None or lst.account_id != account.id:
        raise ApiError(404, "Record not found")
    feed = [ctx.store.status(i) for i in ctx.store.list_feed(lst.id)]
    visible = [s for s in feed if s is not None and can_see(ctx.store, s, account.id)]
    renderer = ctx.renderer(request)
    return json_response([renderer.status(s, account.id) for s in _page(request, visible)])
