"""/api/v1/lists: lists and their members.

Deviation kept on purpose: adding an account the owner does not follow is accepted (Mastodon
4.x requires a follow); fan-out to the list does not depend on it either way.
"""

from __future__ import annotations

from aiohttp import web

from conformance.reference.store import UserList
from conformance.reference.web.context import (
    ApiError,
    api,
    context,
    json_response,
    read_params,
    unprocessable,
)

routes = web.RouteTableDef()
REPLIES_POLICIES = ("followed", "list", "none")


def _own_list(request: web.Request, account_id: str) -> UserList:
    lst = context(request).store.lists.get(request.match_info["id"])
    if lst is None or lst.account_id != account_id:
        raise ApiError(404, "Record not found")
    return lst


@routes.get("/api/v1/lists")
@api
async def index(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:lists")
    renderer = ctx.renderer(request)
    owned = [lst for lst in ctx.store.lists.values() if lst.account_id == account.id]
    return json_response([renderer.list(lst) for lst in owned])


@routes.post("/api/v1/lists")
@api
async def create(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:lists")
    params = await read_params(request)
    title = (params.str("title") or "").strip()
    if not title:
        raise unprocessable("Title can't be blank")
    lst = ctx.store.add_list(account.id, title)
    _apply_options(lst, params.str("replies_policy"), params.raw("exclusive"))
    return json_response(ctx.renderer(request).list(lst))


def _apply_options(lst: UserList, replies_policy: str | None, exclusive: object) -> None:
    if replies_policy is not None:
        if replies_policy not in REPLIES_POLICIES:
            raise unprocessable("Replies policy is not included in the list")
        lst.replies_policy = replies_policy
    if exclusive is not None:
        lst.exclusive = exclusive is True or str(exclusive) in ("true", "1", "t", "on")


@routes.get("/api/v1/lists/{id}")
@api
async def show(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:lists")
    return json_response(ctx.renderer(request).list(_own_list(request, account.id)))


@routes.put("/api/v1/lists/{id}")
@api
async def update(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:lists")
    lst = _own_list(request, account.id)
    params = await read_params(request)
    title = params.str("title")
    if title is not None:
        if not title.strip():
            raise unprocessable("Title can't be blank")
        lst.title = title.strip()
    _apply_options(lst, params.str("replies_policy"), params.raw("exclusive"))
    return json_response(ctx.renderer(request).list(lst))


@routes.delete("/api/v1/lists/{id}")
@api
async def destroy(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:lists")
    lst = _own_list(request, account.id)
    del ctx.store.lists[lst.id]
    ctx.store.list_feeds.pop(lst.id, None)
    return json_response({})


@routes.get("/api/v1/lists/{id}/accounts")
@api
async def members(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:lists")
    lst = _own_list(request, account.id)
    renderer = ctx.renderer(request)
    return json_response([renderer.account(ctx.store.accounts[a]) for a in lst.member_ids])


@routes.post("/api/v1/lists/{id}/accounts")
@api
async def add_members(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:lists")
    lst = _own_list(request, account.id)
    params = await read_params(request)
    ids = [str(i) for i in params.get_list("account_ids")]
    if any(ctx.store.account(i) is None for i in ids):
        raise ApiError(404, "Record not found")
    for account_id in ids:
        if account_id not in lst.member_ids:
            lst.member_ids.append(account_id)
    return json_response({})


@routes.delete("/api/v1/lists/{id}/accounts")
@api
async def remove_members(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:lists")
    lst = _own_list(request, account.id)
    params = await read_params(request)
    for account_id in (str(i) for i in params.get_list("account_ids")):
        if account_id in lst.member_ids:
            lst.member_ids.remove(account_id)
    return json_response({})
