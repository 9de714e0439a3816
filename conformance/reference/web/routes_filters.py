"""/api/v2/filters: keyword filters; every change publishes ``filters_changed``."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta

from aiohttp import web

from conformance.reference.store import CustomFilter, FilterKeyword, FilterStatus, utcnow
from conformance.reference.web.context import (
    ApiError,
    Params,
    api,
    context,
    json_response,
    read_params,
    truthy,
    unprocessable,
)
from conformance.reference.web.fanout import FanOut
from conformance.reference.web.filtering import render_filter

routes = web.RouteTableDef()
CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")


def _own_filter(request: web.Request, account_id: str) -> CustomFilter:
    flt = context(request).store.filters.get(request.match_info["id"])
    if flt is None or flt.account_id != account_id:
        raise ApiError(404, "Record not found")
    return flt


def _apply(flt: CustomFilter, params: Params, serial: Callable[[str], str]) -> None:
    if params.has("title"):
        flt.title = (params.str("title") or "").strip()
    if params.has("context"):
        flt.context = [str(c) for c in params.get_list("context")]
    if params.has("filter_action"):
        flt.filter_action = params.str("filter_action") or "warn"
    if params.raw("expires_in") is not None:
        seconds = params.int("expires_in")
        flt.expires_at = utcnow() + timedelta(seconds=seconds) if seconds else None
    for item in params.objects("keywords_attributes"):
        keyword_id = str(item["id"]) if item.get("id") not in (None, "") else None
        existing = next((k for k in flt.keywords if k.id == keyword_id), None)
        if keyword_id is not None and existing is None:
            raise ApiError(404, "Record not found")
        if existing is not None and truthy(item.get("_destroy", False)):
            flt.keywords.remove(existing)
            continue
        whole_word = truthy(item["whole_word"]) if "whole_word" in item else True
        if existing is not None:
            existing.keyword = str(item.get("keyword", existing.keyword))
            existing.whole_word = whole_word if "whole_word" in item else existing.whole_word
        else:
            keyword = str(item.get("keyword") or "")
            if not keyword:
                raise unprocessable("Keywords keyword can't be blank")
            flt.keywords.append(FilterKeyword(serial("keyword"), keyword, whole_word))
    for item in params.objects("statuses_attributes"):
        if item.get("status_id"):
            flt.statuses.append(FilterStatus(serial("filter_status"), str(item["status_id"])))


def _validate(flt: CustomFilter) -> None:
    if not flt.title:
        raise unprocessable("Title can't be blank")
    if not flt.context or any(c not in CONTEXTS for c in flt.context):
        raise unprocessable("Context can't be blank" if not flt.context else "Context is invalid")
    if flt.filter_action not in ACTIONS:
        raise unprocessable("Filter action is not included in the list")


@routes.get("/api/v2/filters")
@api
async def index(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:filters")
    own = [f for f in ctx.store.filters.values() if f.account_id == account.id]
    return json_response([render_filter(f, with_rules=True) for f in own])


@routes.post("/api/v2/filters")
@api
async def create(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:filters")
    params = await read_params(request)
    flt = CustomFilter(id="", account_id=account.id, title="", context=[])
    _apply(flt, params, ctx.store.serial)
    _validate(flt)
    flt.id = ctx.store.serial("filter")
    ctx.store.filters[flt.id] = flt
    await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).filters_changed(account.id)
    return json_response(render_filter(flt, with_rules=True))


@routes.get("/api/v2/filters/{id}")
@api
async def show(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "read:filters")
    return json_response(render_filter(_own_filter(request, account.id), with_rules=True))


@routes.put("/api/v2/filters/{id}")
@api
async def update(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:filters")
    flt = deepcopy(_own_filter(request, account.id))
    params = await read_params(request)
    _apply(flt, params, ctx.store.serial)
    _validate(flt)
    ctx.store.filters[flt.id] = flt
    await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).filters_changed(account.id)
    return json_response(render_filter(flt, with_rules=True))


@routes.delete("/api/v2/filters/{id}")
@api
async def destroy(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    _, account = ctx.require(request, "write:filters")
    flt = _own_filter(request, account.id)
    del ctx.store.filters[flt.id]
    await FanOut(ctx.store, ctx.bus, ctx.renderer(request)).filters_changed(account.id)
    return json_response({})
