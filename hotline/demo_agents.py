"""Simulated call takers for the demo: they use the REST API and the live
WebSocket exactly as the web console does."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import aiohttp

from core.clock import Clock
from core.tasks import cancel_and_wait
from hotline.demo_desks import api_session
from pbxsim import PbxSim, PhoneBehaviour
from worksheets.districts import CODES as DISTRICT_CODES

log = logging.getLogger(__name__)

CATEGORIES = ["help", "complaint", "report", "consult", "suggest"]
TITLES = {
    "help": ["小区停水求助", "路灯不亮", "老人走失求助", "下水道堵塞"],
    "complaint": ["夜间施工噪音扰民", "物业收费不合理", "出租车拒载", "餐馆油烟扰民"],
    "report": ["无证经营", "违章搭建", "非法排污", "占道经营"],
    "consult": ["医保报销政策咨询", "公积金提取咨询", "户口迁移手续", "社保缴费基数"],
    "suggest": ["建议增加公交线路", "建议增设停车位", "建议延长图书馆开放时间"],
}


class AgentBot:
    def __init__(self, base_url: str, username: str, password: str, agent_id: int,
                 interface: str, sim: PbxSim, rng: random.Random, clock: Clock) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.agent_id = agent_id
        self.interface = interface
        self.sim = sim
        self.rng = rng
        self.clock = clock
        self.on_shift = False
        self._http: aiohttp.ClientSession | None = None
        self._listener: asyncio.Task[None] | None = None
        self._callbacks: asyncio.Task[None] | None = None
        self._visits: dict[int, asyncio.Future[str]] = {}  # 回访 calls under way
        self._work: set[asyncio.Task[None]] = set()
        self._departments: list[dict[str, Any]] = []
        self.orders_submitted = 0

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = await api_session(self.base_url, self.username, self.password)
            async with self._http.get("/api/departments") as r:
                self._departments = (await r.json())["departments"]
        return self._http

    async def start_shift(self) -> None:
        """Check in to the queues; the backend adds the agent when the shift starts."""
        if self.on_shift:
            return
        http = await self._session()
        async with http.post("/api/agent/queues/login") as r:
            if r.status != 200:
                log.warning("%s could not join the queues: %s", self.username, await r.text())
                return
        self.on_shift = True
        if self._callbacks is None or self._callbacks.done():
            self._callbacks = asyncio.create_task(self.call_back_now_and_then(),
                                                  name=f"callbacks-{self.username}")
        if self._listener is None or self._listener.done():
            ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(ready),
                                                 name=f"bot-{self.username}")
            await asyncio.wait_for(ready.wait(), 10)

    def shift_over(self) -> None:
        """The backend takes the agent off the queues after their call and
        wrap-up; the bot keeps listening so it still finishes its last order."""
        self.on_shift = False

    async def _listen(self, ready: asyncio.Event) -> None:
        http = await self._session()
        async with http.ws_connect("/api/ws") as ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                event = msg.json()
                if event.get("type") == "hello":
                    ready.set()
                elif event.get("type") in ("order.draft", "callback.answered") and \
                        event.get("agent_id") == self.agent_id and event.get("order_id"):
                    # An answered call, or a citizen reached by a callback:
                    # either way an order to write.
                    self._spawn(self._complete(event["order_id"]))
                elif event.get("type") == "visit.call_ended" and \
                        event.get("agent_id") == self.agent_id:
                    waiting = self._visits.get(event.get("order_id"))
                    if waiting is not None and not waiting.done():
                        waiting.set_result(event.get("result"))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _visit_one(self, http: aiohttp.ClientSession) -> None:
        """回访: call one citizen (click-to-call) and record their verdict."""
        async with http.get("/api/worklists/visits") as r:
            orders = (await r.json()).get("work_orders", []) if r.status == 200 else []
        if not orders:
            return
        order_id = self.rng.choice(orders[:5])["id"]  # not all on the same citizen
        ended = asyncio.get_running_loop().create_future()
        self._visits[order_id] = ended  # before asking: a quick failure may come first
        try:
            async with http.post(f"/api/work-orders/{order_id}/visit/call") as r:
                if r.status != 202:
                    return  # someone else is calling them, or the PBX is away
            outcome = await asyncio.wait_for(ended, 300)
        except TimeoutError:
            return
        finally:
            self._visits.pop(order_id, None)
        if outcome == "reached":
            result = self.rng.choices(["satisfied", "basically_satisfied", "dissatisfied"],
                                      [80, 15, 5])[0]
        elif outcome in ("no_answer", "busy", "unreachable"):
            result = "unreachable"
        else:
            return  # our side failed (phone, hang-up, PBX): try again another time
        async with http.post(f"/api/work-orders/{order_id}/visit",
                             json={"result": result, "note": ""}) as r:
            if r.status != 200:
                log.info("%s: visit refused: %s", self.username, await r.text())

    async def call_back_now_and_then(self) -> None:
        """Between calls, now and then make a 回访 and take the most urgent
        callback task, as an agent does from the console's lists."""
        while True:
            await asyncio.sleep(self.rng.uniform(60, 180))
            if not self.on_shift:
                continue
            http = await self._session()
            await self._visit_one(http)
            async with http.get("/api/callbacks?status=open") as r:
                tasks = (await r.json()).get("callbacks", []) if r.status == 200 else []
            if not tasks:
                continue
            async with http.post(f"/api/callbacks/{tasks[0]['id']}/call") as r:
                if r.status == 202:
                    log.info("%s calls back task %s", self.username, tasks[0]["id"])

    async def _complete(self, order_id: int) -> None:
        """Write the order while talking, submit it within the 10 minutes."""
        await asyncio.sleep(self.rng.uniform(40, 240))
        http = await self._session()
        async with http.get(f"/api/work-orders/{order_id}") as r:
            order = await r.json()
        category = order["category"] if order["category"] in CATEGORIES else \
            self.rng.choice(CATEGORIES)
        on_call = category == "consult" and self.rng.random() < 0.5
        body = {
            "title": self.rng.choice(TITLES[category]),
            "description": "市民来电反映：" + self.rng.choice(TITLES[category]) + "，请尽快处理。",
            "category": category,
            "complexity": (self.rng.choice(["ordinary"] * 4 + ["complex"])
                           if category == "help" else None),
            "department_id": None if on_call else self.rng.choice(self._departments)["id"],
            "answered_on_call": on_call,
            "district": self.rng.choice(DISTRICT_CODES),
        }
        if not on_call:  # the rules' suggestion, as an agent would take it
            async with http.post("/api/department-suggestions", json=body) as r:
                found = (await r.json()).get("suggestions", []) if r.status == 200 else []
            if found:
                body["department_id"] = found[0]["department_id"]
        if on_call:
            body["kb_article_id"] = await self._answer_from_kb(http, body["title"])
        async with http.post(f"/api/work-orders/{order_id}/submit", json=body) as r:
            if r.status == 200:
                self.orders_submitted += 1
            else:
                log.warning("%s could not submit order %s: %s", self.username, order_id,
                            await r.text())
        # The next call will be a different conversation.
        self.sim.set_phone_behaviour(self.interface, PhoneBehaviour(
            answer_after=self.rng.uniform(1.0, 4.0), talk_seconds=self.rng.uniform(60, 180)))

    async def _answer_from_kb(self, http: aiohttp.ClientSession, said: str) -> int | None:
        """The article a real agent would answer this consultation from, if any."""
        async with http.post("/api/kb/suggest", json={"text": said, "limit": 1}) as r:
            found = (await r.json()).get("articles", []) if r.status == 200 else []
        return found[0]["id"] if found else None

    async def close(self) -> None:
        await cancel_and_wait([self._listener, self._callbacks, *self._work])
        if self._http is not None:
            await self._http.close()
