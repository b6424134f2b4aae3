"""The OpenAPI 3 document, generated from the same route list aiohttp serves."""

from __future__ import annotations

import re
from typing import Any

from console.routing_table import RouteSpec

ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}},
}


def _operation_id(spec: RouteSpec) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", spec.path.lower()).strip("_") or "root"
    return f"{spec.method.lower()}_{words}"


def build_openapi(specs: list[RouteSpec]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        op: dict[str, Any] = {
            "summary": spec.summary,
            "operationId": _operation_id(spec),
            "tags": list(spec.tags),
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad input",
                        "content": {"application/json": {"schema": ERROR}}},
            },
        }
        if not spec.public:
            op["security"] = [{"bearer": []}, {"cookie": []}]
            op["responses"]["401"] = {"description": "Login required"}
            op["responses"]["403"] = {"description": "Role not allowed"}
            if spec.roles:
                op["x-roles"] = list(spec.roles) + ["admin"]
        else:
            op["security"] = []
        if spec.params:
            op["parameters"] = [
                {"name": name, "in": where, "description": desc, "required": where == "path",
                 "schema": {"type": "integer" if name.endswith("_id") or name == "limit"
                            else "string"}}
                for name, where, desc in spec.params
            ]
        if spec.body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": spec.body}}}
        paths.setdefault(spec.path, {})[spec.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "12345 hotline backend", "version": "0.1.0",
                 "description": "Calls, work orders, agents and queues of the 12345 hotline."},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
        }},
    }
