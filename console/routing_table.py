"""Route specifications: one list feeds both aiohttp and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    handler: Handler
    summary: str
    roles: tuple[str, ...] = ()  # empty: any logged-in user; ("public",): no login
    body: dict[str, Any] | None = None  # JSON schema of the request body
    params: tuple[tuple[str, str, str], ...] = ()  # (name, in, description)
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def public(self) -> bool:
        return self.roles == ("public",)


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def bad_request(code: str, message: str) -> web.HTTPBadRequest:
    """:func:`json_error`'s 400 as an exception, for helpers deep in a handler."""
    return web.HTTPBadRequest(text=json.dumps({"error": {"code": code, "message": message}}),
                              content_type="application/json")


async def read_json(request: web.Request) -> dict[str, Any]:
    # Only application/json: a form or text/plain body is what another page
    # can make a browser send without asking (CSRF).
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": {"code": "bad_content_type",
                                       "message": "send the body as application/json"}}),
            content_type="application/json")
    try:
        data = await request.json()
    except web.HTTPException:
        raise  # 413: larger than the app's client_max_size
    except Exception:
        raise bad_request("bad_json", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise bad_request("bad_json", "the body must be a JSON object")
    return data
