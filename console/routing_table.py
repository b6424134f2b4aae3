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


def bad_request(code: str, message: str, field: str | None = None) -> web.HTTPBadRequest:
    """:func:`json_error`'s 400 as an exception, for helpers deep in a handler."""
    error: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return web.HTTPBadRequest(text=json.dumps({"error": error}, ensure_ascii=False),
                              content_type="application/json")


ROW_ID_MAX = 2**31 - 1  # ids are INTEGER: PostgreSQL refuses a larger one (a 500)


def row_id(text: str) -> int | None:
    """``text`` as a row id: plain ASCII digits within a row id's range; else None."""
    if text.isascii() and text.isdigit() and int(text) <= ROW_ID_MAX:
        return int(text)
    return None


def path_id(request: web.Request, key: str, message: str, *, status: int = 404) -> int:
    """The path segment ``key`` as a row id (:func:`row_id`).

    Anything else is refused before a handler looks anything up: a 404
    ``not_found`` (or, with ``status=400``, a 400 ``invalid``) saying
    ``message``, raised.
    """
    found = row_id(request.match_info[key])
    if found is not None:
        return found
    refusal = web.HTTPNotFound if status == 404 else web.HTTPBadRequest
    code = "not_found" if status == 404 else "invalid"
    raise refusal(text=json.dumps({"error": {"code": code, "message": message}},
                                  ensure_ascii=False), content_type="application/json")


# The route being served, set by the auth middleware, so that read_json can
# hold every body to its route's declared schema in one place.
SPEC_KEY: web.RequestKey[RouteSpec] = web.RequestKey("route_spec", RouteSpec)

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,), "null": (type(None),),
}


def _has_type(value: object, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False  # JSON true is not 1
    return isinstance(value, _JSON_TYPES.get(name, object))


def field_problem(schema: dict[str, Any], data: dict[str, Any]) -> tuple[str, str] | None:
    """The first field of ``data`` whose type or value the schema's top-level
    ``properties`` refuse, as (field, message); None when every field fits.
    Required fields are left to the handlers, which know their defaults."""
    for name, rule in schema.get("properties", {}).items():
        if name not in data:
            continue
        value = data[name]
        if "enum" in rule and not any(
                value == choice and type(value) is type(choice) for choice in rule["enum"]):
            choices = ", ".join(json.dumps(c, ensure_ascii=False) for c in rule["enum"])
            return name, f"{name} must be one of {choices}"
        types = rule.get("type")
        if types is None:
            continue
        types = [types] if isinstance(types, str) else list(types)
        if not any(_has_type(value, t) for t in types):
            return name, f"{name} must be {' or '.join(types)}"
    return None


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, its fields checked against the route's schema.

    Anything else ([], null, "x", a number, bad JSON, a wrongly typed field)
    is a 400 naming what is wrong, before the handler sees it.
    """
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
    spec = request.get(SPEC_KEY)
    if spec is not None and spec.body is not None:
        problem = field_problem(spec.body, data)
        if problem is not None:
            raise bad_request("invalid", problem[1], field=problem[0])
    return data
