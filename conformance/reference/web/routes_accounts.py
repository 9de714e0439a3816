"""/api/v1/accounts and /api/v1/domain_blocks: profiles and relations."""

from __future__ import annotations

from aiohttp import web

from conformance.reference.store import Account
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


def _target(request: web.Request) -> Account:
    account = context(request).store.account(request.match_info["id"])
    if account is None:
        raise ApiError(404, "Record not found")
    return account


@routes.get("/api/v1/accounts/verify_credentials")
@api
async def verify_credentials(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:accounts")
    return json_response(ctx.renderer(request).credential_account(account))


@routes.get("/api/v1/accounts/lookup")
@api
async def lookup(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    acct = (request.query.get("acct") or "").lstrip("@")
    username, _, domain = acct.partition("@")
    renderer = ctx.renderer(request)
    local_host = renderer.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if domain.lower() in ("", local_host.lower()):
        account = ctx.store.find_account(username, None)
    else:
        account = ctx.store.find_account(username, domain)
    if account is None:
        raise ApiError(404, "Record not found")
    return json_response(renderer.account(account))


@routes.get("/api/v1/accounts/relationships")
@api
async def relationships(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, viewer = ctx.require(request, "read:follows")
    ids = request.query.getall("id[]", []) or request.query.getall("id", [])
    renderer = ctx.renderer(request)
    return json_response(
        [renderer.relationship(viewer.id, i) for i in ids if ctx.store.account(i) is not None]
    )


@routes.get("/api/v1/accounts/{id}")
@api
async def show_account(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    return json_response(ctx.renderer(request).account(_target(request)))


async def _relation(request: web.Request, scope: str, action: str) -> web.StreamResponse:
    ctx = context(request)
    _, viewer = ctx.require(request, scope)
    target = _target(request)
    store = ctx.store
    renderer = ctx.renderer(request)
    if action in ("follow", "block", "mute") and target.id == viewer.id:
        raise ApiError(403, "This action is not allowed")
    if action == "follow":
        if (target.id, viewer.id) in store.blocks or (viewer.id, target.id) in store.blocks:
            raise ApiError(403, "This action is not allowed")
        if store.follow(viewer.id, target.id):
            await FanOut(store, ctx.bus, renderer).notify(target.id, viewer.id, "follow", None)
    elif action == "unfollow":
        store.unfollow(viewer.id, target.id)
    elif action == "block":
        store.block(viewer.id, target.id)
    elif action == "unblock":
        store.unblock(viewer.id, target.id)
    elif action == "mute":
        params = await read_params(request)
        store.mute(viewer.id, target.id, notifications=params.bool("notifications", True))
    elif action == "unmute":
        store.unmute(viewer.id, target.id)
    return json_response(renderer.relationship(viewer.id, target.id))


def _relation_route(action: str, scope: str) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _relation(request, scope, action)

    handler.__name__ = f"account_{action}"
    routes.post(f"/api/v1/accounts/{{id}}/{action}")(api(handler))


for _action, _scope in (
    ("follow", "write:follows"),
    ("unfollow", "write:follows"),
    ("block", "write:blocks"),
    ("unblock", "write:blocks"),
    ("mute", "write:mutes"),
    ("unmute", "write:mutes"),
):
    _relation_route(_action, _scope)


@routes.get("/api/v1/domain_blocks")
@api
async def list_domain_blocks(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, viewer = ctx.require(request, "read:blocks")
    return json_response(sorted(d for a, d in ctx.store.domain_blocks if a == viewer.id))


async def _domain(request: web.Request, block: bool) -> web.StreamResponse:
    ctx = context(request)
    _, viewer = ctx.require(request, "write:blocks")
    params = await read_params(request)
    domain = (params.str("domain") or "").strip().lower()
    if not domain:
        raise unprocessable("Domain can't be blank")
    if block:
        ctx.store.block_domain(viewer.id, domain)
        for account in list(ctx.store.accounts.values()):
            if account.domain == domain:
                ctx.store.unfollow(viewer.id, account.id)
                ctx.store.unfollow(account.id, viewer.id)
    else:
        ctx.store.unblock_domain(viewer.id, domain)
    return json_response({})


@routes.post("/api/v1/domain_blocks")
@api
async def block_domain(request: web.Request) -> web.StreamResponse:
    return await _domain(request, True)


@routes.delete("/api/v1/domain_blocks")
@api
async def unblock_domain(request: web.Request) -> web.StreamResponse:
    return await _domain(request, False)
