"""Route specifications: one list feeds both aiohttp and the OpenAPI document."""

from __future__ import annotations

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


async def read_json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except Exception:
        raise web.HTTPBadRequest(
            text='{"error": {"code": "bad_json", "message": "the body must be a JSON object"}}',
            content_type="application/json",
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text='{"error": {"code": "bad_json", "message": "the body must be a JSON object"}}',
            content_type="application/json",
        )
    return data
