"""Attachments on an order over HTTP (worksheets/attachments.py).

Upload: ``POST /api/work-orders/{id}/attachments?filename=照片.jpg`` with the
file as the body and its type as Content-Type (no multipart: the console
sends the File object as it is).  The body is streamed to a temporary file
beside its destination and refused past the size limit, then renamed into
place and the row committed; a failed commit removes the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.auth import DEPS_KEY, Principal, principal
from console.routing_table import RouteSpec, json_error, path_id
from worksheets import attachments
from worksheets.http import _orders_visible_to
from worksheets.lifecycle import LifecycleError
from worksheets.lifecycle_http import HTTP_STATUS
from worksheets.models import WorkOrder
from worksheets.order_models import OrderAttachment

CHUNK = 64 * 1024


def _visible(s: Session, p: Principal, order_id: int) -> WorkOrder:
    order = s.scalar(_orders_visible_to(p, select(WorkOrder).where(WorkOrder.id == order_id)))
    if order is None:
        raise LifecycleError("not_found", f"no work order {order_id} visible to you")
    return order


def _error(exc: LifecycleError) -> web.Response:
    return json_error(HTTP_STATUS.get(exc.code, 400), exc.code, str(exc))


async def upload(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    order_id = path_id(request, "order_id", "no such work order")
    limit = deps.settings.attachment_max_mb * 1024 * 1024
    root: Path = deps.settings.recordings_dir
    def prepare(s: Session) -> WorkOrder:
        order = _visible(s, p, order_id)
        attachments.check_room(s, order)
        return order

    try:
        order = await deps.db.run(prepare)
        if request.content_length is not None and request.content_length > limit:
            raise LifecycleError("too_large", f"at most {deps.settings.attachment_max_mb} MB")
        head = await _read_head(request, 16)
        extension = attachments.sniff(request.content_type, head)
        relative = attachments.new_path(order, extension)
        size = await _receive(request, head, root / relative, limit)
    except LifecycleError as exc:
        return _error(exc)
    filename = request.query.get("filename", "attachment" + extension)

    def record(s: Session) -> dict[str, Any]:
        order = _visible(s, p, order_id)
        attachments.check_room(s, order)
        return attachments.to_dict(attachments.add(
            s, order, filename=filename, content_type=request.content_type, size=size,
            path=relative, user_id=p.user_id, now=deps.clock.now()))

    try:
        row = await deps.db.run(record)
    except BaseException as exc:
        (root / relative).unlink(missing_ok=True)
        if isinstance(exc, LifecycleError):
            return _error(exc)
        raise
    return web.json_response(row, status=201)


async def _read_head(request: web.Request, size: int) -> bytes:
    """The body's first ``size`` bytes (fewer only if the body is shorter): a
    read returns what has arrived, which on a slow upload may be less."""
    head = b""
    while len(head) < size:
        chunk = await request.content.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


async def _receive(request: web.Request, head: bytes, target: Path, limit: int) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    size = len(head)
    try:
        with open(partial, "wb") as out:
            out.write(head)
            while chunk := await request.content.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise LifecycleError("too_large", f"at most {limit // (1024 * 1024)} MB")
                out.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return size


async def listing(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    order_id = path_id(request, "order_id", "no such work order")

    def work(s: Session) -> dict[str, Any]:
        _visible(s, p, order_id)
        return {"attachments": attachments.listed(s, order_id)}
    try:
        return web.json_response(await deps.db.run(work))
    except LifecycleError as exc:
        return _error(exc)


async def download(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS_KEY]
    p = principal(request)
    order_id = path_id(request, "order_id", "no such work order")
    attachment_id = path_id(request, "attachment_id", "no such attachment")

    def work(s: Session) -> OrderAttachment:
        _visible(s, p, order_id)
        row = s.get(OrderAttachment, attachment_id)
        if row is None or row.order_id != order_id:
            raise LifecycleError("not_found", f"no attachment {attachment_id}")
        return row
    try:
        row = await deps.db.run(work)
    except LifecycleError as exc:
        return _error(exc)
    full = attachments.full_path(deps.settings.recordings_dir, row.path)
    if full is None or not full.is_file():
        return json_error(410, "gone", "the file was purged or is missing")
    disposition = "inline" if row.content_type.startswith("image/") else "attachment"
    return web.FileResponse(full, headers={
        "Content-Type": row.content_type, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"{disposition}; filename*=UTF-8''"
                               + _quote(row.filename)})


def _quote(name: str) -> str:
    from urllib.parse import quote
    return quote(name, safe="")


PATH = "/api/work-orders/{order_id:\\d+}/attachments"
ROUTES = [
    RouteSpec("POST", PATH, upload,
              "Attach a photo or document (JPEG, PNG, PDF, Word, Excel; the body is the file, "
              "?filename=; at most HOTLINE_ATTACHMENT_MAX_MB): whoever sees the order",
              roles=("agent", "supervisor", "department"), tags=("work orders",),
              params=(("order_id", "path", "work order id"),
                      ("filename", "query", "the file's name"))),
    RouteSpec("GET", PATH, listing, "An order's attachments",
              roles=("agent", "supervisor", "department"), tags=("work orders",),
              params=(("order_id", "path", "work order id"),)),
    RouteSpec("GET", PATH + "/{attachment_id:\\d+}", download, "One attachment's file",
              roles=("agent", "supervisor", "department"), tags=("work orders",),
              params=(("order_id", "path", "work order id"),
                      ("attachment_id", "path", "attachment id"))),
]
