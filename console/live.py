"""The console's live WebSocket, ``/api/ws``.

Protocol (server to client, JSON text messages):

* ``{"type": "hello", "user": {...}}``
* ``{"type": "snapshot", "stream": S, "seq": N, "replay": bool, "state": {...}}``:
  the live state this user may see, as of event N of stream S.  With
  ``replay`` true, the events after the client's ``?after=`` follow (it
  asked with ``?stream=S``, and this instance still holds them); with
  ``replay`` false the client must reload what it shows (lists come from
  the REST API).
* every event the user may see: ``{"type": ..., "seq": n, ...fields}``,
  numbered in the stream.  Numbers the user may not see are skipped, so
  gaps are normal; a client keeps the last number it saw.
* ``{"type": "pong"}`` to the client's ``ping``.

A client that falls behind (more than the bus's backlog unsent) is closed
with code 1013 and a reason; one whose stream restarted (events lost
between instances) with code 1012.  Either reconnects with
``?stream=S&after=N`` and gets a snapshot and what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from agents.http import STAFFING_KEY
from console import auth
from console.auth import Principal
from console.routing_table import json_error
from core import accounts
from core.bus import FELL_BEHIND, Delivery, EventBus, Subscription, SubscriptionClosed
from core.events import SUPERVISORS
from floor.service import FLOOR_KEY
from hotline.deps import Deps

log = logging.getLogger(__name__)

# How long a closing console may take to read its close frame before the
# connection is cut (its close frame still waits in the socket for it).
CLOSE_GRACE_SECONDS = 5.0
# Kernel send buffer of a console's socket: small enough that a console that
# stops reading is noticed after its backlog, not after megabytes.
SEND_BUFFER_BYTES = 64 * 1024
# Open live connections per user: a console in a few tabs; 300 from one login
# is an attack.  Clients only send "ping": a big message closes the
# connection (1009) rather than being buffered.
WS_OPEN_KEY: web.AppKey[dict[int, dict[web.WebSocketResponse, str]]] = web.AppKey(
    "ws_open", dict)
WS_PER_USER = 8
WS_MAX_MESSAGE = 4096
# A session ended on another instance (or expired) is noticed within this
# many seconds; on this instance, logout and an admin's action close at once.
SESSION_CHECK_SECONDS = 30.0
SESSION_ENDED = 4401  # private-use close code: log in again, do not reconnect as is


async def live_state(request: web.Request, p: Principal) -> dict[str, Any]:
    """What the console shows live, as this user may see it."""
    deps: Deps = request.app[auth.DEPS_KEY]
    staffing = request.app[STAFFING_KEY]
    states = staffing.states
    if p.role in SUPERVISORS:
        pbx = deps.pbx.live() if deps.pbx is not None else None
        floor = request.app.get(FLOOR_KEY)
        return {"agents": states.snapshot(), "pbx": pbx,
                "floor": floor.snapshot() if floor is not None else None}
    if p.role == "agent" and p.agent_id is not None:
        return {"agent": states.state_of(p.agent_id), "me": await staffing.desk.me(p.agent_id)}
    return {}


def _resume_point(request: web.Request) -> tuple[str | None, int | None]:
    stream = request.query.get("stream") or None
    try:
        after = int(request.query["after"]) if "after" in request.query else None
    except ValueError:
        after = None
    return stream, after


async def live(request: web.Request) -> web.WebSocketResponse:
    """Live events this user may see, numbered, after a snapshot."""
    deps: Deps = request.app[auth.DEPS_KEY]
    bus: EventBus = deps.bus
    p = auth.principal(request)
    sockets = request.app[WS_OPEN_KEY].setdefault(p.user_id, {})
    if len(sockets) >= WS_PER_USER:
        return json_error(429, "too_many_sockets",  # type: ignore[return-value]
                          f"at most {WS_PER_USER} live connections per user")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=WS_MAX_MESSAGE)
    sockets[ws] = request[auth.TOKEN_KEY]
    try:
        return await _live(request, deps, bus, p, ws)
    finally:
        sockets.pop(ws, None)
        if not sockets:
            request.app[WS_OPEN_KEY].pop(p.user_id, None)


async def end_live(app: web.Application, user_id: int, token: str | None = None) -> None:
    """Close the user's live connections on this instance (only the one
    session's with ``token``): their login ended, so must what they hear."""
    for ws, ws_token in list(app[WS_OPEN_KEY].get(user_id, {}).items()):
        if token is None or ws_token == token:
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(
                    ws.close(code=SESSION_ENDED, message=b"session ended; log in again"),
                    CLOSE_GRACE_SECONDS)


async def _session_ended(deps: Deps, token: str) -> None:
    """Return once the session behind ``token`` is no longer valid."""
    while True:
        await asyncio.sleep(SESSION_CHECK_SECONDS)
        now = deps.clock.now()
        if await deps.db.run(lambda s, now=now: accounts.user_for_token(s, token, now)) is None:
            return


async def _live(request: web.Request, deps: Deps, bus: EventBus, p: Principal,
                ws: web.WebSocketResponse) -> web.WebSocketResponse:
    await ws.prepare(request)
    _bound_send_buffer(request)

    # Subscribe and read the ring in one step (no await between): nothing is
    # missed and nothing is sent twice.
    sub = bus.subscribe(viewer=p, name=p.username)
    stream, after = _resume_point(request)
    missed = bus.since(stream, after)
    upto = bus.seq
    try:
        await ws.send_json({"type": "hello", "user": p.to_dict()})
        await ws.send_json({"type": "snapshot", "stream": bus.stream, "seq": upto,
                            "replay": missed is not None, "state": await live_state(request, p)},
                           dumps=_dumps)
        for delivery in missed or ():
            if delivery.seq <= upto and sub.wants(delivery.event, delivery.event.audience()):
                await ws.send_str(delivery.json())
        await _serve(ws, sub, _session_ended(deps, request[auth.TOKEN_KEY]))
    finally:
        bus.unsubscribe(sub)
    return ws


async def _serve(ws: web.WebSocketResponse, sub: Subscription,
                 session_ended: Coroutine[Any, Any, None]) -> None:
    pump = asyncio.create_task(_pump(ws, sub), name=f"ws-pump-{sub.name}")
    reader = asyncio.create_task(_read(ws), name=f"ws-read-{sub.name}")
    closed = asyncio.create_task(sub.closed.wait(), name=f"ws-closed-{sub.name}")
    ended = asyncio.create_task(session_ended, name=f"ws-session-{sub.name}")
    tasks = (pump, reader, closed, ended)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if ended.done() and not ended.cancelled() and ended.exception() is None:
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(
                ws.close(code=SESSION_ENDED, message=b"session ended; log in again"),
                CLOSE_GRACE_SECONDS)
    elif sub.closed_reason is not None:
        code = (WSCloseCode.TRY_AGAIN_LATER if sub.closed_reason == FELL_BEHIND
                else WSCloseCode.SERVICE_RESTART)
        reason = f"{sub.closed_reason}; reconnect to resync"
        log.info("live console %s closed: %s", sub.name, reason)
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(ws.close(code=code, message=reason.encode()),
                                   CLOSE_GRACE_SECONDS)
    elif not ws.closed:
        await ws.close()


async def _pump(ws: web.WebSocketResponse, sub: Subscription) -> None:
    with contextlib.suppress(SubscriptionClosed, ConnectionError):
        while True:
            delivery: Delivery = await sub.get()
            await ws.send_str(delivery.json())


async def _read(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.TEXT and msg.data == "ping":
            await ws.send_json({"type": "pong"})
        elif msg.type == WSMsgType.ERROR:
            return


def _bound_send_buffer(request: web.Request) -> None:
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, default=str)
