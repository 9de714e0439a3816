"""Request plumbing shared by the REST handlers: the app context, auth, errors, parameters.

Mastodon (Rails) accepts the same parameters from the query string, a JSON body, a form body or
a multipart body; ``Params`` merges them the same way, including Rails' ``name[]`` arrays and
``name[][field]`` / ``name[0][field]`` nested arrays of objects.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from conformance.reference.store import Account, Store, Token
from conformance.reference.web.render import Renderer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TRUE_STRINGS = {"1", "true", "t", "on", "yes", "y", "True", "TRUE"}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found() -> ApiError:
    return ApiError(404, "Record not found")


def unprocessable(message: str) -> ApiError:
    return ApiError(422, f"Validation failed: {message}")


@dataclass
class WebContext:
    store: Store
    bus: Any
    settings: Any

    def base_url(self, request: web.Request) -> str:
        configured = getattr(self.settings, "public_url", None)
        if configured:
            return str(configured).rstrip("/")
        return f"{request.scheme}://{request.host}"

    def renderer(self, request: web.Request) -> Renderer:
        return Renderer(self.store, self.base_url(request))

    def optional_token(self, request: web.Request) -> tuple[Token, Account] | None:
        value = bearer_token(request)
        if value is None:
            return None
        token = self.store.token_by_value(value)
        if token is None or token.revoked:
            raise ApiError(401, "The access token is invalid")
        if token.account_id is None:
            return None
        account = self.store.accounts.get(token.account_id)
        if account is None:
            raise ApiError(401, "The access token is invalid")
        if account.disabled or account.suspended:
            raise ApiError(403, "Your login is currently disabled")
        return token, account

    def require(self, request: web.Request, scope: str) -> tuple[Token, Account]:
        """Doorkeeper's ``doorkeeper_authorize!`` followed by ``require_user!``."""
        value = bearer_token(request)
        if value is None:
            raise ApiError(401, "The access token is invalid")
        token = self.store.token_by_value(value)
        if token is None or token.revoked:
            raise ApiError(401, "The access token is invalid")
        if not has_scope(token.scopes, scope):
            raise ApiError(403, "This action is outside the authorized scopes")
        found = self.optional_token(request)
        if found is None:
            raise ApiError(422, "This method requires an authenticated user")
        return found


CONTEXT_KEY = web.AppKey("reference_web", WebContext)


def has_scope(scopes: frozenset[str], wanted: str) -> bool:
    top = wanted.split(":", 1)[0]
    return wanted in scopes or top in scopes


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header:
        match = re.match(r"(?i)bearer\s+(.+)", header.strip())
        return match.group(1).strip() if match else None
    return request.query.get("access_token") or None


def context(request: web.Request) -> WebContext:
    return request.app[CONTEXT_KEY]


def api(handler: Handler) -> Handler:
    """Turn ``ApiError`` into Mastodon's ``{"error": ...}`` JSON response."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return json_response({"error": exc.message}, status=exc.status)

    return wrapped


def json_response(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=body, status=status, content_type="application/json", charset="utf-8")


class Params:
    """Query + body parameters, looked up by Rails-style names."""

    def __init__(self, query: MultiDictProxy[str], body: Any, form: MultiDict[Any]) -> None:
        self._query = query
        self._json = body if isinstance(body, dict) else {}
        self._form = form

    def raw(self, name: str) -> Any:
        if name in self._json:
            return self._json[name]
        if name in self._form:
            return self._form[name]
        return self._query.get(name)

    def present(self, name: str) -> bool:
        """Given at all, even as JSON null or an empty array."""
        names = (name, f"{name}[]")
        return name in self._json or any(n in self._form or n in self._query for n in names)

    def has(self, name: str) -> bool:
        return self.raw(name) is not None or bool(self.get_list(name))

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if not hasattr(value, "file") else default

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value) in TRUE_STRINGS

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.raw(name)
        try:
            return int(value) if value is not None and value != "" else default
        except (TypeError, ValueError):
            return default

    def get_list(self, name: str) -> list[Any]:
        if name in self._json:
            value = self._json[name]
            return list(value) if isinstance(value, list) else [value]
        for key in (f"{name}[]", name):
            values = self._form.getall(key, []) or self._query.getall(key, [])
            if values:
                return list(values)
        return []

    def objects(self, name: str) -> list[dict[str, Any]]:
        """``name`` as a list of objects: JSON list/dict, or Rails nested form keys."""
        if name in self._json:
            value = self._json[name]
            if isinstance(value, dict):
                return [v for v in value.values() if isinstance(v, dict)]
            return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
        pattern = re.compile(re.escape(name) + r"\[(\d*)\]\[(\w+)\]$")
        items: list[dict[str, Any]] = []
        indexed: dict[str, dict[str, Any]] = {}
        for source in (self._form, self._query):
            for key, value in source.items():
                match = pattern.match(key)
                if not match:
                    continue
                index, attr = match.groups()
                if index:
                    indexed.setdefault(index, {})[attr] = value
                elif not items or attr in items[-1]:
                    items.append({attr: value})
                else:
                    items[-1][attr] = value
        return items + [indexed[k] for k in sorted(indexed, key=int)]

    def file(self, name: str) -> Any:
        value = self._form.get(name)
        return value if value is not None and hasattr(value, "file") else None


async def read_params(request: web.Request) -> Params:
    body: Any = None
    form: MultiDict[Any] = MultiDict()
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise ApiError(400, "Error occurred while parsing request parameters") from exc
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = MultiDict(await request.post())
    return Params(request.query, body, form)


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value) in TRUE_STRINGS
