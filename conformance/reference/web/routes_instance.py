"""/api/v1/instance and /api/v2/instance: where clients discover the streaming URL and version."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from conformance.reference.web.context import WebContext, api, context, json_response

routes = web.RouteTableDef()
API_VERSION = 10  # the Mastodon API version of 4.6+, whose entity keys this server renders


def _facts(ctx: WebContext, request: web.Request) -> tuple[str, str, str, str]:
    base = ctx.base_url(request)
    domain = urlsplit(base).netloc
    streaming = getattr(ctx.settings, "streaming_url", None) or base.replace("http", "ws", 1)
    version = getattr(ctx.settings, "version", None) or "4.8.0-alpha.1"
    return base, domain, str(streaming), str(version)


def _stats(ctx: WebContext) -> dict[str, int]:
    return {
        "user_count": sum(1 for a in ctx.store.accounts.values() if a.local),
        "status_count": sum(
            1 for s in ctx.store.live_statuses() if ctx.store.accounts[s.account_id].local
        ),
        "domain_count": len({a.domain for a in ctx.store.accounts.values() if a.domain}),
    }


def _statuses_config() -> dict[str, Any]:
    return {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23}


def _media_config() -> dict[str, Any]:
    return {
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
        "description_limit": 1500,
        "image_size_limit": 16777216,
        "image_matrix_limit": 33177600,
        "video_size_limit": 103809024,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8294400,
    }


@routes.get("/api/v1/instance")
@api
async def instance_v1(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    base, domain, streaming, version = _facts(ctx, request)
    return json_response(
        {
            "uri": domain,
            "title": "Mastodon streaming reference server",
            "short_description": "The embedded reference server of mastodon-streaming-conformance.",
            "description": "An in-memory miniature of Mastodon for conformance testing.",
            "email": "",
            "version": version,
            "urls": {"streaming_api": streaming},
            "stats": _stats(ctx),
            "thumbnail": f"{base}/packs/media/images/preview.png",
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": {
                "accounts": {"max_featured_tags": 10},
                "statuses": _statuses_config(),
                "media_attachments": _media_config(),
                "polls": {
                    "max_options": 4,
                    "max_characters_per_option": 50,
                    "min_expiration": 300,
                    "max_expiration": 2629746,
                },
            },
            "contact_account": None,
            "rules": [],
        }
    )


@routes.get("/api/v2/instance")
@api
async def instance_v2(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    base, domain, streaming, version = _facts(ctx, request)
    return json_response(
        {
            "domain": domain,
            "title": "Mastodon streaming reference server",
            "version": version,
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "An in-memory miniature of Mastodon for conformance testing.",
            "usage": {"users": {"active_month": _stats(ctx)["user_count"]}},
            "thumbnail": {"url": f"{base}/packs/media/images/preview.png"},
            "icon": [],
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": streaming, "status": None, "about": f"{base}/about"},
                "vapid": {"public_key": ""},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": _statuses_config(),
                "media_attachments": _media_config(),
                "polls": {
                    "max_options": 4,
                    "max_characters_per_option": 50,
                    "min_expiration": 300,
                    "max_expiration": 2629746,
                },
                "translation": {"enabled": False},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": "public", "remote": "public"},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
            },
            "registrations": {
                "enabled": False,
                "approval_required": False,
                "reason_required": False,
                "message": None,
                "min_age": None,
                "url": None,
            },
            "api_versions": {"mastodon": API_VERSION},
            "contact": {"email": "", "account": None},
            "rules": [],
        }
    )
